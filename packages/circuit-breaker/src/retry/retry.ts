import {
  duration,
  Emitter,
  InvalidOptionError,
  isFunctionOption,
  nonEmptyString,
  positiveInteger,
  systemClock,
  type Clock,
} from '@portcullis/core';
import { untilAborted } from '../abort.js';
import {
  isBrokenCircuitError,
  isPolicyDisposedError,
  isRetryBudgetExceededError,
  PolicyDisposedError,
  RetryBudgetExceededError,
} from '../errors.js';
import { contextFor, invoke, type ExecuteOptions, type Policy, type Protected, rejectWith } from '../policy.js';
import { startTimer } from '../timer.js';
import { backoffDelay, resolveBackoff, type Backoff, type BackoffOptions } from './backoff.js';
import { RetryBudget, type RetryBudgetOptions } from './budget.js';
import { defaultRetryAfter } from './retry-after.js';

/** Payload of the `retry` event. */
export interface RetryEvent {
  /** The policy's name. */
  readonly policy: string;
  /** The attempt about to run (2 for the first retry). */
  readonly attempt: number;
  /** The wait before it, in ms (backoff, or the upstream's `Retry-After` when longer). */
  readonly delayMs: number;
  /** The error (or, for `retryOnResult`, the result) that caused the retry. */
  readonly cause: unknown;
}

/** Payload of the `budgetExceeded` event. */
export interface RetryBudgetExceededEvent {
  /** The policy's name. */
  readonly policy: string;
  /** Attempts made. */
  readonly attempts: number;
  /** Calls and retries in the budget's window. */
  readonly calls: number;
  /** Retries in the budget's window. */
  readonly retries: number;
}

/**
 * The events of a retry policy.
 *
 * @example
 * ```ts
 * import { retry } from '@portcullis/circuit-breaker';
 *
 * const policy = retry({ maxAttempts: 3, name: 'orders' });
 * policy.events.on('retry', (e) => metrics.increment(`retry.${e.policy}`));
 * policy.events.on('budgetExceeded', (e) => metrics.increment(`retry.${e.policy}.budget_exceeded`));
 * ```
 */
export interface RetryEvents {
  /** A retry was scheduled. */
  retry: RetryEvent;
  /** A retry was refused by the budget. */
  budgetExceeded: RetryBudgetExceededEvent;
}

/**
 * Options of {@link retry}.
 *
 * @example
 * ```ts
 * import { retry, type RetryOptions } from '@portcullis/circuit-breaker';
 *
 * // Problem 7: 100, 200, 400 ms plus jitter, 3 retries, idempotent calls only.
 * const options: RetryOptions = {
 *   maxAttempts: 4,
 *   backoff: { initialMs: 100, multiplier: 2, jitter: 'equal' },
 *   retryOn: (error) => error instanceof TypeError, // network errors from fetch
 * };
 * ```
 */
export interface RetryOptions {
  /** Attempts in all, the first included (whole number >= 1). Default 3. */
  maxAttempts?: number | undefined;
  /** Delays between attempts; see {@link BackoffOptions}. */
  backoff?: BackoffOptions | undefined;
  /**
   * Whether an error is worth retrying (only retry idempotent calls). Default: every error except
   * a {@link BrokenCircuitError} (the breaker said the upstream is down; retrying only waits), a
   * `PolicyDisposedError` and a `RetryBudgetExceededError`.
   */
  retryOn?: ((error: unknown, attempt: number) => boolean) | undefined;
  /**
   * Whether a result is worth retrying (e.g. a `Response` with status 503). When attempts run out
   * the last result is returned. Default: none is.
   */
  retryOnResult?: ((result: unknown, attempt: number) => boolean) | undefined;
  /**
   * The wait the upstream asked for, in ms, from an error or a retried result; the retry waits at
   * least this long. A value that is not a number >= 0 (NaN, negative) is no answer: the backoff
   * applies. Default: a `retryAfterMs` property, or a `Retry-After` header on `headers` or
   * `response.headers` (delta-seconds or an HTTP date; see `parseRetryAfter`).
   */
  retryAfter?: ((errorOrResult: unknown, now: number) => number | undefined) | undefined;
  /**
   * When the upstream asks for a longer wait than this (ms), do not retry: fail now rather than
   * hold the caller. Finite, >= 0. Default: `backoff.maxMs`. Waits beyond `setTimeout`'s limit
   * (2^31 − 1 ms, about 24.8 days) are honoured (a chain of timers), never cut short.
   */
  maxRetryAfterMs?: number | undefined;
  /** The retry budget; see {@link RetryBudgetOptions}. `false` turns it off. Default: on, with its defaults. */
  budget?: RetryBudgetOptions | false | undefined;
  /**
   * Uniform random numbers in [0, 1) for jitter. Default `Math.random`. A number outside [0, 1)
   * rejects the call with an `InvalidOptionError` naming `random`.
   */
  random?: (() => number) | undefined;
  /** The clock for the budget window and `Retry-After` dates. Default {@link systemClock}. */
  clock?: Clock | undefined;
  /** Names the policy in events (1 to 200 characters). Default `'retry'`. */
  name?: string | undefined;
}

