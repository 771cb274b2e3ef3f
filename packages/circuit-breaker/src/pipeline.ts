import { InvalidOptionError } from '@portcullis/core';
import type { FallbackPolicy } from './fallback.js';
import { contextFor, invoke, NEVER_ABORTED, type ExecuteOptions, type Policy, type Protected } from './policy.js';

/**
 * What a policy may resolve with besides the protected function's result: a fallback's answer
 * type, a nested pipeline's, `never` for every other policy.
 */
export type ExtraOf<P> = P extends FallbackPolicy<infer F> ? F : P extends Pipeline<infer E> ? E : never;

/**
 * Policies run as one, the first outermost; see {@link pipeline}. `Extra` is the union of what
 * its fallbacks may answer.
 */
export class Pipeline<Extra = never> implements Policy<Extra> {
  readonly #policies: readonly Policy<unknown>[];

  /** @param policies - Outermost first. */
  constructor(policies: readonly Policy<unknown>[]) {
    if (!Array.isArray(policies)) throw new InvalidOptionError('policies', policies, 'an array of policies');
    for (const [i, policy] of policies.entries()) {
      const candidate = policy as Partial<Policy> | null;
      // Both are called later (dispose at shutdown): a half-policy would fail then, not here.
      if (typeof candidate?.execute !== 'function' || typeof candidate.dispose !== 'function') {
        throw new InvalidOptionError(
          `policies[${i}]`,
          policy,
          'a policy (breaker, retry, timeout, bulkhead, fallback)',
        );
      }
    }
    this.#policies = policies;
  }

  /** Runs `fn` through every policy, the first outermost. */
  execute<T>(fn: Protected<T>, options?: ExecuteOptions): Promise<T | Extra> {
    return this.#run(0, fn, options) as Promise<T | Extra>;
  }

  /** Disposes every policy. */
  dispose(): void {
    for (const policy of this.#policies) policy.dispose();
  }

  #run<T>(index: number, fn: Protected<T>, options: ExecuteOptions | undefined): Promise<unknown> {
    const policy = this.#policies[index];
    if (policy === undefined) return invoke(fn, contextFor(options));
    return policy.execute(
      // A signal that can never abort is passed on as none, so inner policies skip listening to it.
      (context) => this.#run(index + 1, fn, context.signal === NEVER_ABORTED ? undefined : context),
      options,
    );
  }
}

/**
 * Composes policies into one, in the declared order: the first is the outermost, the last wraps
 * the protected function directly. One `execute(fn, { signal })` runs them all, typed: the result
 * is `T` plus whatever the fallbacks in it may answer.
 *
 * A sound order for calls to an upstream is `fallback, retry, breaker, timeout, bulkhead`:
 * the fallback answers whatever the rest gives up on; each retry passes the breaker (so an
 * open circuit stops retries at once, and every attempt counts toward the failure rate); each
 * attempt has its own timeout, which the breaker sees as a failure; and the bulkhead caps what
 * reaches the upstream.
 *
 * @param policies - Outermost first.
 * @throws InvalidOptionError naming `policies[i]` when one is not a policy.
 *
 * @example
 * ```ts
 * import { bulkhead, createBreaker, fallback, pipeline, retry, timeout } from '@portcullis/circuit-breaker';
 *
 * const cache = new Map<string, { id: string; stale: boolean }>();
 * const orders = pipeline(
 *   fallback(() => cache.get('order:42') ?? null),
 *   retry({ maxAttempts: 3 }),
 *   createBreaker({ name: 'orders' }),
 *   timeout({ ms: 2_000 }),
 *   bulkhead({ maxConcurrent: 20, maxQueue: 50 }),
 * );
 * // Typed as Promise<{ id: string; stale: boolean } | null>
 * const order = await orders.execute(async ({ signal }) => {
 *   const res = await fetch('http://orders.internal/42', { signal });
 *   return (await res.json()) as { id: string; stale: boolean };
 * });
 * ```
 */
export function pipeline<const P extends readonly Policy<unknown>[]>(...policies: P): Pipeline<ExtraOf<P[number]>> {
  return new Pipeline<ExtraOf<P[number]>>(policies);
}
