import type { AgentEvent } from '../agent/events.js';

/** One tool call as the transcript shows it. */
export interface ToolCallEntry {
  kind: 'tool';
  id: string;
  toolName: string;
  input: unknown;
  status: 'running' | 'done';
  summary?: string;
  isError?: boolean;
  durationMs?: number;
  imageSent?: boolean;
}

export type TranscriptEntry =
  | { kind: 'user'; id: string; text: string }
  | { kind: 'assistant'; id: string; step: number; text: string }
  | { kind: 'step'; id: string; step: number; model: string }
  | { kind: 'notice'; id: string; text: string; tone: 'info' | 'error' | 'success' }
  | ToolCallEntry;

/** Everything the TUI shows, built from agent events and the person's actions. */
export interface TuiState {
  sessionId: string | undefined;
  model: string | undefined;
  step: number;
  running: boolean;
  /** When the current (or last) run started, ms since the epoch. */
  runStartedAt: number | undefined;
  runEndedAt: number | undefined;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Cost of runs before the current one in this session. */
  earlierCostUsd: number;
  earlierInputTokens: number;
  earlierOutputTokens: number;
  entries: TranscriptEntry[];
  screenText: string;
  /** Tool calls shown with their full arguments and outcome. */
  expanded: boolean;
  /** Entries hidden below the viewport (0 = following the end). */
  scrollBack: number;
}

export function initialTuiState(options: { sessionId?: string; model?: string } = {}): TuiState {
  return {
    sessionId: options.sessionId,
    model: options.model,
    step: 0,
    running: false,
    runStartedAt: undefined,
    runEndedAt: undefined,
    inputTokens: 0,
    cachedInputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    earlierCostUsd: 0,
    earlierInputTokens: 0,
    earlierOutputTokens: 0,
    entries: [],
    screenText: '',
    expanded: false,
    scrollBack: 0,
  };
}

export type TuiAction =
  | { type: 'agent'; event: AgentEvent }
  | { type: 'submit'; text: string }
  | { type: 'notice'; text: string; tone?: 'info' | 'error' | 'success' }
  | { type: 'screen'; text: string }
  | { type: 'session'; sessionId: string | undefined; model?: string; earlier?: { usd: number; inputTokens: number; outputTokens: number } }
  | { type: 'model'; model: string }
  | { type: 'toggle-expanded' }
  | { type: 'scroll'; by: number }
  | { type: 'clear' };

let counter = 0;
const nextId = (): string => `e${++counter}`;

/** The TUI's state after one action. Pure, so it is tested without a terminal. */
export function reduceTui(state: TuiState, action: TuiAction): TuiState {
  switch (action.type) {
    case 'submit':
      return { ...state, entries: [...state.entries, { kind: 'user', id: nextId(), text: action.text }], scrollBack: 0 };
    case 'notice':
      return { ...state, entries: [...state.entries, { kind: 'notice', id: nextId(), text: action.text, tone: action.tone ?? 'info' }], scrollBack: 0 };
    case 'screen':
      return { ...state, screenText: action.text };
    case 'session':
      return {
        ...initialTuiState({ ...(action.sessionId ? { sessionId: action.sessionId } : {}), ...(action.model ?? state.model ? { model: action.model ?? state.model } : {}) }),
        // A resumed conversation's totals carry on.
        ...(action.earlier ? { earlierCostUsd: action.earlier.usd, earlierInputTokens: action.earlier.inputTokens, earlierOutputTokens: action.earlier.outputTokens } : {}),
        entries: state.entries,
        expanded: state.expanded,
      };
    case 'model':
      return { ...state, model: action.model };
    case 'toggle-expanded':
      return { ...state, expanded: !state.expanded };
    case 'scroll':
      return { ...state, scrollBack: Math.max(0, Math.min(state.entries.length - 1, state.scrollBack + action.by)) };
    case 'clear':
      return { ...state, entries: [], scrollBack: 0 };
    case 'agent':
      return reduceAgentEvent(state, action.event);
  }
}

