/**
 * A source of the current time in milliseconds. Every stateful primitive takes one (`clock` option)
 * so tests can steer time; the default is {@link systemClock}.
 *
 * @example
 * ```ts
 * import type { Clock } from '@portcullis/core';
 *
 * let t = 0;
 * const manual: Clock = { now: () => t };
 * t += 1_000; // one second later, as far as anything using `manual` can tell
 * ```
 */
export interface Clock {
  /** Milliseconds since an arbitrary but fixed origin (the Unix epoch for {@link systemClock}). */
  now(): number;
}

/**
 * The wall clock: `Date.now()`.
 *
 * @example
 * ```ts
 * import { systemClock } from '@portcullis/core';
 *
 * const startedAt = systemClock.now();
 * ```
 */
export const systemClock: Clock = {
  now: function now(): number {
    return Date.now();
  },
};
