import { readFileSync } from 'node:fs';
import { NexoraError } from '../../errors.js';
import type { ExecuteResult } from '../types.js';
import { Reopening } from '../reopening.js';
import { ExecConnection, type ChannelStreams } from './exec-connection.js';

export type { ChannelStreams } from './exec-connection.js';

/** The command server's source; it runs with `python3 -I -S -c` inside the workstation. */
export const execServerSource = readFileSync(new URL('../../../src/tools/exec/exec-server.py', import.meta.url), 'utf8');

/** The command that starts the command server (isolated: no PYTHON* variables, no site). */
export const execServerCommand: readonly string[] = ['python3', '-I', '-S', '-c', execServerSource];

const defaultTimeoutMs = 10 * 60 * 1000;
const defaultMaxBytes = 1024 * 1024;

export interface ChannelRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Kills the command's process group inside the workstation after this long (default 10 min). */
  timeoutMs?: number;
  /** Bytes kept per stream (head + tail); more is cut with a marker in between. */
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface ChannelResult extends ExecuteResult {
  signal: string | null;
  cancelled: boolean;
  stdoutBytes: number;
  stderrBytes: number;
}

export interface ExecChannelOptions {
  /**
   * Starts a command server and returns its streams. Called on first use and again after
   * the current server broke (closed, stopped past a deadline, flooded its channel).
   */
  open: (options: { signal?: AbortSignal }) => Promise<ChannelStreams>;
  /** How long a new server gets to say it is ready (default 10 s). */
  readyTimeoutMs?: number;
  /** Time on top of a command's own timeout for its reply to arrive (default 10 s). */
  replyGraceMs?: number;
  /** The longest reply line accepted (default 16 MiB); bounds the host's buffer. */
  maxReplyBytes?: number;
}

/**
 * The client end of the command server: one request line out, one reply line back, any
 * number in flight. A server that breaks is replaced by a new one on the next call.
 * Constructed from bare streams (tests, a local process) it cannot reopen.
 */
export class ExecChannel {
  private readonly options: Required<Omit<ExecChannelOptions, 'open'>> & Pick<ExecChannelOptions, 'open'>;
  private readonly connections: Reopening<ExecConnection>;

  constructor(options: ExecChannelOptions | ChannelStreams) {
    const open = 'open' in options ? options.open : onceOnly(options);
    const settings: Partial<ExecChannelOptions> = 'open' in options ? options : {};
    this.options = {
      open,
      readyTimeoutMs: settings.readyTimeoutMs ?? 10_000,
      replyGraceMs: settings.replyGraceMs ?? 10_000,
      maxReplyBytes: settings.maxReplyBytes ?? 16 * 1024 * 1024,
    };
    this.connections = new Reopening({ open: (signal, adopt) => this.start(signal, adopt), closedMessage: "the workstation's command channel was closed" });
  }

  /** How many servers this channel has started. */
  get opened(): number {
    return this.connections.opened;
  }

  /** True once close() was called (a broken server alone does not close the channel). */
  get closed(): boolean {
    return this.connections.closed;
  }

  /** The current server's pid inside the workstation, and what its connection has buffered. */
  get diagnostics(): { serverPid: number | undefined; buffered: { now: number; peak: number }; ignoredLines: number } {
    const connection = this.connections.newest;
    return { serverPid: connection?.serverPid, buffered: connection?.buffered ?? { now: 0, peak: 0 }, ignoredLines: connection?.ignoredLines ?? 0 };
  }

  /** Starts the server now (if none runs) and resolves once it is ready. */
  async waitReady(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.connections.get(options.signal);
  }

  /** Runs `command` with bash; resolves when it has ended (or was timed out or cancelled). */
  async run(command: string, options: ChannelRunOptions = {}): Promise<ChannelResult> {
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    // base64 of both streams plus the marker and the JSON around them must fit in one line.
    const largest = Math.floor(((this.options.maxReplyBytes - 64 * 1024) * 3) / 8);
    const maxBytes = options.maxBytes ?? Math.min(defaultMaxBytes, largest);
    if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > largest) {
      throw new NexoraError('invalid-argument', `maxBytes must be a whole number from 1 to ${largest}; got ${maxBytes}`);
    }
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new NexoraError('invalid-argument', `timeoutMs must be a positive number; got ${timeoutMs}`);
    throwIfAborted(options.signal);
    const connection = await this.connections.get(options.signal);
    // The server may have taken a moment to start: a cancel that came meanwhile wins.
    throwIfAborted(options.signal);
    const reply = await connection.run(
      { command, cwd: options.cwd, env: options.env, timeoutMs, maxBytes },
      { deadlineMs: timeoutMs + this.options.replyGraceMs, ...(options.signal ? { signal: options.signal } : {}) },
    );
    return {
      stdout: Buffer.from(reply.stdout, 'base64').toString('utf8'),
      stderr: Buffer.from(reply.stderr, 'base64').toString('utf8'),
      exitCode: reply.exitCode,
      signal: reply.signal,
      durationMs: reply.durationMs,
      timedOut: reply.timedOut,
      cancelled: reply.cancelled,
      truncated: reply.truncated,
      stdoutBytes: reply.stdoutBytes,
      stderrBytes: reply.stderrBytes,
    };
  }

  /** Ends the server (its running commands are killed) and refuses further calls. */
  close(): void {
    this.connections.close();
  }

  private async start(signal: AbortSignal | undefined, adopt: (connection: ExecConnection) => void): Promise<ExecConnection> {
    const streams = await this.options.open(signal ? { signal } : {});
    const connection = new ExecConnection(streams, { maxReplyBytes: this.options.maxReplyBytes, readyTimeoutMs: this.options.readyTimeoutMs });
    adopt(connection);
    await connection.waitReady();
    return connection;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NexoraError('aborted', 'The command was not started: it was cancelled before it began.');
}

/** An opener for streams that exist already: they can be used once. */
function onceOnly(streams: ChannelStreams): ExecChannelOptions['open'] {
  let used = false;
  return () => {
    if (used) return Promise.reject(new NexoraError('workstation-failed', "the workstation's command channel closed and cannot be reopened"));
    used = true;
    return Promise.resolve(streams);
  };
}