function reduceAgentEvent(state: TuiState, event: AgentEvent): TuiState {
  switch (event.type) {
    case 'run-start':
      return {
        ...state,
        sessionId: event.sessionId,
        model: event.candidates[0] ?? state.model,
        running: true,
        step: 0,
        runStartedAt: Date.now(),
        runEndedAt: undefined,
        earlierCostUsd: state.earlierCostUsd + state.costUsd,
        earlierInputTokens: state.earlierInputTokens + state.inputTokens,
        earlierOutputTokens: state.earlierOutputTokens + state.outputTokens,
        costUsd: 0,
        inputTokens: 0,
        cachedInputTokens: 0,
        outputTokens: 0,
      };
    case 'step-start':
      return { ...state, step: event.step, model: event.model };
    case 'text-delta': {
      const last = state.entries.at(-1);
      if (last?.kind === 'assistant' && last.step === event.step) {
        return { ...state, entries: [...state.entries.slice(0, -1), { ...last, text: last.text + event.text }] };
      }
      return { ...state, entries: [...state.entries, { kind: 'assistant', id: nextId(), step: event.step, text: event.text }] };
    }
    case 'model-retry':
      return withNotice(state, `retrying ${event.model} (${event.failure}, attempt ${event.attempt})`, 'info');
    case 'model-fallback':
      return withNotice(state, `${event.from} failed (${event.failure}); falling back to ${event.to}`, 'error');
    case 'tool-call-start':
      return {
        ...state,
        entries: [...state.entries, { kind: 'tool', id: event.toolCallId, toolName: event.toolName, input: event.input, status: 'running' }],
      };
    case 'tool-call-end':
      return {
        ...state,
        entries: state.entries.map((entry) =>
          entry.kind === 'tool' && entry.id === event.toolCallId
            ? { ...entry, status: 'done', summary: event.summary, isError: event.isError, durationMs: event.durationMs, imageSent: event.imageSent }
            : entry,
        ),
      };
    case 'step-end': {
      // The streamed text may have missed nothing, but a model that does not stream text still answers here.
      const hasText = state.entries.some((entry) => entry.kind === 'assistant' && entry.step === event.step);
      const entries = !hasText && event.text.trim() ? [...state.entries, { kind: 'assistant' as const, id: nextId(), step: event.step, text: event.text }] : state.entries;
      return {
        ...state,
        entries,
        model: event.model,
        costUsd: event.sessionCost.usd,
        inputTokens: event.sessionCost.inputTokens,
        cachedInputTokens: event.sessionCost.cachedInputTokens,
        outputTokens: event.sessionCost.outputTokens,
      };
    }
    case 'run-end':
      return withNotice(
        { ...state, running: false, runEndedAt: (state.runStartedAt ?? Date.now()) + event.durationMs, costUsd: event.cost.usd, inputTokens: event.cost.inputTokens, outputTokens: event.cost.outputTokens, cachedInputTokens: event.cost.cachedInputTokens },
        `${event.outcome === 'completed' ? '✓' : '✗'} ${event.outcome}: ${event.reason} (${event.steps} steps, $${event.cost.usd.toFixed(4)})`,
        event.outcome === 'completed' ? 'success' : 'error',
      );
  }
}

function withNotice(state: TuiState, text: string, tone: 'info' | 'error' | 'success'): TuiState {
  return { ...state, entries: [...state.entries, { kind: 'notice', id: nextId(), text, tone }] };
}

/** The whole session's cost so far (earlier runs plus the current one). */
export function sessionTotals(state: TuiState): { usd: number; inputTokens: number; outputTokens: number } {
  return {
    usd: state.earlierCostUsd + state.costUsd,
    inputTokens: state.earlierInputTokens + state.inputTokens,
    outputTokens: state.earlierOutputTokens + state.outputTokens,
  };
}
