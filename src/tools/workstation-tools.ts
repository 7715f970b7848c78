import { performance } from 'node:perf_hooks';
import { NexoraError } from '../errors.js';
import { keyEventsForInput, type RfbClient } from '../rfb/index.js';
import type { BrowserTools } from './browser/browser-tools.js';
import type { ExecChannel } from './exec/exec-channel.js';
import { encodePng } from './png-encode.js';
import { diffScreens } from './screen-diff.js';
import type { TmuxControl } from './terminal/tmux-control.js';
import type {
  ExecuteOptions,
  ExecuteResult,
  KeyboardOptions,
  KeyboardResult,
  MouseOptions,
  MouseResult,
  ScreenOptions,
  ScreenResult,
  VisualTools,
  WaitOutcome,
} from './types.js';

export interface WorkstationToolsOptions {
  rfb: RfbClient;
  terminal: TmuxControl;
  commands: ExecChannel;
  /** Bytes of output kept per stream by execute() (head + tail). Default 64 KiB. */
  maxOutputBytes?: number;
  /** execute()'s default timeout. Default 120 s. */
  defaultTimeoutMs?: number;
  browser?: BrowserTools;
}

const defaultQuietMs = 150;
const defaultWaitTimeoutMs = 5000;
const maxTimeoutMs = 60 * 60 * 1000;
const buttonMasks = { left: 1, middle: 2, right: 4 } as const;
const wheelUp = 8;
const wheelDown = 16;

function invalid(message: string): NexoraError {
  return new NexoraError('invalid-argument', message);
}

function checkTimeout(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value <= 0 || value > maxTimeoutMs) {
    throw invalid(`${name} must be a number of milliseconds between 1 and ${maxTimeoutMs}; got ${value}`);
  }
}

/**
 * screen(), keyboard(), mouse() and execute() over one session's channels: the RFB
 * connection (framebuffer mirror, keys, pointer), a tmux control client (exact terminal
 * text) and the command server (execute).
 */
export class WorkstationTools implements VisualTools {
  readonly browser: BrowserTools | undefined;
  private readonly rfb: RfbClient;
  private readonly terminal: TmuxControl;
  private readonly commands: ExecChannel;
  private readonly maxOutputBytes: number;
  private readonly defaultTimeoutMs: number;
  private previousRows: string[] | undefined;
  private pngCache: { at: number; width: number; height: number; png: Buffer } | undefined;

  constructor(options: WorkstationToolsOptions) {
    this.rfb = options.rfb;
    this.browser = options.browser;
    this.terminal = options.terminal;
    this.commands = options.commands;
    this.maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 120_000;
  }

  async screen(options: ScreenOptions = {}): Promise<ScreenResult> {
    const pane = await this.terminal.pane();
    const changes = diffScreens(this.previousRows, pane.rows);
    this.previousRows = pane.rows;
    const result: ScreenResult = {
      text: pane.rows.join('\n'),
      width: this.rfb.width,
      height: this.rfb.height,
      cursor: pane.cursor,
      timestamp: new Date().toISOString(),
      changes,
    };
    if (options.image !== false) result.png = this.currentPng();
    if (options.ocr) result.ocrText = await this.ocr(options.signal);
    return result;
  }

  /**
   * The terminal's text for an onlooker (the TUI's pane): read through the same tmux
   * control client, without moving the "changed since the last look" baseline of screen().
   */
  async terminalText(): Promise<string> {
    return (await this.terminal.pane()).rows.join('\n');
  }

  async keyboard(options: KeyboardOptions): Promise<KeyboardResult> {
    const keys = options.keys ?? [];
    if (!Array.isArray(keys)) throw invalid('keys must be a list of key names or chords, e.g. ["Enter"] or ["ctrl+c"]');
    if ((options.text === undefined || options.text === '') && keys.length === 0) {
      throw invalid('keyboard needs `text` to type or `keys` to press (e.g. { text: "ls\\n" } or { keys: ["ctrl+c"] })');
    }
    const wait = options.wait === false ? undefined : (options.wait ?? {});
    checkTimeout('wait.timeoutMs', wait?.timeoutMs);
    if (wait?.quietMs !== undefined && (!Number.isFinite(wait.quietMs) || wait.quietMs <= 0 || wait.quietMs > 60_000)) {
      throw invalid(`wait.quietMs must be between 1 and 60000 milliseconds; got ${wait.quietMs}`);
    }
    const pattern = wait?.pattern === undefined ? undefined : toPattern(wait.pattern);
    const events = keyEventsForInput({ text: options.text, keys });
    const sentAt = performance.now();
    this.rfb.typeKeys(events);
    const keystrokes = events.filter((event) => event.down).length;

    let outcome: WaitOutcome = 'none';
    if (wait) {
      const timeoutMs = wait.timeoutMs ?? defaultWaitTimeoutMs;
      outcome = pattern
        ? await this.waitForPattern(pattern, sentAt, timeoutMs, options.signal)
        : await this.waitForQuiet(wait.quietMs ?? defaultQuietMs, sentAt, timeoutMs, options.signal);
      // tmux knows the text before xterm has drawn it: let the display catch up so the
      // next screenshot shows what the text says.
      if (outcome === 'pattern') await this.rfb.waitForQuiet({ quietMs: 40, timeoutMs: 1000, ...(options.signal ? { signal: options.signal } : {}) });
    }
    const waitedMs = performance.now() - sentAt;
    const screen = await this.screen({ image: false });
    return { keystrokes, wait: { outcome, waitedMs }, screen };
  }

