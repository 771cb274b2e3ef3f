import { finiteNumber, InvalidOptionError, positiveNumber } from '@portcullis/core';
import { constant, overageInUse, remainingOf, type Algorithm, type Evaluation, type LimitState } from './types.js';

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

  function tokensAt(state: LimitState | undefined, now: number): number {
    if (state === undefined) return hard;
    // Indexing, not destructuring: this runs on every decision.
    const tokens = state[0] ?? hard;
    const updatedAt = state[1] ?? now;
    return Math.min(hard, tokens + Math.max(0, now - updatedAt) * ratePerMs);
  }

  /**
   * Whole ms from `now` until the bucket stored as `stored` holds `amount`: the estimate, pushed on
   * while rounding leaves the refill a hair short then, so the wait it promises always holds.
   */
  function wait(stored: LimitState | undefined, now: number, amount: number, estimate: number): number {
    let ms = estimate;
    for (let step = 1; tokensAt(stored, now + ms) < amount; step *= 2) ms += step;
    return ms;
  }

  /** `state`: the stored state; `commits`: whether the store replaces it with this decision's. */
  function settle(
    tokens: number,
    state: LimitState | undefined,
    commits: boolean,
    now: number,
    allowed: boolean,
    retryAfterMs: number,
  ): Evaluation {
    const missing = hard - tokens;
    const next = missing <= 0 ? undefined : [tokens, now];
    // Full (resetAt) when the state left behind is, checked as for retryAfterMs: a promise that holds.
    const ttlMs = missing <= 0 ? 0 : wait(commits ? next : state, now, hard, Math.ceil(missing / ratePerMs));
    return {
      allowed,
      remaining: remainingOf(tokens, overage),
      overage: overageInUse(tokens, overage),
      resetAt: now + ttlMs,
      retryAfterMs,
      next,
      ttlMs,
    };
  }

  return {
    kind: 'token-bucket',
    limit: capacity,
    overage,
    windowMs: Math.ceil(capacity / ratePerMs),
    evaluate: function evaluate(state, now, cost) {
      const tokens = tokensAt(state, now);
      // A charge commits the new state; a peek or a denial leaves the stored one as it was.
      if (cost <= tokens) return settle(tokens - cost, state, cost > 0, now, true, 0);
      if (cost > hard) return settle(tokens, state, false, now, false, Infinity);
      const retryAfterMs = wait(state, now, cost, Math.ceil((cost - tokens) / ratePerMs));
      return settle(tokens, state, false, now, false, retryAfterMs);
    },
    refund: function refund(state, now, amount) {
      return settle(Math.min(hard, tokensAt(state, now) + amount), state, true, now, true, 0);
    },
    scriptParams: constant([capacity, ratePerMs, overage]),
  };
}
