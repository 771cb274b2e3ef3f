import { finiteNumber, InvalidOptionError, positiveInteger } from '@portcullis/core';
import { DecimalRatio } from '../decimal-ratio.js';
import { RateMeter } from './rate-meter.js';
import type { TripPolicy } from './types.js';
import { windowShape, type SlidingWindow } from './window.js';

/**
 * Options of {@link failureRate}.
 *
 * @example
 * ```ts
 * import type { FailureRateOptions } from '@portcullis/circuit-breaker';
 *
 * const options: FailureRateOptions = { threshold: 0.5, minimumCalls: 20, window: { durationMs: 30_000 } };
 * ```
 */
export interface FailureRateOptions {
  /**
   * The failure rate (0 < rate <= 1) at which the breaker opens: failures / calls ≥ threshold,
   * compared exactly with the decimal written (7 failures in 100 calls reach 0.07). Default 0.5.
   */
  threshold?: number | undefined;
  /**
   * Calls the window must hold before the rate counts, so that 1 failure in 1 call does not open
   * the breaker. A whole number >= 1. Default 20. A count window holds at most its size, so there
   * the minimum is `min(minimumCalls, window.calls)` (as in Resilience4j): with `{ calls: 10 }`
   * the rate counts from the 10th call.
   */
  minimumCalls?: number | undefined;
  /** What the rate is measured over; see {@link SlidingWindow}. Default `{ calls: 100 }`. */
  window?: SlidingWindow | undefined;
}

/**
 * Opens the breaker when the share of failed calls over a sliding window (count- or time-based)
 * reaches `threshold`, once the window holds at least `minimumCalls` calls.
 *
 * @param options - See {@link FailureRateOptions}.
 * @throws InvalidOptionError naming the option: a threshold outside (0, 1], a minimum that is not
 *   a whole number >= 1, a window of zero calls or zero duration.
 *
 * @example
 * ```ts
 * import { createBreaker, failureRate } from '@portcullis/circuit-breaker';
 *
 * // Opens at 50% failures over the last 30 s, counted once 20 calls were seen.
 * const breaker = createBreaker({
 *   name: 'orders',
 *   trip: failureRate({ threshold: 0.5, minimumCalls: 20, window: { durationMs: 30_000, buckets: 10 } }),
 * });
 * ```
 */
export function failureRate(options: FailureRateOptions = {}): TripPolicy {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const threshold = finiteNumber(options.threshold ?? 0.5, 'threshold', { min: 0, minExclusive: true, max: 1 });
  const rate = new DecimalRatio(threshold);
  const window = windowShape(options.window, 'window');
  // As Resilience4j: a count window of 10 calls never holds 20, so its minimum is at most its size.
  const minimumCalls = Math.min(positiveInteger(options.minimumCalls ?? 20, 'minimumCalls'), window.capacity);
  return {
    name: 'failureRate',
    needsClock: window.timeBased,
    slowCallMs: undefined,
    createMeter: (now) => new RateMeter('failureRate', window.create(now), rate, minimumCalls, Infinity),
  };
}