  async mouse(options: MouseOptions): Promise<MouseResult> {
    const { width, height } = this.rfb;
    const inside = (x: number | undefined, y: number | undefined, label: string): void => {
      if (x === undefined || y === undefined || !Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= width || y >= height) {
        throw invalid(`${label} (${x}, ${y}) is off the screen: x must be 0–${width - 1} and y 0–${height - 1}, in the PNG's pixels`);
      }
    };
    inside(options.x, options.y, 'the position');
    const button = buttonMasks[options.button ?? (options.action === 'right_click' ? 'right' : 'left')];
    if (button === undefined) throw invalid(`unknown mouse button ${String(options.button)}: use left, middle or right`);
    const sentAt = performance.now();
    const { x, y } = options;
    switch (options.action) {
      case 'move':
        this.rfb.pointer(x, y, 0);
        break;
      case 'click':
      case 'right_click':
        this.click(x, y, button, 1);
        break;
      case 'double_click':
        this.click(x, y, button, 2);
        break;
      case 'drag': {
        inside(options.toX, options.toY, 'the drag target');
        this.rfb.pointer(x, y, 0);
        this.rfb.pointer(x, y, button);
        const steps = 8;
        for (let step = 1; step <= steps; step++) {
          this.rfb.pointer(Math.round(x + ((options.toX! - x) * step) / steps), Math.round(y + ((options.toY! - y) * step) / steps), button);
        }
        this.rfb.pointer(options.toX!, options.toY!, 0);
        break;
      }
      case 'scroll': {
        const amount = options.amount ?? 3;
        if (!Number.isInteger(amount) || amount === 0 || Math.abs(amount) > 100) {
          throw invalid(`scroll amount must be a non-zero whole number of wheel clicks up to 100 (negative scrolls up); got ${amount}`);
        }
        const wheel = amount > 0 ? wheelDown : wheelUp;
        this.rfb.pointer(x, y, 0);
        for (let click = 0; click < Math.abs(amount); click++) {
          this.rfb.pointer(x, y, wheel);
          this.rfb.pointer(x, y, 0);
        }
        break;
      }
      default:
        throw invalid(`unknown mouse action ${String(options.action)}: use move, click, double_click, right_click, drag or scroll`);
    }
    const outcome = await this.waitForQuiet(defaultQuietMs, sentAt, 2000, options.signal);
    return { action: options.action, x, y, wait: { outcome, waitedMs: performance.now() - sentAt } };
  }

  async execute(command: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    if (typeof command !== 'string' || command.trim() === '') throw invalid('execute needs a command, e.g. execute("go test ./...")');
    checkTimeout('timeoutMs', options.timeoutMs);
    if (options.cwd !== undefined && !options.cwd.startsWith('/')) {
      throw invalid(`cwd must be an absolute path inside the workstation (e.g. /workspace/src); got ${options.cwd}`);
    }
    for (const name of Object.keys(options.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw invalid(`env name ${JSON.stringify(name)} is not a valid variable name`);
    }
    const result = await this.commands.run(command, {
      cwd: options.cwd ?? '/workspace',
      env: options.env,
      timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs,
      maxBytes: this.maxOutputBytes,
      signal: options.signal,
    });
    return {
      stdout: result.stdout,
      stderr: result.stderr,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      timedOut: result.timedOut,
      truncated: result.truncated,
    };
  }

  private click(x: number, y: number, button: number, times: number): void {
    this.rfb.pointer(x, y, 0);
    for (let count = 0; count < times; count++) {
      this.rfb.pointer(x, y, button);
      this.rfb.pointer(x, y, 0);
    }
  }

  /** The PNG of the mirror; re-encoded only when the framebuffer changed since the last one. */
  private currentPng(): Buffer {
    const { width, height, lastUpdateAt } = this.rfb;
    const cached = this.pngCache;
    if (cached && cached.at === lastUpdateAt && cached.width === width && cached.height === height) return cached.png;
    // Encoding is synchronous, so the mirror cannot change underneath it.
    const png = encodePng(this.rfb.framebuffer, width, height);
    this.pngCache = { at: lastUpdateAt, width, height, png };
    return png;
  }

  private async waitForQuiet(quietMs: number, since: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<WaitOutcome> {
    const result = await this.rfb.waitForQuiet({ quietMs, since, timeoutMs, ...(signal ? { signal } : {}) });
    return result.outcome === 'timeout' ? 'timeout' : 'quiet';
  }

  private async waitForPattern(pattern: RegExp, since: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<WaitOutcome> {
    const deadline = since + timeoutMs;
    let checkedAt = since;
    for (;;) {
      const pane = await this.terminal.pane();
      if (pattern.test(pane.rows.join('\n'))) return 'pattern';
      const remaining = deadline - performance.now();
      if (remaining <= 0) return 'timeout';
      // The terminal can only change with the display: wait for the next framebuffer change.
      const update = await this.rfb.waitForUpdate({ after: checkedAt, timeoutMs: remaining, ...(signal ? { signal } : {}) });
      checkedAt = update.lastUpdateAt;
      if (update.outcome === 'timeout') {
        const last = await this.terminal.pane();
        return pattern.test(last.rows.join('\n')) ? 'pattern' : 'timeout';
      }
    }
  }

  private async ocr(signal: AbortSignal | undefined): Promise<string> {
    const result = await this.commands.run('import -display :1 -window root png:- | tesseract stdin stdout -l eng 2>/dev/null', {
      cwd: '/tmp',
      timeoutMs: 60_000,
      maxBytes: 256 * 1024,
      signal,
    });
    if (result.exitCode !== 0) throw new NexoraError('workstation-failed', `OCR failed (exit ${result.exitCode}): ${result.stderr.trim() || 'no message'}`);
    return result.stdout;
  }
}

function toPattern(pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp) return pattern;
  if (pattern === '') throw invalid('wait.pattern must not be empty');
  // A plain string is matched literally.
  return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
