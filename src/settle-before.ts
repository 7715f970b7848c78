/**
 * Settles with `promise`, or rejects when the signal fires first (with `reason()`, else the
 * signal's reason): one caller stops waiting for work others share (the workstation network's
 * set-up, a tool channel being opened), which is left to finish or fail on its own deadline.
 */
export function settleBefore<T>(promise: Promise<T>, signal: AbortSignal, options: { reason?: () => Error } = {}): Promise<T> {
  const reason = (): Error => options.reason?.() ?? (signal.reason as Error);
  if (signal.aborted) return Promise.reject(reason());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
