import { rejectWith } from './policy.js';
/**
 * Settles like `promise`, or rejects with the signal's reason as soon as `signal` aborts, whichever
 * comes first. The loser is still observed, so a late rejection is never unhandled.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.then(undefined, ignore);
    return rejectWith(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- errors and abort reasons pass through unchanged
        reject(error);
      },
    );
  });
}

function ignore(): void {
  // The caller already has its answer (the abort); this outcome has nobody left to tell.
}
