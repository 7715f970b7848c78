import { performance } from 'node:perf_hooks';
import { NexoraError } from '../errors.js';
import { keyEventsForInput, type RfbClient } from '../rfb/index.js';
import type { BrowserTools } from './browser/browser-tools.js';
import type { ExecChannel } from './exec/exec-channel.js';
import { encodePng } from './png-encode.js';
import { diffScreens } from './screen-diff.js';
import { settleAfterInput } from './settle.js';
import { LIST_WINDOWS_SCRIPT, parseWindowList, type DisplayWindow } from './terminal/display-windows.js';
import { describeProgram, parseProcessTable, PROCESS_TABLE_COMMAND, programStateFrom, type ProgramState } from './terminal/program-state.js';
import { readPromptLine, type PromptLine } from './terminal/prompt-line.js';
import { readTerminalView } from './terminal/terminal-view.js';
import type { TmuxControl } from './terminal/tmux-control.js';
import { changedRegions, cropFrame, fitWithin, scaleFrame, unionOf } from './visual-diff.js';
import type {
  ExecuteOptions,
  ExecuteResult,
  ImageSize,
  KeyboardOptions,
  KeyboardResult,
  MouseOptions,
  MouseResult,
  ProgramInfo,
  ScreenOptions,
  ScreenRegion,
  ScreenResult,
  VisualChanges,
  VisualTools,
  WaitOutcome,
} from './types.js';

/** Where input waits before it is sent (the take-over gate); `timeoutMs` is the call's own, when it has one. */
export type InputHold = (call: { what: 'keyboard' | 'mouse' | 'execute'; timeoutMs?: number | undefined; signal?: AbortSignal | undefined }) => Promise<void>;

export interface WorkstationToolsOptions {
  /** Where input waits before it is sent (see holdInputAt). */
  inputHold?: InputHold;
  rfb: RfbClient;
  terminal: TmuxControl;
  commands: ExecChannel;
  /** Bytes of output kept per stream by execute() (head + tail). Default 64 KiB. */
  maxOutputBytes?: number;
  /** execute()'s default timeout. Default 120 s. */
  defaultTimeoutMs?: number;
  /**
   * The largest screenshot the model should get (its image limits or recommended size): PNGs
   * are scaled down to fit, and mouse coordinates, given in the screenshot's pixels, scaled back.
   */
  imageSize?: ImageSize;
  browser?: BrowserTools;
}

