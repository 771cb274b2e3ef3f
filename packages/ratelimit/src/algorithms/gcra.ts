import { finiteNumber, InvalidOptionError, positiveNumber } from '@portcullis/core';
import { allocating, constant, fillSlot, type Algorithm, type EvaluationSlot } from './types.js';

/** Options of {@link gcra}. */
export interface GcraOptions {
  /** Units allowed per `periodMs` in the long run. Must be > 0. */
  limit: number;
  /** The period `limit` applies to, in ms. Must be > 0. */
  periodMs: number;
  /** Most units usable at once. Default: `limit`. */
  burst?: number;
  /** Extra units allowed beyond `burst` and reported as overage (soft limit). Default 0. */
  overage?: number;
}

/** Slack in GCRA's comparisons, covering float resolution of absolute timestamps (1 µs). */
const TOLERANCE_MS = 1e-3;

/**
 * GCRA (generic cell rate algorithm): the token bucket expressed as one timestamp, the theoretical
 * arrival time. It decides exactly as a token bucket with capacity `burst` refilled at
 * `limit / periodMs`, with one number of state (`[tat]`) instead of two.
 *
 * @example
 * ```ts
 * import { gcra } from '@portcullis/ratelimit';
 *
 * // 10 requests per second, bursts of 5.
 * const api = gcra({ limit: 10, periodMs: 1_000, burst: 5 });
 * ```
 */
export function gcra(options: GcraOptions): Algorithm {
  const limit = positiveNumber(options.limit, 'limit');
  const periodMs = positiveNumber(options.periodMs, 'periodMs');
  const burst = positiveNumber(options.burst ?? limit, 'burst');
  const overage = finiteNumber(options.overage ?? 0, 'overage', { min: 0 });
  const interval = periodMs / limit;
  // Over- or underflowing (periodMs 1e308 with limit 0.1) it would turn every comparison into NaN.
  if (!(interval > 0 && Number.isFinite(interval)))
    throw new InvalidOptionError(
      'periodMs',
      periodMs,
      'a period whose time per unit (periodMs / limit) is finite and > 0',
    );
  const hard = burst + overage;
  const horizon = hard * interval;

  function settle(tat: number, now: number, allowed: boolean, retryAfterMs: number, out: EvaluationSlot): void {
    const ahead = Math.max(0, tat - now);
    const available = hard - ahead / interval;
    const ttlMs = Math.ceil(ahead);
    fillSlot(out, allowed, available, overage, now + ttlMs, retryAfterMs, ttlMs);
    if (ahead <= 0) out.nextLength = 0;
    else {
      out.next[0] = tat;
      out.nextLength = 1;
    }
  }

  return {
    kind: 'gcra',
    limit: burst,
    overage,
    windowMs: Math.ceil(burst * interval),
    ...allocating(
      function evaluateInto(state, now, cost, out) {
        // Work relative to `now`: an absolute arrival time near 1.7e12 ms has a resolution of about
        // 2.4e-4 ms, so comparisons allow a tolerance of 1 µs (see TOLERANCE_MS).
        const ahead = Math.max(0, (state?.[0] ?? now) - now);
        const newAhead = ahead + cost * interval;
        if (newAhead <= horizon + TOLERANCE_MS) settle(now + newAhead, now, true, 0, out);
        else {
          const retryAfterMs = cost > hard ? Infinity : Math.max(1, Math.ceil(newAhead - horizon - TOLERANCE_MS));
          settle(now + ahead, now, false, retryAfterMs, out);
        }
      },
      function refundInto(state, now, amount, _chargedAt, out) {
        const tat = Math.max(state?.[0] ?? now, now);
        settle(Math.max(now, tat - amount * interval), now, true, 0, out);
      },
    ),
    scriptParams: constant([interval, hard, overage]),
  };
}
