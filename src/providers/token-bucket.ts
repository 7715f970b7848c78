import { NexoraError } from '../errors.js';

export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Requests allowed at once before the rate applies (default: a minute's worth). */
  burstRequests?: number;
  /** Tokens allowed at once before the rate applies (default: a minute's worth). */
  burstTokens?: number;
}

interface Bucket {
  capacity: number;
  level: number;
  perMs: number;
}

interface Waiter {
  tokens: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A pair of token buckets (requests and tokens per minute) in front of one provider. Callers
 * queue in order; each waits until both buckets hold enough. Actual token counts, known only
 * after a call, are settled afterwards and may leave the bucket in debt, which delays the next
 * callers instead of the provider answering 429.
 */
export class TokenBucketLimiter {
  private readonly requests: Bucket | undefined;
  private readonly tokens: Bucket | undefined;
  private readonly queue: Waiter[] = [];
  private updatedAt = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(limits: RateLimits) {
    this.requests = bucket(limits.requestsPerMinute, limits.burstRequests);
    this.tokens = bucket(limits.tokensPerMinute, limits.burstTokens);
  }

  /** Waits for one request and `tokens` tokens. */
  acquire(options: { tokens?: number; signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new NexoraError('aborted', 'The run was interrupted while waiting for the rate limit.'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { tokens: Math.max(0, options.tokens ?? 0), resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(new NexoraError('aborted', 'The run was interrupted while waiting for the rate limit.'));
          this.pump();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Corrects the token bucket once a call's real token count is known. */
  settle(estimatedTokens: number, actualTokens: number): void {
    if (!this.tokens) return;
    this.refill();
    this.tokens.level -= actualTokens - estimatedTokens;
    this.tokens.level = Math.min(this.tokens.level, this.tokens.capacity);
  }

  private refill(): void {
    const now = performance.now();
    const elapsed = now - this.updatedAt;
    this.updatedAt = now;
    for (const current of [this.requests, this.tokens]) {
      if (current) current.level = Math.min(current.capacity, current.level + elapsed * current.perMs);
    }
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.refill();
    for (;;) {
      const head = this.queue[0];
      if (!head) return;
      const wantTokens = this.tokens ? Math.min(head.tokens, this.tokens.capacity) : 0;
      const waitMs = Math.max(waitFor(this.requests, 1), waitFor(this.tokens, wantTokens));
      if (waitMs > 0) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(waitMs));
        return;
      }
      this.queue.shift();
      if (this.requests) this.requests.level -= 1;
      if (this.tokens) this.tokens.level -= wantTokens;
      if (head.signal && head.onAbort) head.signal.removeEventListener('abort', head.onAbort);
      head.resolve();
    }
  }
}

function bucket(perMinute: number | undefined, burst: number | undefined): Bucket | undefined {
  if (perMinute === undefined) return undefined;
  const capacity = Math.max(1, burst ?? perMinute);
  return { capacity, level: capacity, perMs: perMinute / 60_000 };
}

function waitFor(current: Bucket | undefined, amount: number): number {
  if (!current || current.level >= amount) return 0;
  return (amount - current.level) / current.perMs;
}

const shared = new Map<string, { limiter: TokenBucketLimiter; key: string }>();

/**
 * The one limiter for a provider in this process, shared by every session that uses it.
 * Changing the limits replaces it.
 */
export function sharedLimiter(provider: string, limits: RateLimits | undefined): TokenBucketLimiter | undefined {
  if (!limits || (limits.requestsPerMinute === undefined && limits.tokensPerMinute === undefined)) return undefined;
  const key = JSON.stringify(limits);
  const existing = shared.get(provider);
  if (existing && existing.key === key) return existing.limiter;
  const limiter = new TokenBucketLimiter(limits);
  shared.set(provider, { limiter, key });
  return limiter;
}
