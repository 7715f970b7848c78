import { NexoraError } from '../errors.js';
import type { RequestOptions } from '../client/nexora-client.js';

/** Every SDK call takes these: cancel it with `signal`, bound it with `timeoutMs`. */
export interface CallOptions {
  signal?: AbortSignal;
  /** How long to wait for the answer (each call has its own default, said on the call). */
  timeoutMs?: number;
}

/** The client's request options from a call's, with the call's default deadline. */
export function requestOptions(options: CallOptions | undefined, defaultTimeoutMs: number): RequestOptions {
  if (options?.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs < 0)) {
    throw new NexoraError('invalid-argument', `timeoutMs must be a number of milliseconds ≥ 0 (0: no deadline), not ${String(options.timeoutMs)}.`);
  }
  return { timeoutMs: options?.timeoutMs ?? defaultTimeoutMs, ...(options?.signal ? { signal: options.signal } : {}) };
}
