import { APICallError } from 'ai';

/** Why a model call failed, as far as retrying is concerned. */
export type FailureKind = 'rate-limited' | 'server-error' | 'network' | 'fatal';

export interface RetryPolicy {
  /** Retries on the same model before falling back to the next candidate. */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxRetries: 2, initialDelayMs: 1000, maxDelayMs: 30_000 };

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** Classifies an error thrown by an AI SDK call. */
export function classifyFailure(error: unknown): FailureKind {
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status === 429) return 'rate-limited';
    if (status !== undefined && status >= 500) return 'server-error';
    if (status === undefined) return 'network';
    return 'fatal';
  }
  if (isNetworkError(error)) return 'network';
  return 'fatal';
}

function isNetworkError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return false;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && networkCodes.has(code)) return true;
    if (current instanceof TypeError && current.message === 'fetch failed') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The server's Retry-After (seconds or an HTTP date) or retry-after-ms, in milliseconds. */
export function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  if (!APICallError.isInstance(error)) return undefined;
  const headers = error.responseHeaders ?? {};
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** How long to wait before retry number `attempt` (1-based): Retry-After when given (capped), else exponential backoff with jitter. */
export function retryDelayMs(options: { attempt: number; error: unknown; policy: RetryPolicy; random?: () => number }): number {
  const { attempt, error, policy } = options;
  const told = retryAfterMs(error);
  if (told !== undefined) return Math.min(told, policy.maxDelayMs);
  const base = policy.initialDelayMs * 2 ** (attempt - 1);
  const jitter = 0.5 + (options.random ?? Math.random)() / 2;
  return Math.min(policy.maxDelayMs, Math.round(base * jitter));
}

/** A short description of a failure for logs and events. */
export function describeFailure(error: unknown): string {
  if (APICallError.isInstance(error)) {
    return `HTTP ${error.statusCode ?? '?'} from ${error.url}: ${error.message}`.slice(0, 500);
  }
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}
