import { availableParallelism } from 'node:os';
import { NexoraError } from '../errors.js';

export interface AdmissionOptions {
  signal?: AbortSignal;
  /** Called while waiting, with how many requests are ahead (0: next), and once more when admitted. */
  onQueued?: (ahead: number) => void;
}

interface Waiter {
  admit: () => void;
  onQueued: ((ahead: number) => void) | undefined;
}

/**
 * Lets at most `limit` workstation starts run at once; the rest wait in arrival order. A burst
 * of starts on a small host then ends in ready sessions instead of start scripts timing out
 * on an oversubscribed CPU.
 */
export class AdmissionQueue {
  readonly limit: number;
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(options: { limit?: number } = {}) {
    this.limit = Math.max(1, Math.floor(options.limit ?? defaultAdmissionLimit()));
  }

  get stats(): { limit: number; running: number; waiting: number } {
    return { limit: this.limit, running: this.running, waiting: this.waiting.length };
  }

  /** Runs `task` when a slot is free; a request aborted while it waits leaves the queue. */
  async run<T>(task: () => Promise<T>, options: AdmissionOptions = {}): Promise<T> {
    await this.enter(options);
    try {
      return await task();
    } finally {
      this.running--;
      this.next();
    }
  }

  private enter(options: AdmissionOptions): Promise<void> {
    if (options.signal?.aborted) return Promise.reject(abortedWhileQueued(options.signal.reason));
    if (this.running < this.limit && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          options.signal?.removeEventListener('abort', onAbort);
          this.running++;
          resolve();
        },
        onQueued: options.onQueued,
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        this.announce(index);
        reject(abortedWhileQueued(options.signal?.reason));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      waiter.onQueued?.(this.waiting.length - 1);
    });
  }

  private next(): void {
    while (this.running < this.limit) {
      const waiter = this.waiting.shift();
      if (!waiter) return;
      waiter.admit();
      this.announce(0);
    }
  }

  /** Tells everyone behind position `from` their new place. */
  private announce(from: number): void {
    for (let index = Math.max(from, 0); index < this.waiting.length; index++) this.waiting[index]?.onQueued?.(index);
  }
}

/** Starts at once: one per CPU (each start briefly needs about one), at least 2. */
export function defaultAdmissionLimit(): number {
  return Math.max(2, availableParallelism());
}

function abortedWhileQueued(cause: unknown): NexoraError {
  return new NexoraError('aborted', 'The session start was cancelled while it waited for its turn.', { cause });
}
