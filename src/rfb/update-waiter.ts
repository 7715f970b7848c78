import { NexoraError } from '../errors.js';

/** How a wait ended. */
export interface RfbWaitResult {
  outcome: 'updated' | 'quiet' | 'timeout';
  /** performance.now() of the last framebuffer change seen (0 if none yet). */
  lastUpdateAt: number;
  /** How long the wait took, in ms. */
  waitedMs: number;
}

export interface WaitForUpdateOptions {
  /** Resolve on a change later than this performance.now() time; defaults to now. */
  after?: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface WaitForQuietOptions {
  /** How long the screen must stay unchanged. */
  quietMs: number;
  /** Cap on the whole wait. */
  timeoutMs: number;
  /** Count quiet from this performance.now() time (e.g. when keys were sent); defaults to now. */
  since?: number;
  signal?: AbortSignal;
}

type Listener = () => void;

/**
 * Framebuffer change notifications and the waits built on them. Timers are re-armed by
 * update events, so "quiet" means no change for quietMs, not a fixed sleep.
 */
export class UpdateWaiter {
  lastUpdateAt = 0;
  #listeners = new Set<Listener>();
  #closed: NexoraError | undefined;

  /** Records a framebuffer change now. */
  notify(): void {
    this.lastUpdateAt = performance.now();
    for (const listener of [...this.#listeners]) listener();
  }

  /** Rejects current and future waits with `error`. */
  close(error: NexoraError): void {
    this.#closed = error;
    for (const listener of [...this.#listeners]) listener();
  }

  waitForUpdate(options: WaitForUpdateOptions): Promise<RfbWaitResult> {
    const after = options.after ?? performance.now();
    return this.#wait(options.timeoutMs, options.signal, (started, settle) => {
      const check = (): void => {
        if (this.lastUpdateAt > after) settle('updated');
      };
      check();
      return check;
    });
  }

  waitForQuiet(options: WaitForQuietOptions): Promise<RfbWaitResult> {
    return this.#wait(options.timeoutMs, options.signal, (started, settle) => {
      const since = options.since ?? started;
      let timer: NodeJS.Timeout | undefined;
      const arm = (): void => {
        if (timer) clearTimeout(timer);
        const quietFrom = Math.max(since, this.lastUpdateAt);
        const remaining = quietFrom + options.quietMs - performance.now();
        if (remaining <= 0) settle('quiet');
        else timer = setTimeout(arm, remaining);
      };
      arm();
      return Object.assign(arm, { dispose: () => timer && clearTimeout(timer) });
    });
  }

  #wait(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    start: (started: number, settle: (outcome: RfbWaitResult['outcome']) => void) => Listener & { dispose?: () => void },
  ): Promise<RfbWaitResult> {
    const started = performance.now();
    return new Promise<RfbWaitResult>((resolve, reject) => {
      let done = false;
      const listeners: Array<Listener & { dispose?: () => void }> = [];
      const finish = (): void => {
        done = true;
        clearTimeout(timeout);
        signal?.removeEventListener('abort', onAbort);
        for (const listener of listeners) {
          this.#listeners.delete(listener);
          listener.dispose?.();
        }
      };
      const settle = (outcome: RfbWaitResult['outcome']): void => {
        if (done) return;
        finish();
        resolve({ outcome, lastUpdateAt: this.lastUpdateAt, waitedMs: performance.now() - started });
      };
      const fail = (error: NexoraError): void => {
        if (done) return;
        finish();
        reject(error);
      };
      const onAbort = (): void => fail(new NexoraError('aborted', 'Waiting for the screen was aborted.'));
      const timeout = setTimeout(() => settle('timeout'), timeoutMs);
      if (signal?.aborted) return onAbort();
      if (this.#closed) return fail(this.#closed);
      signal?.addEventListener('abort', onAbort, { once: true });
      const inner = start(started, settle);
      if (done) {
        inner.dispose?.();
        return;
      }
      const listener = Object.assign(() => (this.#closed ? fail(this.#closed) : inner()), { dispose: inner.dispose });
      listeners.push(listener);
      this.#listeners.add(listener);
    });
  }
}