/** A retry policy; see {@link retry}. */
export class RetryPolicy implements Policy {
  /** Retries and budget refusals; see {@link RetryEvents}. */
  readonly events: Emitter<RetryEvents> = new Emitter<RetryEvents>();
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** The backoff, validated. */
  readonly backoff: Backoff;
  readonly #retryOn: (error: unknown, attempt: number) => boolean;
  readonly #retryOnResult: ((result: unknown, attempt: number) => boolean) | undefined;
  readonly #retryAfter: (value: unknown, now: number) => number | undefined;
  readonly #maxRetryAfterMs: number;
  readonly #budget: RetryBudget | undefined;
  readonly #random: () => number;
  readonly #clock: Clock;
  readonly #name: string;
  /** Cancellers of the backoff sleeps in progress, for `dispose`. */
  readonly #sleeping = new Set<(reason: unknown) => void>();

  /** @param options - See {@link RetryOptions}; validated here. */
  constructor(options: RetryOptions = {}) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object');
    }
    this.maxAttempts = positiveInteger(options.maxAttempts ?? 3, 'maxAttempts');
    this.backoff = resolveBackoff(options.backoff);
    this.#retryOn = options.retryOn === undefined ? defaultRetryOn : isFunctionOption(options.retryOn, 'retryOn');
    this.#retryOnResult =
      options.retryOnResult === undefined ? undefined : isFunctionOption(options.retryOnResult, 'retryOnResult');
    this.#retryAfter =
      options.retryAfter === undefined ? defaultRetryAfter : isFunctionOption(options.retryAfter, 'retryAfter');
    this.#maxRetryAfterMs = duration(options.maxRetryAfterMs ?? this.backoff.maxMs, 'maxRetryAfterMs');
    this.#random = options.random === undefined ? Math.random : isFunctionOption(options.random, 'random');
    this.#clock = options.clock ?? systemClock;
    if (typeof (this.#clock as Partial<Clock>).now !== 'function') {
      throw new InvalidOptionError('clock', options.clock, 'a Clock ({ now(): number })');
    }
    const budget: unknown = options.budget;
    this.#budget = budget === false ? undefined : new RetryBudget(budget ?? {}, this.#clock.now());
    this.#name = nonEmptyString(options.name ?? 'retry', 'name', 200);
  }

  /** Calls and retries in the budget's current window (zeros without a budget). */
  budgetUsage(): { calls: number; retries: number } {
    return this.#budget?.usage(this.#clock.now()) ?? { calls: 0, retries: 0 };
  }

  /**
   * Runs `fn`, and again after a backoff while it fails with a retryable error (or returns a
   * retryable result), up to `maxAttempts`, within the budget. Rejects with the last error; with a
   * {@link RetryBudgetExceededError} (cause: the last error) when the budget refused a retry. When
   * the caller's signal aborts, rejects at once with its reason: no further attempt, the backoff
   * timer cleared.
   */
  execute<T>(fn: Protected<T>, options?: ExecuteOptions): Promise<T> {
    const signal = options?.signal;
    if (signal?.aborted === true) return rejectWith(signal.reason);
    this.#budget?.recordCall(this.#clock.now());
    return this.#attempt(fn, contextFor(options), signal, 1, this.backoff.initialMs);
  }

  /** Rejects every call waiting in a backoff with `PolicyDisposedError` and clears its timer. */
  dispose(): void {
    const error = new PolicyDisposedError('retry');
    for (const cancel of [...this.#sleeping]) cancel(error);
  }

  async #attempt<T>(
    fn: Protected<T>,
    context: Parameters<Protected<T>>[0],
    signal: AbortSignal | undefined,
    attempt: number,
    previousDelay: number,
  ): Promise<T> {
    let outcome: { readonly value: T } | { readonly error: unknown };
    try {
      outcome = { value: await untilAborted(invoke(fn, context), signal) };
    } catch (error) {
      if (signal?.aborted === true) throw error;
      outcome = { error };
    }
    if ('value' in outcome) {
      const { value } = outcome;
      if (this.#retryOnResult === undefined || attempt >= this.maxAttempts || !this.#retryOnResult(value, attempt)) {
        return value;
      }
      const delay = this.#delay(attempt, previousDelay, value);
      if (delay === undefined || !this.#takeBudget(attempt)) return value;
      await this.#sleep(delay, attempt, value, signal);
      return this.#attempt(fn, context, signal, attempt + 1, delay);
    }
    const { error } = outcome;
    if (attempt >= this.maxAttempts || !this.#retryOn(error, attempt)) throw error;
    const delay = this.#delay(attempt, previousDelay, error);
    if (delay === undefined) throw error;
    if (!this.#takeBudget(attempt)) throw new RetryBudgetExceededError(attempt, error);
    await this.#sleep(delay, attempt, error, signal);
    return this.#attempt(fn, context, signal, attempt + 1, delay);
  }

  /** The wait before the next attempt, or `undefined` when the upstream asked for too long a one. */
  #delay(attempt: number, previousDelay: number, cause: unknown): number | undefined {
    const random = this.#random();
    // Out of range, it would stretch a delay past maxMs (or make it NaN, which a timer reads as 1 ms).
    if (!(random >= 0 && random < 1)) throw new InvalidOptionError('random', random, 'numbers in [0, 1)');
    const backoff = backoffDelay(this.backoff, attempt - 1, previousDelay, random);
    const asked: unknown = this.#retryAfter(cause, this.#clock.now());
    // Only a number of ms >= 0 is a wait (Infinity: longer than any cap); anything else is no answer.
    if (typeof asked !== 'number' || !(asked >= 0)) return backoff;
    if (asked > this.#maxRetryAfterMs) return undefined;
    return Math.max(backoff, asked);
  }

  #takeBudget(attempts: number): boolean {
    const budget = this.#budget;
    if (budget === undefined) return true;
    const now = this.#clock.now();
    if (budget.tryRetry(now)) return true;
    if (this.events.has('budgetExceeded')) {
      const { calls, retries } = budget.usage(now);
      this.events.emit('budgetExceeded', { policy: this.#name, attempts, calls, retries });
    }
    return false;
  }

  /** Waits `ms`; rejects at once with the abort reason if `signal` aborts, or when disposed. */
  #sleep(ms: number, attempt: number, cause: unknown, signal: AbortSignal | undefined): Promise<void> {
    if (this.events.has('retry')) {
      this.events.emit('retry', { policy: this.#name, attempt: attempt + 1, delayMs: ms, cause });
    }
    if (signal?.aborted === true) return rejectWith(signal.reason);
    const sleeping = this.#sleeping;
    return new Promise<void>((resolve, reject) => {
      const stop = (reason: unknown): void => {
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        sleeping.delete(stop);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- errors and abort reasons pass through unchanged
        reject(reason);
      };
      const onAbort = (): void => {
        stop((signal as AbortSignal).reason);
      };
      const cancelTimer = startTimer(() => {
        signal?.removeEventListener('abort', onAbort);
        sleeping.delete(stop);
        resolve();
      }, ms);
      sleeping.add(stop);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function defaultRetryOn(error: unknown): boolean {
  return !isBrokenCircuitError(error) && !isPolicyDisposedError(error) && !isRetryBudgetExceededError(error);
}

/**
 * A retry policy: exponential backoff with jitter (see {@link Jitter}), a cap on attempts, retries
 * only for retryable outcomes, the upstream's `Retry-After` honoured, a retry budget so retries
 * cannot amplify an outage, and cancellation through the caller's `AbortSignal` (at once, also
 * during a backoff).
 *
 * Retry only idempotent calls: pass `retryOn` to say which errors of which calls qualify.
 *
 * @param options - See {@link RetryOptions}.
 * @throws InvalidOptionError naming the option (`maxAttempts`, `backoff.maxMs`, `budget.ratio`, …).
 *
 * @example
 * ```ts
 * import { retry } from '@portcullis/circuit-breaker';
 *
 * const policy = retry({ maxAttempts: 4, backoff: { initialMs: 100, jitter: 'full' }, budget: { ratio: 0.2 } });
 * const res = await policy.execute(({ signal }) => fetch('http://orders.internal/42', { signal }), {
 *   signal: AbortSignal.timeout(5_000),
 * });
 * ```
 */
export function retry(options: RetryOptions = {}): RetryPolicy {
  return new RetryPolicy(options);
}
