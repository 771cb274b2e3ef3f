import type { Clock } from '@portcullis/core';

/** setTimeout's longest delay (about 24.8 days); a longer one would fire at once. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * The one timer of a pool: wakes it at the earliest time anything is due (a health check, a
 * check's timeout, an ejection's end, a breaker's open period, a slow-start step). Times are on the
 * pool's clock; the delay is recomputed each time the timer is armed. Unref'd: a pool never keeps
 * the process alive.
 */
export class SingleTimer {
  readonly #clock: Clock;
  readonly #onWake: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #at = Infinity;
  #closed = false;

  constructor(clock: Clock, onWake: () => void) {
    this.#clock = clock;
    this.#onWake = onWake;
  }

  /** Makes sure the timer fires at `at` or sooner. */
  wakeBy(at: number): void {
    if (at < this.#at) this.set(at);
  }

  /** Arms the timer for `at` (Infinity: disarms it), replacing any earlier setting. */
  set(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = at;
    if (this.#closed || at === Infinity) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, at - this.#clock.now()));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#at = Infinity;
      this.#onWake();
    }, delay);
    this.#timer.unref();
  }

  /** Disarms the timer for good. */
  close(): void {
    this.#closed = true;
    this.set(Infinity);
  }
}
