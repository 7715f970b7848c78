import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import { NexoraError } from '../../errors.js';
import type { ExecuteResult } from '../types.js';

/** The command server's source; it runs with `python3 -c` inside the workstation. */
export const execServerSource = readFileSync(new URL('../../../src/tools/exec/exec-server.py', import.meta.url), 'utf8');

const replySchema = z.union([
  z.object({ ready: z.literal(true), pid: z.number() }),
  z.object({ id: z.number().nullable(), error: z.string() }),
  z.object({
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
  }),
]);

export interface ChannelRunOptions {
  cwd?: string;
  env?: Record<string, string>;
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

interface Pending {
  resolve: (result: ChannelResult) => void;
  reject: (error: Error) => void;
  started: number;
}

/**
 * The client end of the command server: one request line out, one reply line back, any
 * number in flight. The streams are whatever carries them (an Engine API exec in a
 * workstation, a child process in tests).
 */
export class ExecChannel {
  private readonly input: Writable;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer = '';
  private closedError: Error | undefined;
  private readonly ready: Promise<void>;

  constructor(streams: { stdin: Writable; stdout: Readable }) {
    this.input = streams.stdin;
    let markReady: () => void = () => undefined;
    let failReady: (error: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    // A failure before anyone awaits `ready` must not become an unhandled rejection.
    this.ready.catch(() => undefined);
    streams.stdout.setEncoding('utf8');
    streams.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let newline: number;
      while ((newline = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        if (line.trim() === '') continue;
        this.handleLine(line, markReady);
      }
    });
    const onEnd = (error?: Error): void => {
      const closed = new NexoraError('workstation-failed', `the workstation's command channel closed${error ? `: ${error.message}` : ''}`, { cause: error });
      this.closedError = closed;
      failReady(closed);
      for (const waiter of this.pending.values()) waiter.reject(closed);
      this.pending.clear();
    };
    streams.stdout.on('end', () => onEnd());
    streams.stdout.on('error', (error: Error) => onEnd(error));
    streams.stdin.on('error', (error: Error) => onEnd(error));
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Resolves once the server has said it is ready. */
  async waitReady(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new NexoraError('timeout', `the workstation's command server did not start within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `command` with bash; resolves when it has ended (or was timed out or cancelled). */
  async run(command: string, options: ChannelRunOptions = {}): Promise<ChannelResult> {
    if (this.closedError) throw this.closedError;
    await this.ready;
    const id = this.nextId++;
    const request = {
      id,
      op: 'run',
      command,
      cwd: options.cwd,
      env: options.env,
      timeoutMs: options.timeoutMs,
      maxBytes: options.maxBytes,
    };
    const result = new Promise<ChannelResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, started: performance.now() });
    });
    const onAbort = (): void => {
      this.input.write(`${JSON.stringify({ id, op: 'cancel' })}\n`);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    this.input.write(`${JSON.stringify(request)}\n`);
    try {
      return await result;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Ends the server (its running commands are killed). */
  close(): void {
    this.input.end();
  }

  private handleLine(line: string, markReady: () => void): void {
    let parsed: z.infer<typeof replySchema>;
    try {
      parsed = replySchema.parse(JSON.parse(line));
    } catch {
      // Not ours (e.g. a warning printed by the interpreter): ignore it.
      return;
    }
    if ('ready' in parsed) {
      markReady();
      return;
    }
    if (parsed.id === null) return;
    const waiter = this.pending.get(parsed.id);
    if (!waiter) return;
    this.pending.delete(parsed.id);
    if ('error' in parsed) {
      waiter.reject(new NexoraError('workstation-failed', `the command could not be started: ${parsed.error}`));
      return;
    }
    waiter.resolve({
      stdout: Buffer.from(parsed.stdout, 'base64').toString('utf8'),
      stderr: Buffer.from(parsed.stderr, 'base64').toString('utf8'),
      exitCode: parsed.exitCode,
      signal: parsed.signal,
      durationMs: parsed.durationMs,
      timedOut: parsed.timedOut,
      cancelled: parsed.cancelled,
      truncated: parsed.truncated,
      stdoutBytes: parsed.stdoutBytes,
      stderrBytes: parsed.stderrBytes,
    });
  }
}
