import type { BrowserTools } from './browser/browser-tools.js';

/**
 * What the visual-terminal tools take and return. The tools are library functions over a
 * Workstation; the agent wraps them as model tools with zod schemas.
 */
import type { DisplayWindow } from './terminal/display-windows.js';
import type { ProgramActivity } from './terminal/program-state.js';
import type { PromptLine } from './terminal/prompt-line.js';

export type { DisplayWindow } from './terminal/display-windows.js';
export type { PromptLine } from './terminal/prompt-line.js';

/** A rectangle of the display, in the screenshot's pixels. */
export interface ScreenRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

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
  /**
   * `changes`: the PNG is only the part of the display that changed since the last look (the
   * bounding box of `visualChanges.regions`), the full display when nothing is known to differ.
   */
  crop?: 'changes';
  /** Add tesseract's text of the whole display (for windows other than the terminal). */
  ocr?: boolean;
  signal?: AbortSignal;
}

/** What is on the terminal besides its text. */
export interface TerminalInfo {
  /** Whether the terminal has the keyboard focus (undefined: no terminal client attached). */
  focused: boolean | undefined;
  /** The visible tmux window. */
  window: { index: number; name: string };
  panes: number;
}

/** What the terminal's foreground program is doing. */
export interface ProgramInfo {
  activity: ProgramActivity;
  /** The program's name (e.g. `make`) and command line (untrusted text). */
  name: string;
  command: string;
  runningMs: number;
  /** Since the terminal window last printed anything (1 s resolution), when known. */
  lastOutputAgoMs: number | undefined;
  /** One line, e.g. "still running: make (12 s, last output 3 s ago)". */
  summary: string;
}

/** Pixels that changed on the display since the previous look. */
export interface VisualChanges {
  /** Bounding boxes of the changed areas, in the screenshot's pixels (empty: nothing changed). */
  regions: ScreenRegion[];
  /** One line, e.g. "2 regions changed: 120x40 at (1100, 10), …". */
  summary: string;
}

export interface ScreenResult {
  /** PNG of the display (or of the changed region with `crop: 'changes'`), when asked for. */
  png?: Buffer;
  /** Where the PNG lies on the display and its scale (PNG pixels per display pixel). */
  image?: { region: ScreenRegion; width: number; height: number; scale: number; cropped: boolean };
  /**
   * The terminal as a person sees it, one string with \n between rows: the visible tmux window
   * with every pane in its place, the borders between them, and the status line.
   */
  text: string;
  width: number;
  height: number;
  /** The terminal cursor (0-based column and row in `text`). */
  cursor: { column: number; row: number };
  /** Focus, window and panes of the terminal (absent from results made elsewhere, e.g. test doubles). */
  terminal?: TerminalInfo;
  /** Top-level windows of the display, listed when the terminal does not have the focus. */
  windows?: DisplayWindow[];
  /** Pixel regions that changed since the previous screen() (absent after keyboard()). */
  visualChanges?: VisualChanges;
  /** ISO-8601 time of the capture. */
  timestamp: string;
  changes: ScreenChanges;
  ocrText?: string;
}

/**
 * What ended a wait: the program waits for `input`; the `pattern` appeared; the display was
 * `quiet`; the terminal's shell `exited`; the `timeout`; `none` (no wait asked).
 */
export type WaitOutcome = 'input' | 'quiet' | 'pattern' | 'exited' | 'timeout' | 'none';

export interface KeyboardOptions {
  /** Typed literally; \n, \t, \x1b and other control characters become their keys. */
  text?: string;
  /** Named keys and chords: "Enter", "Escape", "ctrl+c", "alt+x". Sent after `text`. */
  keys?: string[];
  wait?: {
    /**
     * `input`: wait until the program waits for input again (a long build back at its prompt),
     * however long it is quiet in between, up to the timeout. By default the wait also ends when
     * a running program has drawn nothing for `quietMs`.
     */
    waitFor?: 'input';
    /** With the default wait: a running program quiet this long ends it (default 500 ms). */
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
  /** The terminal's program when the wait ended (undefined when not waited for). */
  program?: ProgramInfo;
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

/**
 * The largest screenshot the model should get: the display scaled down (never up) to fit in
 * width × height and, when given, in maxPixels pixels.
 */
export interface ImageSize {
  width: number;
  height: number;
  maxPixels?: number | undefined;
}

/** The operations the model performs on one session's workstation. */
export interface VisualTools {
  /** The session's browser tools (Chromium starts on their first use). */
  readonly browser?: BrowserTools;
  /**
   * Sets the screenshot size of the model in use (undefined: the display's own size). Mouse
   * coordinates are read in the pixels of the last screenshot taken.
   */
  setImageSize?(size: ImageSize | undefined): void;
  screen(options?: ScreenOptions): Promise<ScreenResult>;
  keyboard(options: KeyboardOptions): Promise<KeyboardResult>;
  mouse(options: MouseOptions): Promise<MouseResult>;
  execute(command: string, options?: ExecuteOptions): Promise<ExecuteResult>;
  /** The command line under the terminal's cursor (read-only; the approval policy judges it before an Enter). */
  promptLine?(options?: { signal?: AbortSignal }): Promise<PromptLine>;
  /** The display's top-level windows, in screenshot pixels (read-only; the approval policy finds what a click lands on). */
  displayWindows?(options?: { signal?: AbortSignal }): Promise<DisplayWindow[]>;
}
