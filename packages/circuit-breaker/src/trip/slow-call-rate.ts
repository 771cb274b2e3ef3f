import { duration, finiteNumber, InvalidOptionError, positiveInteger } from '@portcullis/core';
import { DecimalRatio } from '../decimal-ratio.js';
import { RateMeter } from './rate-meter.js';
import type { TripPolicy } from './types.js';
import { windowShape, type SlidingWindow } from './window.js';

/**
 * Options of {@link slowCallRate}.
 *
 * @example
 * ```ts
 * import type { SlowCallRateOptions } from '@portcullis/circuit-breaker';
 *
 * // "p99 above 2 s": more than 1% of calls slower than 2 s.
 * const options: SlowCallRateOptions = { slowerThanMs: 2_000, threshold: 0.01, minimumCalls: 100 };
 * ```
 */
export interface SlowCallRateOptions {
  /** A call taking longer than this many ms (succeeded or not) is slow. Required; finite, >= 0. */
  slowerThanMs: number;
  /**
   * The slow-call rate (0 < rate <= 1) at which the breaker opens: slow / calls ≥ threshold,
   * compared exactly with the decimal written (7 slow calls in 25 reach 0.28). Default 0.5.
   */
  threshold?: number | undefined;
  /**
   * Calls the window must hold before the rate counts; a whole number >= 1. Default 20. For a
   * count window, `min(minimumCalls, window.calls)` (as in Resilience4j).
   */
  minimumCalls?: number | undefined;
  /** What the rate is measured over; see {@link SlidingWindow}. Default `{ calls: 100 }`. */
  window?: SlidingWindow | undefined;
}

/**
 * Opens the breaker when the share of slow calls (slower than `slowerThanMs`) over a sliding
 * window reaches `threshold`: a degraded upstream that still answers, slowly, is cut off before it
 * backs up the gateway. "p99 > 2 s" is `slowCallRate({ slowerThanMs: 2_000, threshold: 0.01 })`.
 * While half-open, a probe slower than `slowerThanMs` counts as a failed probe.
 *
 * @param options - See {@link SlowCallRateOptions}.
 * @throws InvalidOptionError naming the option: `slowerThanMs` missing, negative or NaN, a
 *   threshold outside (0, 1], a bad minimum or window.
 *
 * @example
 * ```ts
 * import { createBreaker, consecutiveFailures, slowCallRate } from '@portcullis/circuit-breaker';
 *
 * const breaker = createBreaker({
 *   name: 'orders',
 *   trip: [consecutiveFailures(5), slowCallRate({ slowerThanMs: 2_000, threshold: 0.01, minimumCalls: 100 })],
 * });
 * ```
 */
export function slowCallRate(options: SlowCallRateOptions): TripPolicy {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const slowerThanMs = duration(options.slowerThanMs, 'slowerThanMs');
  const threshold = finiteNumber(options.threshold ?? 0.5, 'threshold', { min: 0, minExclusive: true, max: 1 });
  const rate = new DecimalRatio(threshold);
  const window = windowShape(options.window, 'window');
  // As Resilience4j: a count window of 10 calls never holds 20, so its minimum is at most its size.
  const minimumCalls = Math.min(positiveInteger(options.minimumCalls ?? 20, 'minimumCalls'), window.capacity);
  return {
    name: 'slowCallRate',
    needsClock: true,
    slowCallMs: slowerThanMs,
    createMeter: (now) => new RateMeter('slowCallRate', window.create(now), rate, minimumCalls, slowerThanMs),
  };
}
