import { NexoraError } from '../../errors.js';
import { Reopening } from '../reopening.js';
import { ControlConnection, type ControlStreams } from './control-connection.js';

export type { ControlStreams } from './control-connection.js';

/** What tmux reports about the active pane. */
export interface PaneState {
  /** The visible rows, exactly as tmux holds them (trailing blanks trimmed per row). */
  rows: string[];
  cursor: { column: number; row: number };
  width: number;
  height: number;
}

export interface TmuxControlOptions {
  /**
   * Starts a `tmux -C attach` client and returns its streams. Called on first use and again
   * after the current client broke (closed, stopped past a deadline, flooded).
   */
  open: (options: { signal?: AbortSignal }) => Promise<ControlStreams>;
  /** Deadline of one command (default 10 s). */
  timeoutMs?: number;
  /** Deadline for a new client to attach (default 30 s). */
  attachTimeoutMs?: number;
  /** The longest line accepted from tmux (default 1 Mi characters). */
  maxLineLength?: number;
  /** The most characters one reply may hold (default 16 Mi). */
  maxReplyLength?: number;
  /** Sent on every new client before other commands (default: no %output notifications). */
  setupCommands?: readonly string[];
}

export interface TmuxCommandOptions {
  signal?: AbortSignal;
  /** This command's deadline (default: the channel's). */
  timeoutMs?: number;
}

/**
 * A tmux control-mode client (`tmux -C attach`): commands go in as lines, replies come back
 * in %begin/%end blocks. One long-lived client answers capture-pane in about a millisecond,
 * where a fresh `docker exec tmux capture-pane` costs tens. Everything tmux sends is read as
 * untrusted (see ControlConnection); a client that breaks is replaced on the next call.
 * Constructed from bare streams (tests) it cannot reopen.
 */
export class TmuxControl {
  private readonly open: TmuxControlOptions['open'];
  private readonly timeoutMs: number;
  private readonly attachTimeoutMs: number;
  private readonly limits: { maxLineLength: number; maxReplyLength: number };
  private readonly setupCommands: readonly string[];
  private readonly connections: Reopening<ControlConnection>;

  constructor(options: TmuxControlOptions | ControlStreams) {
    const settings: Partial<TmuxControlOptions> = 'open' in options ? options : {};
    this.open = 'open' in options ? options.open : onceOnly(options);
    this.timeoutMs = settings.timeoutMs ?? 10_000;
    this.attachTimeoutMs = settings.attachTimeoutMs ?? 30_000;
    this.limits = { maxLineLength: settings.maxLineLength ?? 1024 * 1024, maxReplyLength: settings.maxReplyLength ?? 16 * 1024 * 1024 };
    this.setupCommands = settings.setupCommands ?? ['refresh-client -f no-output'];
    this.connections = new Reopening({ open: (signal, adopt) => this.start(signal, adopt), closedMessage: 'the tmux control client was closed' });
  }

  /** How many control clients this channel has started. */
  get opened(): number {
    return this.connections.opened;
  }

  /** True once close() was called (a broken client alone does not close the channel). */
  get closed(): boolean {
    return this.connections.closed;
  }

  /** What the current client holds, for tests and diagnostics. */
  get diagnostics(): { buffered: { now: number; peakLine: number } } {
    return { buffered: this.connections.newest?.buffered ?? { now: 0, peakLine: 0 } };
  }

  /** Starts the control client now (if none runs) and resolves once it has attached. */
  async connect(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.connections.get(options.signal);
  }

  /** Runs one tmux command and resolves with its output lines. */
  async command(text: string, options: TmuxCommandOptions = {}): Promise<string[]> {
    if (/[\r\n]/.test(text) || text.trim() === '') throw new NexoraError('invalid-argument', 'a tmux command must be one non-empty line');
    throwIfAborted(options.signal);
    const connection = await this.connections.get(options.signal);
    throwIfAborted(options.signal);
    return abortable(connection.send(text, options.timeoutMs ?? this.timeoutMs), options.signal);
  }

  /** The active pane's visible text, cursor and size, in one round trip. */
  async pane(target = '', options: TmuxCommandOptions = {}): Promise<PaneState> {
    const targetFlag = target ? ` -t ${target}` : '';
    const [info, rows] = await Promise.all([
      this.command(`display-message -p${targetFlag} '#{cursor_x} #{cursor_y} #{pane_width} #{pane_height}'`, options),
      this.command(`capture-pane -p${targetFlag}`, options),
    ]);
    const [column, row, width, height] = (info[0] ?? '').split(' ').map(Number);
    if ([column, row, width, height].some((value) => value === undefined || !Number.isFinite(value))) {
      throw new NexoraError('workstation-failed', `tmux reported an unreadable pane state: ${JSON.stringify(info)}`);
    }
    const visible = rows.slice(0, height);
    while (visible.length < (height ?? 0)) visible.push('');
    return { rows: visible, cursor: { column: column!, row: row! }, width: width!, height: height! };
  }

  close(): void {
    this.connections.close();
  }

  private async start(signal: AbortSignal | undefined, adopt: (connection: ControlConnection) => void): Promise<ControlConnection> {
    const streams = await this.open(signal ? { signal } : {});
    const connection = new ControlConnection(streams, this.limits);
    adopt(connection);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connection.attached,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new NexoraError('timeout', `the tmux control client did not attach within ${this.attachTimeoutMs} ms`);
            connection.close();
            reject(error);
          }, this.attachTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    for (const setup of this.setupCommands) await connection.send(setup, this.attachTimeoutMs);
    return connection;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NexoraError('aborted', 'the tmux command was not sent: it was cancelled first');
}

/** The reply, or an 'aborted' error as soon as the signal fires (tmux still answers; it is dropped). */
function abortable<T>(reply: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return reply;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new NexoraError('aborted', 'the tmux command was cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    void reply.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** An opener for streams that exist already: they can be used once. */
function onceOnly(streams: ControlStreams): TmuxControlOptions['open'] {
  let used = false;
  return () => {
    if (used) return Promise.reject(new NexoraError('workstation-failed', 'the tmux control client closed and cannot be reopened'));
    used = true;
    return Promise.resolve(streams);
  };
}