const defaultQuietMs = 500;
/** Shells: one of these in the terminal's foreground is at its prompt, waiting for input. */
const shells = new Set(['bash', 'zsh', 'fish', 'sh', 'dash', 'ksh', 'mksh', 'tcsh', 'csh']);
const mouseQuietMs = 150;
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
  private pngCache: { at: number; width: number; height: number; imageWidth: number; imageHeight: number; png: Buffer } | undefined;
  /** The frame at the previous look, and the rectangles the server updated since. */
  private previousFrame: { data: Buffer; width: number; height: number } | undefined;
  private readonly updatedSinceLook;
  private imageSize: ImageSize | undefined;
  /**
   * The geometry of the last screenshot taken: the model points in its pixels, even when the
   * size changed since (a fallback to a model with another size, before its first look).
   */
  private pointerFrame: { scale: number; width: number; height: number } | undefined;
  private inputGate: InputHold | undefined;

  constructor(options: WorkstationToolsOptions) {
    this.rfb = options.rfb;
    this.browser = options.browser;
    this.terminal = options.terminal;
    this.commands = options.commands;
    this.maxOutputBytes = options.maxOutputBytes ?? 64 * 1024;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 120_000;
    this.updatedSinceLook = options.rfb.trackChanges();
    this.inputGate = options.inputHold;
    this.setImageSize(options.imageSize);
  }

  /**
   * Every keyboard, mouse and execute call waits at `hold` first, right before its input is
   * sent (nothing between the two yields): the session's take-over gate, so that every door
   * sharing these tools is held by it alike.
   */
  holdInputAt(hold: InputHold): void {
    this.inputGate = hold;
  }

  /** The hold in place, for tools made over the same channels (attachTools): they wait at it too. */
  get inputHold(): InputHold | undefined {
    return this.inputGate;
  }

  /** Sets the model's preferred screenshot size (undefined: the display's own size). */
  setImageSize(size: ImageSize | undefined): void {
    if (size !== undefined) {
      const { width, height, maxPixels } = size;
      if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16) {
        throw invalid(`the image size must be whole pixels of at least 16x16; got ${width}x${height}`);
      }
      if (maxPixels !== undefined && (!Number.isInteger(maxPixels) || maxPixels < 256)) {
        throw invalid(`the image's maxPixels must be a whole number of at least 256; got ${maxPixels}`);
      }
    }
    this.imageSize = size;
  }

  /** The screenshot's full size at the current image size. */
  private get imageFrame(): { scale: number; width: number; height: number } {
    const { width, height } = this.rfb;
    const fitted = this.imageSize ? fitWithin(width, height, this.imageSize) : { width, height };
    return { scale: fitted.width / width, ...fitted };
  }

  /** Screenshot pixels per display pixel (1 unless the model asked for smaller screenshots). */
  get imageScale(): number {
    return this.imageFrame.scale;
  }

  async screen(options: ScreenOptions = {}): Promise<ScreenResult> {
    return this.look(options, { visual: true });
  }

  /**
   * The terminal's text for an onlooker (the TUI's pane): read through the same tmux
   * control client, without moving the "changed since the last look" baseline of screen().
   */
  async terminalText(options: { windowOnly?: boolean } = {}): Promise<string> {
    const view = await readTerminalView(this.terminal);
    if (!options.windowOnly) return view.rows.join('\n');
    // The panes' rows only: without the status line, the bottom of the text is the window's content.
    const bottom = Math.max(0, ...view.panes.map((pane) => pane.top + pane.height));
    return view.rows.slice(0, bottom > 0 ? bottom : view.rows.length).join('\n');
  }

  /** The foreground program of the terminal's active pane, with when the window last printed. */
  async program(signal?: AbortSignal): Promise<ProgramInfo> {
    const [info, state] = await this.readProgram(signal);
    return info ?? toProgramInfo(state, undefined);
  }

  /** The command line under the terminal's cursor, without moving screen()'s baseline. */
  promptLine(options: { signal?: AbortSignal } = {}): Promise<PromptLine> {
    return readPromptLine(this.terminal, options);
  }

  /** The display's windows (screenshot pixels), without moving screen()'s baseline. */
  displayWindows(options: { signal?: AbortSignal } = {}): Promise<DisplayWindow[]> {
    return this.listWindows(options.signal);
  }

  private async look(options: ScreenOptions, what: { visual: boolean }): Promise<ScreenResult> {
    const view = await readTerminalView(this.terminal);
    const changes = diffScreens(this.previousRows, view.rows);
    this.previousRows = view.rows;
    const result: ScreenResult = {
      text: view.rows.join('\n'),
      width: this.rfb.width,
      height: this.rfb.height,
      cursor: view.cursor,
      terminal: { focused: view.focused, window: view.window, panes: view.panes.length },
      timestamp: new Date().toISOString(),
      changes,
    };
    if (what.visual) result.visualChanges = this.takeVisualChanges();
    // A text-only model must know when the terminal is not what has the keyboard.
    if (view.focused !== true) result.windows = await this.listWindows(options.signal);
    if (options.image !== false) {
      const regions = result.visualChanges?.regions ?? [];
      const crop = options.crop === 'changes' && regions.length > 0 ? unionOf(regions.map((region) => unscaleRegion(region, this.imageScale, this.rfb))) : undefined;
      Object.assign(result, this.currentPng(crop));
    }
    if (options.ocr) result.ocrText = await this.ocr(options.signal);
    return result;
  }

  /** The pixel regions that changed since the previous look (in screenshot pixels), and a new baseline. */
  private takeVisualChanges(): VisualChanges {
    const { width, height } = this.rfb;
    const candidates = this.updatedSinceLook.take();
    const previous = this.previousFrame;
    const current = this.rfb.framebuffer;
    let regions: ScreenRegion[] = [];
    if (previous && previous.width === width && previous.height === height) {
      regions = changedRegions({ previous: previous.data, current, width, height, candidates });
    } else if (previous) {
      regions = [{ x: 0, y: 0, width, height }];
    }
    if (!previous || previous.width !== width || previous.height !== height) this.previousFrame = { data: Buffer.from(current), width, height };
    else for (const rect of candidates) copyRect(current, this.previousFrame!.data, width, rect);
    const scale = this.imageScale;
    const scaled = regions.map((region) => scaleRegion(region, scale));
    if (!previous) return { regions: [], summary: 'first look' };
    if (scaled.length === 0) return { regions: [], summary: 'no pixel changed' };
    const list = scaled.map((region) => `${region.width}x${region.height} at (${region.x}, ${region.y})`).join(', ');
    return { regions: scaled, summary: `${scaled.length} region${scaled.length === 1 ? '' : 's'} changed: ${list}` };
  }

  private async listWindows(signal: AbortSignal | undefined): Promise<DisplayWindow[]> {
    const clientPid = await this.terminal.command("list-clients -t main -F '#{client_control_mode} #{client_pid}'").then(
      (lines) => lines.map((line) => line.split(' ')).find((fields) => fields[0] !== '1')?.[1] ?? '',
      () => '',
    );
    const result = await this.commands.run(`sh -c "$NEXORA_LIST_WINDOWS" list-windows ${/^\d+$/.test(clientPid) ? clientPid : '0'}`, {
      cwd: '/tmp',
      env: { NEXORA_LIST_WINDOWS: LIST_WINDOWS_SCRIPT },
      timeoutMs: 10_000,
      maxBytes: 64 * 1024,
      signal,
    });
    const scale = this.imageScale;
    return parseWindowList(result.stdout).map((window) => ({ ...window, ...scaleRegion(window, scale) }));
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
    if (wait?.waitFor !== undefined && wait.waitFor !== 'input') throw invalid(`wait.waitFor must be "input"; got ${JSON.stringify(wait.waitFor)}`);
    const pattern = wait?.pattern === undefined ? undefined : toPattern(wait.pattern);
    const events = keyEventsForInput({ text: options.text, keys });
    await this.inputGate?.({ what: 'keyboard', timeoutMs: wait?.timeoutMs, signal: options.signal });
    const sentAt = performance.now();
    this.rfb.typeKeys(events);
    const keystrokes = events.filter((event) => event.down).length;

    let outcome: WaitOutcome = 'none';
    let program: ProgramInfo | undefined;
    if (wait) {
      const timeoutMs = wait.timeoutMs ?? defaultWaitTimeoutMs;
      if (pattern) {
        outcome = await this.waitForPattern(pattern, sentAt, timeoutMs, options.signal);
        // tmux knows the text before xterm has drawn it: let the display catch up so the
        // next screenshot shows what the text says.
        if (outcome === 'pattern') await this.rfb.waitForQuiet({ quietMs: 40, timeoutMs: 1000, ...(options.signal ? { signal: options.signal } : {}) });
      } else {
        let lastInfo: ProgramInfo | undefined;
        const settled = await settleAfterInput({
          rfb: this.rfb,
          readProgram: async () => {
            const [info, state] = await this.readProgram(options.signal);
            lastInfo = info;
            return state;
          },
          sentAt,
          timeoutMs,
          waitFor: wait.waitFor === 'input' ? 'input' : 'settled',
          quietMs: wait.quietMs ?? defaultQuietMs,
          keystrokes,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        outcome = settled.outcome;
        program = lastInfo;
      }
      // The state at the end, with the output age as of now.
      if (outcome !== 'input' && outcome !== 'exited') program = await this.program(options.signal).catch(() => program);
    }
    const waitedMs = performance.now() - sentAt;
    const screen = await this.look({ image: false }, { visual: false });
    return { keystrokes, wait: { outcome, waitedMs }, ...(program ? { program } : {}), screen };
  }

  /**
   * The terminal's foreground program. tmux names it (`pane_current_command`, from the pane's
   * terminal) in one control-client round trip; a shell there is at its prompt, which is the
   * common case and needs nothing more. Anything else takes one read of the process table in
   * the workstation to tell a program blocked on the terminal from one that runs.
   */
  private async readProgram(signal: AbortSignal | undefined): Promise<[ProgramInfo, ProgramState]> {
    const [paneLine] = await this.terminal.command("display-message -p -t main '#{pane_pid} #{window_activity} #{pane_current_command}'");
    const [pidText, activityText, ...commandWords] = (paneLine ?? '').split(' ');
    const panePid = Number(pidText);
    const activity = Number(activityText);
    const lastOutputAgoMs = activity ? Math.max(Date.now() - activity * 1000, 0) : undefined;
    const foreground = commandWords.join(' ');
    if (shells.has(foreground)) {
      const state: ProgramState = { activity: 'input', command: foreground, name: foreground, runningMs: 0, atShellPrompt: true, certain: true };
      return [toProgramInfo(state, lastOutputAgoMs), state];
    }
    const table = await this.commands.run(PROCESS_TABLE_COMMAND, { cwd: '/tmp', timeoutMs: 10_000, maxBytes: 256 * 1024, signal });
    const state = programStateFrom(parseProcessTable(table.stdout), Number.isInteger(panePid) ? panePid : -1);
    return [toProgramInfo(state, lastOutputAgoMs), state];
  }

  async mouse(options: MouseOptions): Promise<MouseResult> {
    // Coordinates are the last screenshot's pixels; the display's are these divided by its scale.
    const { scale, width, height } = this.pointerFrame ?? this.imageFrame;
    const inside = (x: number | undefined, y: number | undefined, label: string): void => {
      if (x === undefined || y === undefined || !Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= width || y >= height) {
        throw invalid(`${label} (${x}, ${y}) is off the screen: x must be 0–${width - 1} and y 0–${height - 1}, in the PNG's pixels`);
      }
    };
    inside(options.x, options.y, 'the position');
    if (options.action === 'drag') inside(options.toX, options.toY, 'the drag target');
    const toDisplay = (value: number, size: number): number => Math.min(Math.round(value / scale), size - 1);
    const button = buttonMasks[options.button ?? (options.action === 'right_click' ? 'right' : 'left')];
    if (button === undefined) throw invalid(`unknown mouse button ${String(options.button)}: use left, middle or right`);
    if (options.action === 'scroll' && (!Number.isInteger(options.amount ?? 3) || (options.amount ?? 3) === 0 || Math.abs(options.amount ?? 3) > 100)) {
      throw invalid(`scroll amount must be a non-zero whole number of wheel clicks up to 100 (negative scrolls up); got ${options.amount}`);
    }
    await this.inputGate?.({ what: 'mouse', signal: options.signal });
    const sentAt = performance.now();
    const x = toDisplay(options.x, this.rfb.width);
    const y = toDisplay(options.y, this.rfb.height);
    const toX = options.toX === undefined ? 0 : toDisplay(options.toX, this.rfb.width);
    const toY = options.toY === undefined ? 0 : toDisplay(options.toY, this.rfb.height);
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
        this.rfb.pointer(x, y, 0);
        this.rfb.pointer(x, y, button);
        const steps = 8;
        for (let step = 1; step <= steps; step++) {
          this.rfb.pointer(Math.round(x + ((toX - x) * step) / steps), Math.round(y + ((toY - y) * step) / steps), button);
        }
        this.rfb.pointer(toX, toY, 0);
        break;
      }
      case 'scroll': {
        const amount = options.amount ?? 3;
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
    const outcome = await this.waitForQuiet(mouseQuietMs, sentAt, 2000, options.signal);
    return { action: options.action, x: options.x, y: options.y, wait: { outcome, waitedMs: performance.now() - sentAt } };
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
    await this.inputGate?.({ what: 'execute', timeoutMs: options.timeoutMs, signal: options.signal });
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

  /**
   * The PNG of the mirror (or of one region of it), scaled to the model's size; the full frame
   * is re-encoded only when the framebuffer changed since the last one.
   */
  private currentPng(crop: ScreenRegion | undefined): Pick<ScreenResult, 'png' | 'image'> {
    const { width, height, lastUpdateAt } = this.rfb;
    const frame = this.imageFrame;
    const scale = frame.scale;
    this.pointerFrame = frame;
    // Encoding is synchronous, so the mirror cannot change underneath it.
    if (crop) {
      const region = scaleRegion(crop, scale);
      const pixels = cropFrame(this.rfb.framebuffer, width, crop);
      const scaled = scale === 1 ? pixels : scaleFrame(pixels, crop.width, crop.height, region.width, region.height);
      return { png: encodePng(scaled, region.width, region.height), image: { region, width: region.width, height: region.height, scale, cropped: true } };
    }
    const size = { width: frame.width, height: frame.height };
    const image = { region: { x: 0, y: 0, width: size.width, height: size.height }, width: size.width, height: size.height, scale, cropped: false };
    const cached = this.pngCache;
    if (cached && cached.at === lastUpdateAt && cached.width === width && cached.height === height && cached.imageWidth === size.width && cached.imageHeight === size.height) {
      return { png: cached.png, image };
    }
    const pixels = scale === 1 ? this.rfb.framebuffer : scaleFrame(this.rfb.framebuffer, width, height, size.width, size.height);
    const png = encodePng(pixels, size.width, size.height);
    this.pngCache = { at: lastUpdateAt, width, height, imageWidth: size.width, imageHeight: size.height, png };
    return { png, image };
  }

  private async waitForQuiet(quietMs: number, since: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<WaitOutcome> {
    const result = await this.rfb.waitForQuiet({ quietMs, since, timeoutMs, ...(signal ? { signal } : {}) });
    return result.outcome === 'timeout' ? 'timeout' : 'quiet';
  }

  private async waitForPattern(pattern: RegExp, since: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<WaitOutcome> {
    const deadline = since + timeoutMs;
    let checkedAt = since;
    for (;;) {
      const view = await readTerminalView(this.terminal);
      if (pattern.test(view.rows.join('\n'))) return 'pattern';
      const remaining = deadline - performance.now();
      if (remaining <= 0) return 'timeout';
      // The terminal can only change with the display: wait for the next framebuffer change.
      const update = await this.rfb.waitForUpdate({ after: checkedAt, timeoutMs: remaining, ...(signal ? { signal } : {}) });
      checkedAt = update.lastUpdateAt;
      if (update.outcome === 'timeout') {
        const last = await readTerminalView(this.terminal);
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

function toProgramInfo(state: ProgramState, lastOutputAgoMs: number | undefined): ProgramInfo {
  return {
    activity: state.activity,
    name: state.name,
    command: state.command,
    runningMs: state.runningMs,
    lastOutputAgoMs,
    summary: describeProgram(state, lastOutputAgoMs),
  };
}

function scaleRegion<Region extends ScreenRegion>(region: Region, scale: number): ScreenRegion {
  if (scale === 1) return { x: region.x, y: region.y, width: region.width, height: region.height };
  const x = Math.floor(region.x * scale);
  const y = Math.floor(region.y * scale);
  return { x, y, width: Math.max(Math.ceil((region.x + region.width) * scale) - x, 1), height: Math.max(Math.ceil((region.y + region.height) * scale) - y, 1) };
}

/** A region in screenshot pixels back in display pixels, inside the display. */
function unscaleRegion(region: ScreenRegion, scale: number, display: { width: number; height: number }): ScreenRegion {
  if (scale === 1) return region;
  const x = Math.max(Math.floor(region.x / scale), 0);
  const y = Math.max(Math.floor(region.y / scale), 0);
  return { x, y, width: Math.min(Math.ceil((region.x + region.width) / scale), display.width) - x, height: Math.min(Math.ceil((region.y + region.height) / scale), display.height) - y };
}

function copyRect(source: Uint8Array, target: Uint8Array, width: number, rect: ScreenRegion): void {
  for (let row = rect.y; row < rect.y + rect.height; row++) {
    const start = (row * width + rect.x) * 4;
    target.set(source.subarray(start, start + rect.width * 4), start);
  }
}
