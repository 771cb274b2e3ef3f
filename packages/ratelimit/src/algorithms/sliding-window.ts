import { finiteNumber, positiveNumber } from '@portcullis/core';
import { allocating, constant, type Algorithm, type EvaluationSlot, type LimitState, fillSlot } from './types.js';
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

  /** The count of the window starting at `start`, as `state` holds it (two functions: a pair would be an allocation). */
  function currentIn(state: LimitState | undefined, start: number): number {
    if (state === undefined) return 0;
    return (state[0] ?? 0) === start ? (state[1] ?? 0) : 0;
  }

  /** The count of the window before the one starting at `start`, as `state` holds it. */
  function previousIn(state: LimitState | undefined, start: number): number {
    if (state === undefined) return 0;
    const at = state[0] ?? 0;
    if (at === start) return state[2] ?? 0;
    if (at === start - length) return state[1] ?? 0;
    return 0;
  }

  function settle(
    start: number,
    current: number,
    previous: number,
    now: number,
    allowed: boolean,
    retryAfterMs: number,
    out: EvaluationSlot,
  ): void {
    const weight = (length - (now - start)) / length;
    const available = hard - (previous * weight + current);
    const resetAt = current > 0 ? start + 2 * length : previous > 0 ? start + length : now;
    fillSlot(out, allowed, available, overage, resetAt, retryAfterMs, resetAt - now);
    if (current > 0 || previous > 0) {
      out.next[0] = start;
      out.next[1] = current;
      out.next[2] = previous;
      out.nextLength = 3;
    } else out.nextLength = 0;
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
    ...allocating(
      function evaluateInto(state, now, cost, out) {
        const start = clock.bounds(now)[0];
        const current = currentIn(state, start);
        const previous = previousIn(state, start);
        const weight = (length - (now - start)) / length;
        if (previous * weight + current + cost <= hard) settle(start, current + cost, previous, now, true, 0, out);
        else {
          const retryAfterMs =
            cost > hard ? Infinity : Math.max(1, Math.ceil(fitsAt(start, current, previous, cost) - now));
          settle(start, current, previous, now, false, retryAfterMs, out);
        }
      },
      function refundInto(state, now, amount, chargedAt, out) {
        const start = clock.bounds(now)[0];
        const current = currentIn(state, start);
        const previous = previousIn(state, start);
        if (chargedAt >= start) settle(start, current - Math.min(current, amount), previous, now, true, 0, out);
        else if (chargedAt >= start - length)
          settle(start, current, previous - Math.min(previous, amount), now, true, 0, out);
        else settle(start, current, previous, now, true, 0, out);
      },
    ),
    scriptParams: constant([hard, overage, length]),
  };
}
