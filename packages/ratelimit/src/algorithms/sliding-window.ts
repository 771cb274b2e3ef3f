import { finiteNumber, positiveNumber } from '@portcullis/core';
import { constant, overageInUse, remainingOf, type Algorithm, type Evaluation } from './types.js';
import { durationWindow } from './window-clock.js';

/** Options of {@link slidingWindow}. */
export interface SlidingWindowOptions {
  /** Units allowed per sliding window. Must be > 0. */
  limit: number;
  /** Window length in ms (a whole number). */
  windowMs: number;
  /** Extra units allowed beyond `limit` and reported as overage (soft limit). Default 0. */
  overage?: number;
}

/**
 * Sliding window, two-bucket approximation (as popularised by Cloudflare): counts in the current
 * and the previous aligned window, the previous one weighted by how much of it still overlaps the
 * sliding window. Constant memory (`[windowStart, current, previous]`) whatever the limit.
 *
 * **Error bound.** It is exact when traffic in the previous window was evenly spread. In the worst
 * case (all of the previous window's traffic at its very end) a sliding window of length
 * `windowMs` can see up to `2 × limit` units; any aligned window never sees more than `limit`. Use
 * `slidingLog` where the bound must be exact.
 *
 * @example
 * ```ts
 * import { slidingWindow } from '@portcullis/ratelimit';
 *
 * const perHour = slidingWindow({ limit: 10_000, windowMs: 3_600_000 });
 * ```
 */
export function slidingWindow(options: SlidingWindowOptions): Algorithm {
  const limit = positiveNumber(options.limit, 'limit');
  const overage = finiteNumber(options.overage ?? 0, 'overage', { min: 0 });
  const clock = durationWindow(options.windowMs);
  const length = clock.nominalMs;
  const hard = limit + overage;

  /** Current and previous counts as seen from the window starting at `start`. */
  function counts(state: readonly number[] | undefined, start: number): [current: number, previous: number] {
    if (state === undefined) return [0, 0];
    const [at = 0, current = 0, previous = 0] = state;
    if (at === start) return [current, previous];
    if (at === start - length) return [0, current];
    return [0, 0];
  }

  function settle(
    start: number,
    current: number,
    previous: number,
    now: number,
    allowed: boolean,
    retryAfterMs: number,
  ): Evaluation {
    const weight = (length - (now - start)) / length;
    const available = hard - (previous * weight + current);
    const resetAt = current > 0 ? start + 2 * length : previous > 0 ? start + length : now;
    return {
      allowed,
      remaining: remainingOf(available, overage),
      overage: overageInUse(available, overage),
      resetAt,
      retryAfterMs,
      next: current > 0 || previous > 0 ? [start, current, previous] : undefined,
      ttlMs: resetAt - now,
    };
  }

  /** Earliest instant at which `cost` more units fit (the estimate only decays). */
  function fitsAt(start: number, current: number, previous: number, cost: number): number {
    const room = hard - cost - current;
    if (room >= 0 && previous > 0) return start + length - (room * length) / previous;
    if (current <= 0) return start + length;
    return Math.max(start + length, start + 2 * length - ((hard - cost) * length) / current);
  }

  return {
    kind: 'sliding-window',
    limit,
    overage,
    windowMs: length,
    evaluate: function evaluate(state, now, cost) {
      const [start] = clock.bounds(now);
      const [current, previous] = counts(state, start);
      const weight = (length - (now - start)) / length;
      if (previous * weight + current + cost <= hard) {
        return settle(start, current + cost, previous, now, true, 0);
      }
      const retryAfterMs =
        cost > hard ? Infinity : Math.max(1, Math.ceil(fitsAt(start, current, previous, cost) - now));
      return settle(start, current, previous, now, false, retryAfterMs);
    },
    refund: function refund(state, now, amount, chargedAt) {
      const [start] = clock.bounds(now);
      const [current, previous] = counts(state, start);
      if (chargedAt >= start) return settle(start, current - Math.min(current, amount), previous, now, true, 0);
      if (chargedAt >= start - length)
        return settle(start, current, previous - Math.min(previous, amount), now, true, 0);
      return settle(start, current, previous, now, true, 0);
    },
    scriptParams: constant([hard, overage, length]),
  };
}
