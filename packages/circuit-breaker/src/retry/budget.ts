import { finiteNumber, InvalidOptionError, nonNegativeInteger, positiveNumber } from '@portcullis/core';

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
  /** Retries allowed per call in the window (finite, >= 0). Default 0.2. */
  ratio?: number | undefined;
  /** Retries allowed in the window whatever the traffic, so quiet services can retry. Whole number >= 0. Default 10. */
  minRetries?: number | undefined;
  /** The window, in ms (finite, > 0). Default 10000. */
  windowMs?: number | undefined;
  /** Buckets the window slides by (whole number, 1..1000). Default 10. */
  buckets?: number | undefined;
}

/**
 * Calls and retries per time bucket, in rings; the window is the newest `buckets` buckets (it
 * slides a bucket at a time). Fixed size, O(1) amortised per operation.
 */
export class RetryBudget {
  readonly ratio: number;
  readonly minRetries: number;
  readonly #bucketMs: number;
  readonly #calls: Float64Array;
  readonly #retries: Float64Array;
  #head: number;
  #callTotal = 0;
  #retryTotal = 0;

  constructor(options: RetryBudgetOptions, now: number) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('budget', options, 'an object or false');
    }
    this.ratio = finiteNumber(options.ratio ?? 0.2, 'budget.ratio', { min: 0 });
    this.minRetries = nonNegativeInteger(options.minRetries ?? 10, 'budget.minRetries');
    const windowMs = positiveNumber(options.windowMs ?? 10_000, 'budget.windowMs');
    const buckets = finiteNumber(options.buckets ?? 10, 'budget.buckets', { min: 1, max: 1000, integer: true });
    this.#bucketMs = windowMs / buckets;
    this.#calls = new Float64Array(buckets);
    this.#retries = new Float64Array(buckets);
    this.#head = Math.floor(now / this.#bucketMs);
  }

  /** Counts a call (a first attempt). */
  recordCall(now: number): void {
    const slot = this.#slide(now);
    this.#calls[slot] = (this.#calls[slot] as number) + 1;
    this.#callTotal++;
  }

  /** Takes one retry from the budget if it allows one; returns whether it did. */
  tryRetry(now: number): boolean {
    const slot = this.#slide(now);
    if (this.#retryTotal + 1 > this.minRetries + this.ratio * this.#callTotal) return false;
    this.#retries[slot] = (this.#retries[slot] as number) + 1;
    this.#retryTotal++;
    return true;
  }

  /** Calls and retries in the window at `now`. */
  usage(now: number): { calls: number; retries: number } {
    this.#slide(now);
    return { calls: this.#callTotal, retries: this.#retryTotal };
  }

  #slide(now: number): number {
    const size = this.#calls.length;
    const index = Math.floor(now / this.#bucketMs);
    const steps = Math.min(index - this.#head, size);
    if (steps > 0) {
      for (let k = 1; k <= steps; k++) {
        const slot = mod(this.#head + k, size);
        this.#callTotal -= this.#calls[slot] as number;
        this.#retryTotal -= this.#retries[slot] as number;
        this.#calls[slot] = 0;
        this.#retries[slot] = 0;
      }
      this.#head = index;
    }
    return mod(this.#head, size);
  }
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
