/**
 * Reads `source` (through `read`) at most once per collection, and never keeps it alive: a pool or
 * a breaker that is closed and dropped is collected even while observed; then the reading is
 * `undefined` and `onGone` runs once (the observer unregisters its readers).
 *
 * One collection runs in one synchronous turn (prom-client calls every metric's `collect` before
 * its first await; OpenTelemetry runs a batch callback once), so a reading stays fresh until the
 * next microtask: every metric of one scrape reads the same snapshot.
 *
 * `read` must not close over `source` (take it as its argument), or the weak reference is moot.
 */
export function weakReading<S extends object, T>(
  source: S,
  read: (source: S) => T,
  onGone: () => void,
): () => T | undefined {
  const ref = new WeakRef(source);
  let reading: T | undefined;
  let fresh = false;
  let gone = false;
  return function current(): T | undefined {
    if (fresh) return reading;
    const target = ref.deref();
    if (target === undefined) {
      if (!gone) {
        gone = true;
        onGone();
      }
      return undefined;
    }
    reading = read(target);
    fresh = true;
    queueMicrotask(() => {
      fresh = false;
      reading = undefined;
    });
    return reading;
  };
}
