let resolved: Promise<void> | undefined;

/**
 * DataLoader's default batch schedule, step for step: after every promise job queued so far (so
 * loads made in `.then` callbacks of the same tick still join), on the next `process.nextTick`.
 * Being the same moment matters: code written against DataLoader gets the same batches.
 * (`setImmediate`, then `setTimeout`, where there is no `process.nextTick`, as DataLoader does.)
 */
export function afterPromiseJobs(callback: () => void): void {
  const nextTick = (globalThis as { process?: { nextTick?: (fn: () => void) => void } }).process?.nextTick;
  if (typeof nextTick === 'function') {
    resolved ??= Promise.resolve();
    void resolved.then(() => {
      nextTick(callback);
    });
  } else if (typeof setImmediate === 'function') {
    setImmediate(callback);
  } else {
    setTimeout(callback);
  }
}
