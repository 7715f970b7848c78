import type { Cost } from '../providers/cost.js';
import type { FailureKind } from '../providers/retry.js';

/** How a run ended. Only `completed` is a success. */
export type RunOutcome = 'completed' | 'max-steps' | 'budget' | 'interrupted' | 'failed';

/**
 * What the agent loop reports as it works, in order. The CLI prints them, the TUI and the
 * web view render them, and all but `text-delta` are written to the session's events table.
 */
export type AgentEvent =
  | { type: 'run-start'; sessionId: string; task: string; candidates: string[]; maxSteps: number; maxCostUsd: number | undefined }
  | { type: 'step-start'; step: number; model: string }
  | { type: 'text-delta'; step: number; text: string }
  | { type: 'model-retry'; step: number; model: string; attempt: number; failure: FailureKind; error: string; delayMs: number }
  | { type: 'model-fallback'; step: number; from: string; to: string; failure: FailureKind; error: string }
  | { type: 'tool-call-start'; step: number; toolCallId: string; toolName: string; input: unknown }
  | {
      type: 'tool-call-end';
      step: number;
      toolCallId: string;
      toolName: string;
      /** One line for logs: "exit 0, 12 ms, 2 lines of stdout". */
      summary: string;
      isError: boolean;
      durationMs: number;
      /** A screenshot went to the model with this result. */
      imageSent: boolean;
    }
  | {
      type: 'step-end';
      step: number;
      model: string;
      text: string;
      toolCalls: number;
      finishReason: string;
      cost: Cost;
      sessionCost: Cost;
      durationMs: number;
    }
  | { type: 'run-end'; outcome: RunOutcome; reason: string; steps: number; durationMs: number; cost: Cost; finalText: string };

export type AgentEventType = AgentEvent['type'];
