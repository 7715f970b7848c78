import type { Approver } from '../agent/approval.js';
import type { AgentEvent } from '../agent/events.js';

/** A session as /sessions lists it. */
export interface TuiSessionSummary {
  id: string;
  status: string;
  model: string;
  workspaceDir: string | null;
  createdAt: Date;
}

/** A conversation as /resume lists it. */
export interface TuiConversationSummary {
  sessionId: string;
  status: string;
  model: string;
  createdAt: Date;
  /** Its first task, for recognising it. */
  task: string;
}

/**
 * What the TUI asks of the program around it (the CLI wires sessions, the agent loop, the
 * web view): the TUI itself only renders and dispatches.
 */
export interface TuiHost {
  /** Runs the agent on `task` in the current session (starting one if needed); events go to `onEvent`. */
  run(task: string, options: { onEvent: (event: AgentEvent) => void; signal: AbortSignal; approver?: Approver }): Promise<void>;
  /** The terminal text of the session's workstation now, or undefined without a session. */
  screenText(): Promise<string | undefined>;
  listSessions(): Promise<TuiSessionSummary[]>;
  /** Switches to another active session; returns its model. */
  resumeSession(sessionId: string): Promise<{ sessionId: string; model: string | undefined }>;
  /** Conversations recorded in this project, newest first (optional: hosts without a store have none). */
  listConversations?(): Promise<TuiConversationSummary[]>;
  /** Carries a conversation on: the next task continues it; returns the session and the totals so far. */
  resumeConversation?(sessionId: string): Promise<{ sessionId: string; model: string | undefined; turns: number; sameWorkstation: boolean; totals: { usd: number; inputTokens: number; outputTokens: number } }>;
  /** Models the TUI can offer for /model. */
  listModels(): Promise<string[]>;
  /** Makes `model` the model of later runs; returns it normalised. */
  setModel(model: string): Promise<string>;
  /** Saves the display's PNG now; returns its path. */
  saveScreenshot(): Promise<string>;
  /** Starts (once) and opens the web view; returns its address. */
  openView(): Promise<string>;
  /** Ends the TUI: `keepSession` leaves the workstation running for a later resume. */
  quit(options: { keepSession: boolean }): Promise<void>;
}
