import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import { NexoraError } from '../../errors.js';
import { LineReader } from '../line-reader.js';

/** The streams of one command server process, and how to end it. */
export interface ChannelStreams {
  stdin: Writable;
  stdout: Readable;
  /** Drops the process's connection (an attached exec's close); ends stdin when absent. */
  close?(): void;
}

export interface ExecConnectionLimits {
  /** The longest reply line accepted; a longer one (or one never ended) closes the connection. */
  maxReplyBytes: number;
  /** How long the server gets to say it is ready. */
  readyTimeoutMs: number;
}

export interface RunRequest {
  command: string;
  cwd: string | undefined;
  env: Record<string, string> | undefined;
  timeoutMs: number;
  maxBytes: number;
}

const readySchema = z.object({ ready: z.literal(true), pid: z.number() });
const errorSchema = z.object({ id: z.number().nullable(), error: z.string(), code: z.string().optional() });
const resultSchema = z.object({
  id: z.number(),
  stdout: z.string(),
  stderr: z.string(),
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  durationMs: z.number(),
  timedOut: z.boolean(),
  cancelled: z.boolean(),
  truncated: z.boolean(),
  stdoutBytes: z.number(),
  stderrBytes: z.number(),
});

/** The server's reply to one run, as it sent it (output still base64). */
export type RunReply = z.infer<typeof resultSchema>;

interface Pending {
  resolve: (reply: RunReply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One command server process: the hello with a fresh nonce, then request lines out and
 * reply lines back. Everything that comes back is untrusted — any process in the
 * workstation may have written it — so a reply counts only if it carries this
 * connection's nonce, a line may not grow past `maxReplyBytes`, and every request has a
 * host-side deadline. Any breach closes the connection and fails what was in flight.
 */
export class ExecConnection {
  readonly nonce = randomBytes(24).toString('hex');
  private readonly streams: ChannelStreams;
  private readonly reader: LineReader;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;
  private markReady: (pid: number) => void = () => undefined;
  private failReady: (error: Error) => void = () => undefined;
  private readonly ready: Promise<number>;
  /** Lines that did not carry the nonce (noise, or a forgery), for tests and diagnostics. */
  ignoredLines = 0;
  serverPid: number | undefined;

  constructor(streams: ChannelStreams, private readonly limits: ExecConnectionLimits) {
    this.streams = streams;
    this.ready = new Promise<number>((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    // A failure before anyone awaits `ready` must not become an unhandled rejection.
    this.ready.catch(() => undefined);
    this.reader = new LineReader({
      maxLineLength: limits.maxReplyBytes,
      onLine: (line) => this.handleLine(line),
      onOverflow: (length) =>
        this.fail(
          new NexoraError(
            'workstation-failed',
            `the workstation's command channel received ${length} characters without a line end (the limit is ${limits.maxReplyBytes}): something in the workstation is writing into it. The channel was closed; the next command opens a new one.`,
          ),
        ),
    });
    streams.stdout.setEncoding('utf8');
    streams.stdout.on('data', (chunk: string) => this.reader.push(chunk));
    streams.stdout.on('end', () => this.fail(closedError()));
    streams.stdout.on('error', (error: Error) => this.fail(closedError(error)));
    streams.stdin.on('error', (error: Error) => this.fail(closedError(error)));
    // The nonce travels only on stdin, never on a command line or in the environment,
    // where any process in the workstation could read it.
    streams.stdin.write(`${JSON.stringify({ op: 'hello', nonce: this.nonce })}\n`);
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  /** The characters buffered while waiting for a line end, and the most ever buffered. */
  get buffered(): { now: number; peak: number } {
    return { now: this.reader.length, peak: this.reader.peak };
  }

  /** Resolves with the server's pid once it has said, with the nonce, that it is ready. */
  async waitReady(): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new NexoraError('timeout', `the workstation's command server did not start within ${this.limits.readyTimeoutMs} ms`);
            this.fail(error);
            reject(error);
          }, this.limits.readyTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends one run request. The reply must arrive within `deadlineMs` (the command's own
   * timeout plus a grace): a stopped or dead server fails the call, not hangs it.
   */
  run(request: RunRequest, options: { deadlineMs: number; signal?: AbortSignal }): Promise<RunReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<RunReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new NexoraError(
            'timeout',
            `the workstation's command server did not answer within ${options.deadlineMs} ms (it may be stopped, killed or overloaded). The channel was closed; the next command opens a new one.`,
          ),
        );
      }, options.deadlineMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    const onAbort = (): void => {
      if (this.pending.has(id) && !this.failure) this.streams.stdin.write(`${JSON.stringify({ id, op: 'cancel' })}\n`);
    };
    this.streams.stdin.write(`${JSON.stringify({ id, op: 'run', ...request })}\n`);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    return reply.finally(() => options.signal?.removeEventListener('abort', onAbort));
  }

  /** Ends the server (its running commands are killed when it sees the end of its input). */
  close(): void {
    this.fail(new NexoraError('workstation-failed', "the workstation's command channel was closed"));
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.failReady(error);
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.pending.clear();
    // Stop reading: nothing more from this process is buffered or believed.
    this.reader.discard();
    this.streams.stdout.removeAllListeners('data');
    this.streams.stdout.on('data', () => undefined);
    if (this.streams.close) this.streams.close();
    else this.streams.stdin.end();
  }

  private handleLine(line: string): void {
    const message = this.parse(line);
    if (message === undefined) {
      this.ignoredLines++;
      return;
    }
    const ready = readySchema.safeParse(message);
    if (ready.success) {
      this.serverPid = ready.data.pid;
      this.markReady(ready.data.pid);
      return;
    }
    const failed = errorSchema.safeParse(message);
    if (failed.success) {
      const waiter = failed.data.id === null ? undefined : this.take(failed.data.id);
      if (!waiter) return;
      waiter.reject(
        failed.data.code === 'cwd-missing'
          ? new NexoraError('invalid-argument', `${failed.data.error}: pass an existing directory as cwd (for example /workspace)`)
          : new NexoraError('workstation-failed', `the command could not be started: ${failed.data.error}`),
      );
      return;
    }
    const result = resultSchema.safeParse(message);
    if (!result.success) {
      this.ignoredLines++;
      return;
    }
    this.take(result.data.id)?.resolve(result.data);
  }

  /** The message when the line is a JSON object carrying this connection's nonce. */
  private parse(line: string): Record<string, unknown> | undefined {
    // Cheap test first: most noise never gets to JSON.parse.
    if (!line.includes(this.nonce)) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return undefined;
    }
    if (typeof value !== 'object' || value === null) return undefined;
    const nonce = (value as { nonce?: unknown }).nonce;
    if (typeof nonce !== 'string' || nonce.length !== this.nonce.length) return undefined;
    if (!timingSafeEqual(Buffer.from(nonce), Buffer.from(this.nonce))) return undefined;
    return value as Record<string, unknown>;
  }

  private take(id: number): Pending | undefined {
    const waiter = this.pending.get(id);
    if (!waiter) return undefined;
    this.pending.delete(id);
    clearTimeout(waiter.timer);
    return waiter;
  }
}

function closedError(cause?: Error): NexoraError {
  return new NexoraError('workstation-failed', `the workstation's command channel closed${cause ? `: ${cause.message}` : ''}`, cause ? { cause } : undefined);
}
