import { NexoraError } from '../errors.js';
import type { ResolvedModel } from './registry.js';
import { classifyFailure, describeFailure, retryAfterMs, retryDelayMs, type FailureKind, type RetryPolicy } from './retry.js';

export interface RetryNotice {
  model: string;
  attempt: number;
  failure: FailureKind;
  error: string;
  delayMs: number;
}

export interface FallbackNotice {
  from: string;
  to: string;
  failure: FailureKind;
  error: string;
}

/**
 * Calls `run` with the first candidate; on a 429, a 5xx or a network failure waits
 * (honouring Retry-After) and retries up to the policy's limit, then moves to the next
 * candidate. A Retry-After longer than the policy's longest delay moves on at once. Other failures are thrown at once: they would fail on every model alike.
 */
export async function callWithFallback<T>(options: {
  candidates: ResolvedModel[];
  policy: RetryPolicy;
  signal?: AbortSignal;
  run: (candidate: ResolvedModel) => Promise<T>;
  onRetry?: (notice: RetryNotice) => void;
  onFallback?: (notice: FallbackNotice) => void;
}): Promise<{ value: T; candidate: ResolvedModel }> {
  const { candidates, policy, signal } = options;
  let lastError: unknown;
  for (let index = 0; index < candidates.length; index++) {
    const candidate = candidates[index] as ResolvedModel;
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      try {
        return { value: await options.run(candidate), candidate };
      } catch (error) {
        if (signal?.aborted) throw new NexoraError('aborted', 'The run was interrupted.', { cause: error });
        const failure = classifyFailure(error);
        if (failure === 'fatal') throw error;
        lastError = error;
        // A server that asks for a longer wait than the policy allows is skipped, not hammered.
        const told = retryAfterMs(error);
        if (attempt >= policy.maxRetries || (told !== undefined && told > policy.maxDelayMs)) {
          const next = candidates[index + 1];
          if (next) options.onFallback?.({ from: candidate.info.ref, to: next.info.ref, failure, error: describeFailure(error) });
          break;
        }
        const delayMs = retryDelayMs({ attempt: attempt + 1, error, policy });
        options.onRetry?.({ model: candidate.info.ref, attempt: attempt + 1, failure, error: describeFailure(error), delayMs });
        await sleep(delayMs, signal);
      }
    }
  }
  throw new NexoraError(
    'provider-unavailable',
    `Every model failed (${candidates.map((candidate) => candidate.info.ref).join(', ')}); last error: ${describeFailure(lastError)}. Try again later or configure a fallback model ("routing.fallbacks" in nexora.json).`,
    { cause: lastError },
  );
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NexoraError('aborted', 'The run was interrupted.');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new NexoraError('aborted', 'The run was interrupted while waiting to retry.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
