import { hasBrand, PortcullisError } from '@portcullis/core';
import type { BreakerState } from './breaker-state.js';

/**
 * A call was refused because its breaker is open, isolated, or half-open with every probe slot
 * taken. The protected function did not run.
 *
 * Built without a stack trace, and shared by every call refused during one open period (so a
 * refusal allocates nothing): treat it as read-only. `retryAt` says when the breaker will let a
 * probe through, on the breaker's clock.
 *
 * @example
 * ```ts
 * import { isBrokenCircuitError } from '@portcullis/circuit-breaker';
 *
 * try {
 *   await breaker.execute(() => fetch('http://orders.internal/orders/42'));
 * } catch (error) {
 *   if (isBrokenCircuitError(error)) console.warn(`orders is ${error.state}`);
 * }
 * ```
 */
export class BrokenCircuitError extends PortcullisError {
  /** Brand checked by {@link isBrokenCircuitError}. */
  readonly isBrokenCircuitError = true as const;
  /** The breaker's name. */
  readonly breaker: string;
  /** The state that refused the call. */
  readonly state: Exclude<BreakerState, 'closed'>;
  /**
   * When the breaker lets a probe through (clock ms): the end of the open period; `undefined` when
   * half-open (a probe slot frees when a probe ends) or isolated (until `reset()`).
   */
  readonly retryAt: number | undefined;

  constructor(breaker: string, state: Exclude<BreakerState, 'closed'>, retryAt: number | undefined) {
    super(
      'ERR_PORTCULLIS_BROKEN_CIRCUIT',
      state === 'half-open'
        ? `Circuit "${breaker}" is half-open and all its probes are in flight`
        : `Circuit "${breaker}" is ${state}`,
    );
    this.breaker = breaker;
    this.state = state;
    this.retryAt = retryAt;
  }
}

/**
 * True when `value` is a {@link BrokenCircuitError}.
 *
 * @example
 * ```ts
 * import { isBrokenCircuitError } from '@portcullis/circuit-breaker';
 *
 * isBrokenCircuitError(new Error('x')); // false
 * ```
 */
export function isBrokenCircuitError(value: unknown): value is BrokenCircuitError {
  return hasBrand(value, 'isBrokenCircuitError');
}

/**
 * The protected function did not settle within the timeout. Its signal has been aborted with this
 * error as the reason.
 *
 * @example
 * ```ts
 * import { isTimeoutError } from '@portcullis/circuit-breaker';
 *
 * try {
 *   await policy.execute(({ signal }) => fetch(url, { signal }));
 * } catch (error) {
 *   if (isTimeoutError(error)) console.warn(`gave up after ${error.timeoutMs} ms`);
 * }
 * ```
 */
export class TimeoutError extends PortcullisError {
  /** Brand checked by {@link isTimeoutError}. */
  readonly isTimeoutError = true as const;
  /** The timeout that expired, in ms. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super('ERR_PORTCULLIS_TIMEOUT', `The operation did not finish within ${String(timeoutMs)} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * True when `value` is a {@link TimeoutError}.
 *
 * @example
 * ```ts
 * import { isTimeoutError } from '@portcullis/circuit-breaker';
 *
 * isTimeoutError(new Error('x')); // false
 * ```
 */
export function isTimeoutError(value: unknown): value is TimeoutError {
  return hasBrand(value, 'isTimeoutError');
}

/**
 * A bulkhead refused a call: every slot was busy and the queue was full. Built without a stack
 * trace (it is thrown in bulk under overload).
 *
 * @example
 * ```ts
 * import { isBulkheadRejectedError } from '@portcullis/circuit-breaker';
 *
 * try {
 *   await bulkhead.execute(() => work());
 * } catch (error) {
 *   if (isBulkheadRejectedError(error)) console.warn('too busy');
 * }
 * ```
 */
export class BulkheadRejectedError extends PortcullisError {
  /** Brand checked by {@link isBulkheadRejectedError}. */
  readonly isBulkheadRejectedError = true as const;
  /** The bulkhead's `maxConcurrent`. */
  readonly maxConcurrent: number;
  /** The bulkhead's `maxQueue`. */
  readonly maxQueue: number;

  constructor(maxConcurrent: number, maxQueue: number) {
    super(
      'ERR_PORTCULLIS_BULKHEAD_REJECTED',
      `Bulkhead full: ${String(maxConcurrent)} calls running and ${String(maxQueue)} queued`,
    );
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }
}

/**
 * True when `value` is a {@link BulkheadRejectedError}.
 *
 * @example
 * ```ts
 * import { isBulkheadRejectedError } from '@portcullis/circuit-breaker';
 *
 * isBulkheadRejectedError(new Error('x')); // false
 * ```
 */
export function isBulkheadRejectedError(value: unknown): value is BulkheadRejectedError {
  return hasBrand(value, 'isBulkheadRejectedError');
}

/**
 * A call failed with a retryable error, but retrying would have exceeded the retry budget (retries
 * are capped at a share of calls, so retries cannot multiply the load on a failing upstream). The
 * last attempt's error is the `cause`.
 *
 * @example
 * ```ts
 * import { isRetryBudgetExceededError } from '@portcullis/circuit-breaker';
 *
 * try {
 *   await policy.execute(() => callUpstream());
 * } catch (error) {
 *   if (isRetryBudgetExceededError(error)) console.warn('not retried:', error.cause);
 * }
 * ```
 */
export class RetryBudgetExceededError extends PortcullisError {
  /** Brand checked by {@link isRetryBudgetExceededError}. */
  readonly isRetryBudgetExceededError = true as const;
  /** How many attempts were made before the budget refused another. */
  readonly attempts: number;

  constructor(attempts: number, cause: unknown) {
    super(
      'ERR_PORTCULLIS_RETRY_BUDGET_EXCEEDED',
      `Not retried after ${String(attempts)} attempt(s): the retry budget is spent`,
      { cause },
    );
    this.attempts = attempts;
  }
}

/**
 * True when `value` is a {@link RetryBudgetExceededError}.
 *
 * @example
 * ```ts
 * import { isRetryBudgetExceededError } from '@portcullis/circuit-breaker';
 *
 * isRetryBudgetExceededError(new Error('x')); // false
 * ```
 */
export function isRetryBudgetExceededError(value: unknown): value is RetryBudgetExceededError {
  return hasBrand(value, 'isRetryBudgetExceededError');
}

/**
 * The policy was disposed while this call was waiting (in a bulkhead queue, a retry backoff or a
 * timeout): the call is rejected with this and its signal aborted.
 *
 * @example
 * ```ts
 * import { isPolicyDisposedError } from '@portcullis/circuit-breaker';
 *
 * policy.dispose();
 * await pending.catch((error: unknown) => isPolicyDisposedError(error)); // true
 * ```
 */
export class PolicyDisposedError extends PortcullisError {
  /** Brand checked by {@link isPolicyDisposedError}. */
  readonly isPolicyDisposedError = true as const;

  constructor(policy: string) {
    super('ERR_PORTCULLIS_POLICY_DISPOSED', `The ${policy} policy was disposed`);
  }
}

/**
 * True when `value` is a {@link PolicyDisposedError}.
 *
 * @example
 * ```ts
 * import { isPolicyDisposedError } from '@portcullis/circuit-breaker';
 *
 * isPolicyDisposedError(new Error('x')); // false
 * ```
 */
export function isPolicyDisposedError(value: unknown): value is PolicyDisposedError {
  return hasBrand(value, 'isPolicyDisposedError');
}
