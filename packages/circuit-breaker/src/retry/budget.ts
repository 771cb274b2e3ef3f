import { finiteNumber, InvalidOptionError, nonNegativeInteger, positiveNumber } from '@portcullis/core';
import { BucketRing } from '../bucket-ring.js';
import { DecimalRatio } from '../decimal-ratio.js';

/**
 * A retry budget: a retry is allowed only if, counting it, the retries in a sliding window stay
 * within `minRetries + ratio × calls` in that window (calls are first attempts). With the
 * defaults, retries add at most 20% to the load an upstream sees once traffic is above a trickle,
 * however many attempts each call would allow, so retries cannot amplify an outage. (Finagle's
 * and gRPC's retry budgets work the same way.)
 *
 * @example
 * ```ts
 * import { retry, type RetryBudgetOptions } from '@portcullis/circuit-breaker';
 *
 * const budget: RetryBudgetOptions = { ratio: 0.1, minRetries: 5, windowMs: 10_000 };
 * const policy = retry({ maxAttempts: 3, budget });
 * ```
 */
export interface RetryBudgetOptions {
  /**
   * Retries allowed per call in the window (finite, >= 0), compared exactly with the decimal
   * written (0.29 × 100 calls allows 29 retries). Default 0.2.
   */
  ratio?: number | undefined;
  /** Retries allowed in the window whatever the traffic, so quiet services can retry. Whole number >= 0. Default 10. */
  minRetries?: number | undefined;
  /** The window, in ms (finite, > 0). Default 10000. */
  windowMs?: number | undefined;
  /** Buckets the window slides by (whole number, 1..1000). Default 10. */
  buckets?: number | undefined;
}

/**
 * A retry budget on its own, for a retry loop of your own (a hot path that cannot afford a policy
 * and its promises per call); `retry({ budget })` uses one. Count every call (first attempt) with
 * `recordCall`, and ask `tryRetry` before each retry: it takes one retry when the budget allows it.
 * Calls and retries per time bucket, in a ring; the window is the newest `buckets` buckets (it
 * slides a bucket at a time). Fixed size, O(1) amortised per operation; no timer.
 *
 * @example
 * ```ts
 * import { RetryBudget } from '@portcullis/circuit-breaker';
 *
 * const budget = new RetryBudget({ ratio: 0.2 }, Date.now());
 * budget.recordCall(Date.now());
 * if (budget.tryRetry(Date.now())) {
 *   // retry
 * }
 * ```
 */
export class RetryBudget {
  /** Retries allowed per call in the window. */
  readonly ratio: number;
  /** Retries allowed in the window whatever the traffic. */
  readonly minRetries: number;
  readonly #ratio: DecimalRatio;
  readonly #ring: BucketRing;

  /**
   * @param options - See {@link RetryBudgetOptions}; validated here (names start with `budget.`).
   * @param now - The clock's time now, in ms: the window starts here.
   * @throws InvalidOptionError naming the option that is out of range.
   */
  constructor(options: RetryBudgetOptions, now: number) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('budget', options, 'an object or false');
    }
    this.ratio = finiteNumber(options.ratio ?? 0.2, 'budget.ratio', { min: 0 });
    this.#ratio = new DecimalRatio(this.ratio);
    this.minRetries = nonNegativeInteger(options.minRetries ?? 10, 'budget.minRetries');
    const windowMs = positiveNumber(options.windowMs ?? 10_000, 'budget.windowMs');
    const buckets = finiteNumber(options.buckets ?? 10, 'budget.buckets', { min: 1, max: 1000, integer: true });
    this.#ring = new BucketRing(2, buckets, windowMs / buckets, now);
  }

  /** Counts a call (a first attempt). */
  recordCall(now: number): void {
    this.#ring.add(this.#ring.slide(now), CALLS);
  }

  /** Takes one retry from the budget if it allows one; returns whether it did. */
  tryRetry(now: number): boolean {
    const ring = this.#ring;
    const bucket = ring.slide(now);
    // retries + 1 <= minRetries + ratio × calls, exactly: with ratio 0.29, 100 calls allow 29.
    const over = (ring.totals[RETRIES] as number) + 1 - this.minRetries;
    if (this.#ratio.compare(over, ring.totals[CALLS] as number) > 0) return false;
    ring.add(bucket, RETRIES);
    return true;
  }

  /** Calls and retries in the window at `now`. */
  usage(now: number): { calls: number; retries: number } {
    const ring = this.#ring;
    ring.slide(now);
    return { calls: ring.totals[CALLS] as number, retries: ring.totals[RETRIES] as number };
  }
}

// The series of the budget's ring.
const CALLS = 0;
const RETRIES = 1;
