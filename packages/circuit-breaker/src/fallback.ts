import { Emitter, InvalidOptionError, isFunctionOption, nonEmptyString } from '@portcullis/core';
import { contextFor, invoke, type ExecuteOptions, type Policy, type Protected } from './policy.js';

/** Payload of the `fallback` event. */
export interface FallbackEvent {
  /** The policy's name. */
  readonly policy: string;
  /** The error the fallback replaced. */
  readonly error: unknown;
}

/**
 * The events of a fallback policy.
 *
 * @example
 * ```ts
 * import { fallback } from '@portcullis/circuit-breaker';
 *
 * const cached = fallback(() => cache.get('orders:42'), { name: 'orders-cache' });
 * cached.events.on('fallback', (e) => metrics.increment(`fallback.${e.policy}`));
 * ```
 */
export interface FallbackEvents {
  /** A call failed and the fallback answered instead. */
  fallback: FallbackEvent;
}

/**
 * Options of {@link fallback}.
 *
 * @example
 * ```ts
 * import { isBrokenCircuitError, type FallbackOptions } from '@portcullis/circuit-breaker';
 *
 * // Fall back only when the breaker refused, not on every error.
 * const options: FallbackOptions = { when: isBrokenCircuitError };
 * ```
 */
export interface FallbackOptions {
  /** Which errors the fallback answers; others propagate. Default: every error. */
  when?: ((error: unknown) => boolean) | undefined;
  /** Names the policy in events (1 to 200 characters). Default `'fallback'`. */
  name?: string | undefined;
}

/**
 * A fallback policy; see {@link fallback}. `F` is the fallback's result type, so a pipeline with
 * a fallback resolves with `T | F`.
 */
export class FallbackPolicy<F> implements Policy<F> {
  /** Fallbacks used; see {@link FallbackEvents}. */
  readonly events: Emitter<FallbackEvents> = new Emitter<FallbackEvents>();
  readonly #answer: (error: unknown) => F | PromiseLike<F>;
  readonly #when: ((error: unknown) => boolean) | undefined;
  readonly #name: string;

  /**
   * @param answer - The fallback result for an error.
   * @param options - See {@link FallbackOptions}.
   */
  constructor(answer: (error: unknown) => F | PromiseLike<F>, options: FallbackOptions = {}) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object');
    }
    this.#answer = isFunctionOption(answer, 'answer');
    this.#when = options.when === undefined ? undefined : isFunctionOption(options.when, 'when');
    this.#name = nonEmptyString(options.name ?? 'fallback', 'name', 200);
  }

  /**
   * Runs `fn`; when it fails with an error `when` accepts, resolves with the fallback instead. An
   * error that follows the caller's own abort is passed on: the caller no longer wants an answer.
   */
  execute<T>(fn: Protected<T>, options?: ExecuteOptions): Promise<T | F> {
    const signal = options?.signal;
    return invoke(fn, contextFor(options)).then(undefined, (error: unknown) => {
      if (signal?.aborted === true || (this.#when !== undefined && !this.#when(error))) throw error;
      if (this.events.has('fallback')) this.events.emit('fallback', { policy: this.#name, error });
      return this.#answer(error);
    });
  }

  /** A fallback holds no timer: nothing to dispose. */
  dispose(): void {
    // Deliberately empty.
  }
}

/**
 * A fallback: when the protected call fails, answer with something else. Pick it per use: a
 * cached response for reads, a fast `503` for writes, an empty result for non-critical reads.
 *
 * Given a function, the fallback is its result for the error (sync or async); given any other
 * value, that value. (To fall back to a function value, return it from a function.)
 *
 * @param answer - The fallback value, or a function of the error returning it.
 * @param options - See {@link FallbackOptions}.
 * @throws InvalidOptionError naming `when` when it is given but not a function.
 *
 * @example
 * ```ts
 * import { fallback, pipeline, createBreaker, isBrokenCircuitError } from '@portcullis/circuit-breaker';
 *
 * const cache = new Map<string, unknown>();
 * const getOrder = pipeline(
 *   fallback((error) => cache.get('order:42') ?? Promise.reject(error as Error)),
 *   createBreaker({ name: 'orders' }),
 * );
 * const recommendations = fallback([] as string[], { when: isBrokenCircuitError });
 * ```
 */
export function fallback<F>(
  answer: (error: unknown) => F | PromiseLike<F>,
  options?: FallbackOptions,
): FallbackPolicy<F>;
/**
 * A fallback to a fixed value; see the other signature.
 *
 * @param answer - The value.
 * @param options - See {@link FallbackOptions}.
 */
// Two signatures on purpose: a function's fallback type is its result, a value's is the value itself.
// eslint-disable-next-line @typescript-eslint/unified-signatures
export function fallback<const F>(answer: F, options?: FallbackOptions): FallbackPolicy<F>;
export function fallback<F>(
  answer: F | ((error: unknown) => F | PromiseLike<F>),
  options?: FallbackOptions,
): FallbackPolicy<F> {
  const fn = typeof answer === 'function' ? (answer as (error: unknown) => F | PromiseLike<F>) : (): F => answer;
  return new FallbackPolicy(fn, options);
}
