import { finiteNumber, InvalidOptionError, positiveNumber } from '@portcullis/core';
import { allocating, constant, type Algorithm, type EvaluationSlot, type LimitState, fillSlot } from './types.js';

/** Options of {@link tokenBucket}. */
export interface TokenBucketOptions {
  /** Most units the bucket holds: the largest burst. Must be > 0. */
  capacity: number;
  /** Units added per second, continuously. Must be > 0. */
  refillPerSecond: number;
  /** Extra units allowed beyond `capacity` and reported as overage (soft limit). Default 0. */
  overage?: number;
}

/**
 * Token bucket: holds up to `capacity` units, refilled continuously at `refillPerSecond`; a request
 * takes `cost` units if they are there. Allows bursts up to the capacity while holding the long-run
 * rate. State: `[tokens, updatedAt]`; a full bucket stores nothing.
 *
 * @example
 * ```ts
 * import { tokenBucket } from '@portcullis/ratelimit';
 *
 * // 100 requests per minute on average, bursts of 20.
 * const perUser = tokenBucket({ capacity: 20, refillPerSecond: 100 / 60 });
 * ```
 */
export function tokenBucket(options: TokenBucketOptions): Algorithm {
  const capacity = positiveNumber(options.capacity, 'capacity');
  const refillPerSecond = positiveNumber(options.refillPerSecond, 'refillPerSecond');
  const overage = finiteNumber(options.overage ?? 0, 'overage', { min: 0 });
  const ratePerMs = refillPerSecond / 1000;
  // A rate that rounds to 0 per ms (below ~5e-321 per second) would never refill, nor say when.
  if (!(ratePerMs > 0))
    throw new InvalidOptionError('refillPerSecond', refillPerSecond, 'a rate that does not round to 0 per ms');
  const hard = capacity + overage;

  /**
   * Tokens at `at` of a bucket that held `tokens` at `updatedAt` (undefined: at `at` itself, as for
   * a state without its second number). A bucket with no state is full: `refill(hard, undefined, at)`.
   */
  function refill(tokens: number, updatedAt: number | undefined, at: number): number {
    return Math.min(hard, tokens + Math.max(0, at - (updatedAt ?? at)) * ratePerMs);
  }

  /** The stored tokens of `state` (before any refill); a missing state is a full bucket. */
  function storedTokens(state: LimitState | undefined): number {
    return state === undefined ? hard : (state[0] ?? hard);
  }

  /**
   * Whole ms from `now` until a bucket that held `tokens` at `updatedAt` holds `amount`: the
   * estimate, pushed on while rounding leaves the refill a hair short then, so the wait it promises
   * always holds.
   */
  function wait(tokens: number, updatedAt: number | undefined, now: number, amount: number, estimate: number): number {
    let ms = estimate;
    for (let step = 1; refill(tokens, updatedAt, now + ms) < amount; step *= 2) ms += step;
    return ms;
  }

  /**
   * `stored`/`storedAt`: the stored state (tokens, when); `commits`: whether the store replaces it
   * with this decision's (`[tokens, now]`).
   */
  function settle(
    tokens: number,
    stored: number,
    storedAt: number | undefined,
    commits: boolean,
    now: number,
    allowed: boolean,
    retryAfterMs: number,
    out: EvaluationSlot,
  ): void {
    const missing = hard - tokens;
    const estimate = Math.ceil(missing / ratePerMs);
    // Full (resetAt) when the state left behind is, checked as for retryAfterMs: a promise that holds.
    const ttlMs =
      missing <= 0 ? 0 : commits ? wait(tokens, now, now, hard, estimate) : wait(stored, storedAt, now, hard, estimate);
    fillSlot(out, allowed, tokens, overage, now + ttlMs, retryAfterMs, ttlMs);
    if (missing <= 0) out.nextLength = 0;
    else {
      out.next[0] = tokens;
      out.next[1] = now;
      out.nextLength = 2;
    }
  }

  return {
    kind: 'token-bucket',
    limit: capacity,
    overage,
    windowMs: Math.ceil(capacity / ratePerMs),
    ...allocating(
      function evaluateInto(state, now, cost, out) {
        // Indexing, not destructuring: this runs on every decision.
        const stored = storedTokens(state);
        const storedAt = state?.[1];
        const tokens = refill(stored, storedAt, now);
        // A charge commits the new state; a peek or a denial leaves the stored one as it was.
        if (cost <= tokens) settle(tokens - cost, stored, storedAt, cost > 0, now, true, 0, out);
        else if (cost > hard) settle(tokens, stored, storedAt, false, now, false, Infinity, out);
        else {
          const retryAfterMs = wait(stored, storedAt, now, cost, Math.ceil((cost - tokens) / ratePerMs));
          settle(tokens, stored, storedAt, false, now, false, retryAfterMs, out);
        }
      },
      function refundInto(state, now, amount, _chargedAt, out) {
        const stored = storedTokens(state);
        const storedAt = state?.[1];
        settle(Math.min(hard, refill(stored, storedAt, now) + amount), stored, storedAt, true, now, true, 0, out);
      },
    ),
    scriptParams: constant([capacity, ratePerMs, overage]),
  };
}
