/**
 * What the server's API answers, as the SDK returns it. Plain JSON shapes (dates are ISO
 * strings), declared here so the SDK's types do not pull in the server's modules.
 */

export type SessionStatus = 'starting' | 'active' | 'stopping' | 'ended' | 'crashed';

export interface SessionInfo {
  id: string;
  status: SessionStatus;
  statusReason: string | null;
  workspaceDir: string | null;
  vncPort: number | null;
  cdpPort: number | null;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  /** The container's state when listed (`running`, `exited`, …), null without a container. */
  containerState?: string | null;
  /** Set when listed while parked (workstation paused): when the server stops and removes it. */
  keptUntil?: string | null;
}

export interface ScreenChanges {
  firstLook: boolean;
  changedLines: { row: number; text: string }[];
  summary: string;
}

export interface Screen {
  /** The terminal as a person sees it, rows separated by \n. */
  text: string;
  width: number;
  height: number;
  cursor: { column: number; row: number };
  timestamp: string;
  changes: ScreenChanges;
  /** A PNG of the display (absent when asked with `image: false`). */
  png?: Buffer;
  image?: { region: { x: number; y: number; width: number; height: number }; width: number; height: number; scale: number; cropped: boolean };
  ocrText?: string;
}

export type WaitOutcome = 'input' | 'pattern' | 'quiet' | 'exited' | 'timeout' | 'none' | (string & {});

export interface KeyboardResult {
  keystrokes: number;
  wait: { outcome: WaitOutcome; waitedMs: number };
  program?: { summary: string } & Record<string, unknown>;
  screen: Omit<Screen, 'png'>;
}

export interface MouseResult {
  action: string;
  x: number;
  y: number;
  wait: { outcome: WaitOutcome; waitedMs: number };
}

export interface ExecuteResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  durationMs: number;
  timedOut: boolean;
  truncated: boolean;
}

export interface BrowserResult {
  /** What the browser tool says (the model-facing text). */
  text: string;
  summary: string;
  /** The action failed in a way the caller can act on (a stale ref, a timeout). */
  isError: boolean;
  png?: Buffer;
}

/** One recorded event of a session (its transcript). */
export interface SessionEvent {
  id: number;
  sessionId: string;
  /** ISO-8601 time. */
  at: string;
  kind: string;
  payload: unknown;
  durationMs: number | null;
}

/** What a run streams, in order: `run` once, `output` any number of times, then `end` or `error`. */
export type RunEvent =
  | { type: 'run'; id: string }
  | { type: 'output'; text: string }
  | { type: 'end'; outcome: string; reason?: string; sessionId: string; sessionStopped: boolean; steps: number }
  | { type: 'error'; code: string; message: string };

// The shapes the routes return are the tools' own: taken from them (type-only, so nothing loads).
/** The terminal's cursor line: what an Enter would submit. Text from the workstation: untrusted. */
export type { PromptLine } from '../tools/terminal/prompt-line.js';
/** A top-level window of the display, in screenshot pixels. */
export type { DisplayWindow } from '../tools/terminal/display-windows.js';
