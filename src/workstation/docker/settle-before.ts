/**
 * Settles with `promise`, or rejects with the signal's reason when it fires first: one
 * caller stops waiting for work others share (the workstation network's set-up), which is
 * left to finish or fail on its own deadline.
 */
export function settleBefore<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
