/**
 * A signal for the requests that start something over the Engine API (exec create and
 * start, inspect, pause): aborted by the caller's signal or after `timeoutMs`, and never
 * after `done()`. Hijacked exec streams outlive their request, and Node destroys the
 * connection if the request's signal fires later, so the start must not share a signal
 * that can still fire.
 */
export function startDeadline(timeoutMs: number, signal: AbortSignal | undefined): { signal: AbortSignal; timedOut(): boolean; done(): void } {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`no answer within ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
