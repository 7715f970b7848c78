import { setTimeout as sleep } from 'node:timers/promises';

/** The deadline of an engine request when its caller gives none. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/**
 * The signal one engine call runs under: the caller's signal, and a deadline (`timeoutMs`,
 * else `defaultTimeoutMs`) so that a paused or wedged engine fails the call instead of
 * hanging it. A call of several requests passes the same signal to each: the deadline is the
 * call's, not each request's.
 */
export function callSignal(options: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined }, defaultTimeoutMs = DEFAULT_CALL_TIMEOUT_MS): AbortSignal {
  const deadline = AbortSignal.timeout(options.timeoutMs ?? defaultTimeoutMs);
  return options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
}

/** Waits `ms` between polls; rejects with the signal's reason the moment it fires (no timer left). */
export async function pollDelay(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    signal.throwIfAborted();
  }
}
