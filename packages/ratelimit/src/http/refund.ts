import type { OnComplete, Outcome } from '@portcullis/core';
import type { Decision } from '../decision.js';
import type { RateLimiter } from '../limiter.js';
import { isPromiseLike } from './promise-like.js';

/** Which outcomes give their units back. */
export interface RefundRule {
  /** Refund requests that failed: status >= 400, or the client went away. */
  readonly failed: boolean;
  /** Refund requests that succeeded: status < 400. */
  readonly successful: boolean;
}

/**
 * An `onComplete` that refunds what `decision` charged when the request ended as `rule` says.
 * A refund that fails (the store is down) is dropped: the response has gone, the only cost is a
 * request that stays counted, and a rejected promise must not become an unhandled rejection.
 */
export function refundOnComplete(limiter: RateLimiter, decision: Decision, rule: RefundRule): OnComplete {
  return function refundSkipped(outcome: Outcome): void {
    const failed = outcome.aborted === true || outcome.status >= 400;
    if (failed ? !rule.failed : !rule.successful) return;
    try {
      const refunded = limiter.refund(decision);
      if (isPromiseLike(refunded)) refunded.then(undefined, ignoreRefundError);
    } catch {
      // Dropped, as above.
    }
  };
}

function ignoreRefundError(): void {
  // Dropped: see refundOnComplete.
}
