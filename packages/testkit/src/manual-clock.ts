import type { Clock } from '@portcullis/core';

/**
 * A {@link Clock} that only moves when the test says so, so time-dependent behaviour (refills,
 * cooldowns, token expiry) is tested without sleeping and without flakiness.
 *
 * @example
 * ```ts
 * import { ManualClock } from '@portcullis/testkit';
 *
 * const clock = new ManualClock();
 * const limiter = createLimiter({ clock });
 * clock.advance(1_000); // one second later, instantly
 * ```
 */
export class ManualClock implements Clock {
  #now: number;

  /** @param start - The initial time in ms. Must be finite. Default is 1_700_000_000_000 (Nov 2023). */
  constructor(start = 1_700_000_000_000) {
    this.#now = finiteTime(start, 'start');
  }

  /** The current manual time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /**
   * Moves time forward by `ms` and returns the new time. Time never runs backwards through
   * `advance`, so a negative or non-finite step is a bug in the test and throws a `TypeError`.
   */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new TypeError(`ManualClock.advance: expected a finite number of ms >= 0, got ${String(ms)}`);
    }
    this.#now += ms;
    return this.#now;
  }

  /**
   * Jumps to `ms` and returns it. Unlike {@link ManualClock.advance} this may go backwards, to model
   * a wall clock that was corrected (NTP step, VM resume).
   */
  set(ms: number): number {
    this.#now = finiteTime(ms, 'set');
    return this.#now;
  }
}

function finiteTime(value: number, what: string): number {
  if (!Number.isFinite(value)) {
    throw new TypeError(`ManualClock.${what}: expected a finite number of ms, got ${String(value)}`);
  }
  return value;
}
