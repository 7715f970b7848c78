import type { NexoraClient, StreamEvent } from '../client/nexora-client.js';
import { describeError, NexoraError, type NexoraErrorCode } from '../errors.js';
import type { RunEvent } from './api-types.js';
import type { CallOptions } from './call-options.js';

export interface RunStartOptions extends CallOptions {
  /** What the agent should do. */
  task: string;
  /** The project directory mounted at /workspace (absolute). */
  workspace: string;
  /** provider/model, e.g. anthropic/claude-sonnet-4-5 (default: the configured one). */
  model?: string;
  /** Run in this session instead of a new one. */
  session?: string;
  maxSteps?: number;
  maxCost?: number;
  /** Leave the workstation running after the run (default: paused and kept for a resume for the idle time, then removed). */
  keep?: boolean;
  /** Stop and remove the workstation as soon as the run ends. */
  rm?: boolean;
  /** Added to the environment the run reads provider keys from (`apiKeyEnv`): this process's, or `connect({ env })`'s. */
  env?: Record<string, string>;
}

/** The end of a run. */
export type RunEnd = Extract<RunEvent, { type: 'end' }>;

/**
 * A run of the agent in the server: iterate it for its events (`for await (const event of
 * run)`), or await `run.done` for how it ended. `timeoutMs` bounds the whole run; `signal`
 * or `interrupt()` ends it.
 */
export class Run implements AsyncIterable<RunEvent> {
  /** The run's id, once the server has said it (after the first event). */
  id: string | undefined;
  /** Resolves with the run's end; rejects with a NexoraError when it failed or was cancelled. */
  readonly done: Promise<RunEnd>;
  private readonly client: NexoraClient;
  private readonly queue: RunEvent[] = [];
  private wake: (() => void) | undefined;
  private finished = false;
  private errorSeen = false;

  constructor(options: { client: NexoraClient; body: Record<string, unknown>; signal?: AbortSignal; timeoutMs?: number }) {
    this.client = options.client;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = options.timeoutMs ? setTimeout(() => controller.abort(new NexoraError('timeout', `The run did not end within ${Math.round((options.timeoutMs ?? 0) / 1000)} s.`)), options.timeoutMs) : undefined;
    let end: RunEnd | undefined;
    let failure: NexoraError | undefined;
    this.done = this.client
      .stream('POST', '/v1/runs', options.body, (event) => {
        const parsed = toRunEvent(event);
        if (!parsed) return;
        if (parsed.type === 'run') this.id = parsed.id;
        if (parsed.type === 'end') end = parsed;
        if (parsed.type === 'error') failure = new NexoraError(parsed.code as NexoraErrorCode, parsed.message);
        this.push(parsed);
      }, { signal: controller.signal })
      .then(() => {
        if (failure) throw failure;
        if (!end) throw new NexoraError('server-unavailable', 'The run ended without saying how: see `nexora server logs`.');
        return end;
      })
      .catch((error: unknown) => {
        const reason: unknown = controller.signal.reason;
        if (controller.signal.aborted) throw NexoraError.is(reason) ? reason : new NexoraError('aborted', 'The run was cancelled.', { cause: error });
        throw error;
      })
      .finally(() => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.finished = true;
        this.wake?.();
      });
    // Iterating is optional: an unawaited failure must not crash the process.
    this.done.catch(() => undefined);
  }

  /** Asks the server to interrupt the run: it finishes its current step and keeps its session. */
  async interrupt(options: CallOptions = {}): Promise<void> {
    if (!this.id) throw new NexoraError('invalid-argument', 'The run has no id yet: wait for its first event before interrupting it.');
    await this.client.post(`/v1/runs/${this.id}/interrupt`, {}, { timeoutMs: options.timeoutMs ?? 30_000, ...(options.signal ? { signal: options.signal } : {}) });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RunEvent> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.finished) break;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    // A failure that is not in the events (the connection dropped, a timeout) is thrown here.
    const outcome = await this.done.then(
      () => undefined,
      (error: unknown) => error,
    );
    // An `error` event already told the iterating caller; anything else is thrown.
    if (outcome !== undefined && !this.errorSeen) throw outcome instanceof Error ? outcome : new NexoraError('server-unavailable', describeError(outcome));
  }

  private push(event: RunEvent): void {
    if (event.type === 'error') this.errorSeen = true;
    this.queue.push(event);
    this.wake?.();
  }
}

function toRunEvent({ event, data }: StreamEvent): RunEvent | undefined {
  const body = (data ?? {}) as Record<string, unknown>;
  switch (event) {
    case 'run':
      return { type: 'run', id: typeof body.id === 'string' ? body.id : '' };
    case 'output':
      return { type: 'output', text: typeof body.text === 'string' ? body.text : '' };
    case 'end':
      return {
        type: 'end',
        outcome: typeof body.outcome === 'string' ? body.outcome : 'unknown',
        ...(typeof body.reason === 'string' ? { reason: body.reason } : {}),
        sessionId: typeof body.sessionId === 'string' ? body.sessionId : '',
        sessionStopped: body.sessionStopped === true,
        steps: typeof body.steps === 'number' ? body.steps : 0,
      };
    case 'error': {
      const error = (body.error ?? {}) as { code?: unknown; message?: unknown };
      return { type: 'error', code: typeof error.code === 'string' ? error.code : 'internal', message: typeof error.message === 'string' ? error.message : 'The run failed.' };
    }
    default:
      return undefined;
  }
}
