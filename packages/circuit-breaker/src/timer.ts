/**
 * The longest delay `setTimeout` honours (2^31 − 1 ms, about 24.8 days): Node, browsers and the
 * other runtimes store it as a signed 32-bit integer and fire a longer one after 1 ms.
 */
export const MAX_TIMER_MS: number = 2 ** 31 - 1;

/**
 * Calls `callback` once, `ms` milliseconds from now, for any finite `ms` >= 0: a wait longer than
 * {@link MAX_TIMER_MS} is a chain of timers, each at most that long, so it never fires early.
 * Returns the function that cancels it. The global `setTimeout` is looked up at each call, so
 * fake timers in tests steer it.
 */
export function startTimer(callback: () => void, ms: number): () => void {
  if (ms <= MAX_TIMER_MS) {
    const timer = setTimeout(callback, ms);
    return () => {
      clearTimeout(timer);
    };
  }
  let remaining = ms;
  let timer: ReturnType<typeof setTimeout>;
  const step = (): void => {
    if (remaining <= 0) {
      callback();
      return;
    }
    const wait = Math.min(remaining, MAX_TIMER_MS);
    // A wait so long that subtracting a step leaves it unchanged (beyond 2^84 ms) never ends: right.
    remaining -= wait;
    timer = setTimeout(step, wait);
  };
  step();
  return () => {
    clearTimeout(timer);
  };
}
