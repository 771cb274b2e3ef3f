import { finiteNumber, positiveNumber } from '@portcullis/core';
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
  const hard = capacity + overage;

  function tokensAt(state: LimitState | undefined, now: number): number {
    if (state === undefined) return hard;
    // Indexing, not destructuring: this runs on every decision.
    const tokens = state[0] ?? hard;
    const updatedAt = state[1] ?? now;
    return Math.min(hard, tokens + Math.max(0, now - updatedAt) * ratePerMs);
  }

  function settle(tokens: number, now: number, allowed: boolean, retryAfterMs: number): Evaluation {
    const missing = hard - tokens;
    const ttlMs = Math.ceil(missing / ratePerMs);
    return {
      allowed,
      remaining: remainingOf(tokens, overage),
      overage: overageInUse(tokens, overage),
      resetAt: now + ttlMs,
      retryAfterMs,
      next: missing <= 0 ? undefined : [tokens, now],
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
      if (cost <= tokens) return settle(tokens - cost, now, true, 0);
      if (cost > hard) return settle(tokens, now, false, Infinity);
      let retryAfterMs = Math.ceil((cost - tokens) / ratePerMs);
      // Rounding may leave the refill a hair short at that instant: promise only what will hold.
      if (tokensAt(state, now + retryAfterMs) < cost) retryAfterMs += 1;
      return settle(tokens, now, false, retryAfterMs);
    },
    refund: function refund(state, now, amount) {
      return settle(Math.min(hard, tokensAt(state, now) + amount), now, true, 0);
    },
    scriptParams: constant([capacity, ratePerMs, overage]),
  };
}
