import type { GitReport } from '../client/api-schemas.js';
import type { NexoraClient } from '../client/nexora-client.js';
import type { BrowserResult, DisplayWindow, ExecuteResult, KeyboardResult, MouseResult, PromptLine, Screen, SessionEvent, SessionInfo } from './api-types.js';
import { requestOptions, type CallOptions } from './call-options.js';

export interface ScreenOptions extends CallOptions {
  /** Encode a PNG of the display (default true). */
  image?: boolean;
  /** Also read the whole display by OCR (slow; for windows other than the terminal). */
  ocr?: boolean;
  /** `changes`: the PNG shows only what changed since the last look. */
  crop?: 'changes';
}

export interface KeyboardOptions extends CallOptions {
  /** Typed literally; "\n" is Enter. */
  text?: string;
  /** Keys and chords pressed after the text: ["Enter"], ["ctrl+c"]. */
  keys?: string[];
  /** "input": until the program waits for input; other text: until it appears on the terminal. */
  waitFor?: string;
  /** Longest wait for the screen to settle (default 5000), and the call's deadline on top of it. */
  waitMs?: number;
}

export interface MouseOptions extends CallOptions {
  action: 'move' | 'click' | 'double_click' | 'right_click' | 'drag' | 'scroll';
  x: number;
  y: number;
  toX?: number;
  toY?: number;
  amount?: number;
  button?: 'left' | 'middle' | 'right';
}

export interface ExecuteOptions extends CallOptions {
  /** Working directory in the workstation (default /workspace). */
  cwd?: string;
}

/** The browser tools by name, as the model calls them (`browser_navigate` → `navigate`). */
export type BrowserAction = 'navigate' | 'tabs' | 'snapshot' | 'click' | 'type' | 'select' | 'press' | 'scroll' | 'screenshot' | 'console' | 'network-errors';

/** Slack on top of a wait the server does, so the call's deadline is not the first to fire. */
const slackMs = 30_000;

/**
 * One session: a workstation with the workspace mounted at /workspace. Its tools are the
 * model's tools (same inputs, same checks, run by the server over the session's shared
 * channels).
 */
export class Session {
  readonly id: string;
  private readonly client: NexoraClient;
  private readonly path: string;

  constructor(options: { client: NexoraClient; id: string }) {
    this.client = options.client;
    this.id = options.id;
    this.path = `/v1/sessions/${encodeURIComponent(options.id)}`;
  }

  /** The session's record (status, workspace, ports). Default deadline 30 s. */
  async info(options?: CallOptions): Promise<SessionInfo> {
    return (await this.client.get<{ session: SessionInfo }>(this.path, requestOptions(options, 30_000))).session;
  }

  /** The display: terminal text, cursor, what changed, and a PNG. Default deadline 60 s. */
  async screen(options: ScreenOptions = {}): Promise<Screen> {
    const query = new URLSearchParams({ image: options.image === false ? '0' : '1', ...(options.ocr ? { ocr: '1' } : {}), ...(options.crop ? { crop: options.crop } : {}) });
    const answer = await this.client.get<Omit<Screen, 'png'> & { png: string | null }>(`${this.path}/screen?${query.toString()}`, requestOptions(options, 60_000));
    const { png, ...rest } = answer;
    return { ...rest, ...(png ? { png: Buffer.from(png, 'base64') } : {}) };
  }

  /** The terminal's cursor line and the foreground program: what an Enter would submit (read-only). Default deadline 30 s. */
  promptLine(options?: CallOptions): Promise<PromptLine> {
    return this.client.get<PromptLine>(`${this.path}/prompt-line`, requestOptions(options, 30_000));
  }

  /** The display's top-level windows in screenshot pixels (read-only). Default deadline 30 s. */
  async windows(options?: CallOptions): Promise<DisplayWindow[]> {
    return (await this.client.get<{ windows: DisplayWindow[] }>(`${this.path}/windows`, requestOptions(options, 30_000))).windows;
  }

  /** Types text and presses keys, then waits until the screen settles. Default deadline: the wait + 30 s. */
  keyboard(options: KeyboardOptions): Promise<KeyboardResult> {
    const body = {
      ...(options.text !== undefined ? { text: options.text } : {}),
      ...(options.keys !== undefined ? { keys: options.keys } : {}),
      ...(options.waitFor !== undefined ? { waitFor: options.waitFor } : {}),
      ...(options.waitMs !== undefined ? { timeoutMs: options.waitMs } : {}),
    };
    return this.client.post<KeyboardResult>(`${this.path}/keyboard`, body, requestOptions(options, (options.waitMs ?? 5000) + slackMs));
  }

  /** Moves, clicks, drags or scrolls the mouse (display pixels). Default deadline 30 s. */
  mouse(options: MouseOptions): Promise<MouseResult> {
    const { signal: _signal, timeoutMs: _timeoutMs, ...body } = options;
    return this.client.post<MouseResult>(`${this.path}/mouse`, body, requestOptions(options, 30_000));
  }

  /**
   * Runs a bash command line on the side channel (not the visible terminal). `timeoutMs`
   * kills the command after that long (default 60 s); the call waits that long + 30 s.
   */
  execute(command: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const commandTimeoutMs = options.timeoutMs ?? 60_000;
    const body = { command, timeoutMs: commandTimeoutMs, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) };
    return this.client.post<ExecuteResult>(`${this.path}/execute`, body, requestOptions({ ...options, timeoutMs: commandTimeoutMs + slackMs }, 0));
  }

  /** One browser tool call (Chromium starts on the first). Default deadline 150 s. */
  async browser(action: BrowserAction, input: Record<string, unknown> = {}, options?: CallOptions): Promise<BrowserResult> {
    const answer = await this.client.post<Omit<BrowserResult, 'png'> & { png: string | null }>(`${this.path}/browser/${action}`, input, requestOptions(options, 150_000));
    const { png, ...rest } = answer;
    return { ...rest, ...(png ? { png: Buffer.from(png, 'base64') } : {}) };
  }

  /** The session's recorded events (its transcript), oldest first, after an event id. Default deadline 30 s. */
  async events(options: CallOptions & { after?: number; limit?: number } = {}): Promise<SessionEvent[]> {
    const query = new URLSearchParams({ ...(options.after !== undefined ? { after: String(options.after) } : {}), ...(options.limit !== undefined ? { limit: String(options.limit) } : {}) });
    return (await this.client.get<{ events: SessionEvent[] }>(`${this.path}/events?${query.toString()}`, requestOptions(options, 30_000))).events;
  }

  /**
   * Ends the session: its workstation is removed, its record and transcript kept. `git` says
   * what the stop's git-metadata check found and moved aside (null when the session had no
   * baseline). Default deadline 120 s.
   */
  async stop(options: CallOptions & { reason?: string } = {}): Promise<SessionInfo & { git: GitReport | null }> {
    const body = options.reason !== undefined ? { reason: options.reason } : {};
    const reply = await this.client.post<{ session: SessionInfo; git?: GitReport | null }>(`${this.path}/stop`, body, requestOptions(options, 120_000));
    return { ...reply.session, git: reply.git ?? null };
  }
}
