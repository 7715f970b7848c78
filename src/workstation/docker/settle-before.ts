/**
 * Settles with `promise`, or rejects with the signal's reason when it fires first: the
 * deadline for the few dockerode calls that do not pass a signal on (image and network
 * inspect). The request itself is left to finish or fail on its own.
 */
export function settleBefore<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
