import type { BrowserTools } from './browser/browser-tools.js';

/**
 * What the visual-terminal tools take and return. The tools are library functions over a
 * Workstation; the agent wraps them as model tools with zod schemas.
 */

/** Lines of the terminal that differ from this session's previous look. */
export interface ScreenChanges {
  /** True when there was no previous look to compare with. */
  firstLook: boolean;
  /** 0-based row and its new text, for every row that changed. */
  changedLines: { row: number; text: string }[];
  /** One line for people and models, e.g. "3 lines changed (rows 4-6)" or "no change". */
  summary: string;
}

export interface ScreenOptions {
  /** Encode a PNG of the display (default true). Text-only callers skip the encoding. */
  image?: boolean;
  /** Add tesseract's text of the whole display (for windows other than the terminal). */
  ocr?: boolean;
  signal?: AbortSignal;
}

export interface ScreenResult {
  /** PNG of the display, when asked for. */
  png?: Buffer;
  /** The exact visible text of the terminal's active tmux pane, one string with \n between rows. */
  text: string;
  width: number;
  height: number;
  /** The terminal cursor (0-based column and row in the pane). */
  cursor: { column: number; row: number };
  /** ISO-8601 time of the capture. */
  timestamp: string;
  changes: ScreenChanges;
  ocrText?: string;
}

export type WaitOutcome = 'quiet' | 'pattern' | 'timeout' | 'none';

export interface KeyboardOptions {
  /** Typed literally; \n, \t, \x1b and other control characters become their keys. */
  text?: string;
  /** Named keys and chords: "Enter", "Escape", "ctrl+c", "alt+x". Sent after `text`. */
  keys?: string[];
  wait?: {
    /** Wait until the display has been quiet this long (default 150 ms). */
    quietMs?: number;
    /** Or until this pattern appears in the terminal text. */
    pattern?: string | RegExp;
    /** Upper bound on the wait (default 5000 ms). */
    timeoutMs?: number;
  } | false;
  signal?: AbortSignal;
}

export interface KeyboardResult {
  /** How many key presses were sent. */
  keystrokes: number;
  /** How the wait ended and how long it took. */
  wait: { outcome: WaitOutcome; waitedMs: number };
  /** The terminal after the wait (text and what changed; no PNG). */
  screen: ScreenResult;
}

export type MouseAction = 'move' | 'click' | 'double_click' | 'right_click' | 'drag' | 'scroll';

export interface MouseOptions {
  action: MouseAction;
  x: number;
  y: number;
  /** For drag: where to release. */
  toX?: number;
  toY?: number;
  /** For scroll: positive scrolls down, negative up (wheel clicks). */
  amount?: number;
  button?: 'left' | 'middle' | 'right';
  signal?: AbortSignal;
}

export interface MouseResult {
  action: MouseAction;
  x: number;
  y: number;
  wait: { outcome: WaitOutcome; waitedMs: number };
}

export interface ExecuteOptions {
  timeoutMs?: number;
  /** Working directory inside the workstation (default /workspace). */
  cwd?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ExecuteResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  durationMs: number;
  timedOut: boolean;
  truncated: boolean;
}

/** The operations the model performs on one session's workstation. */
export interface VisualTools {
  /** The session's browser tools (Chromium starts on their first use). */
  readonly browser?: BrowserTools;
  screen(options?: ScreenOptions): Promise<ScreenResult>;
  keyboard(options: KeyboardOptions): Promise<KeyboardResult>;
  mouse(options: MouseOptions): Promise<MouseResult>;
  execute(command: string, options?: ExecuteOptions): Promise<ExecuteResult>;
}
