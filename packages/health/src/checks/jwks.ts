import { duration, InvalidOptionError, systemClock, type Clock } from '@portcullis/core';
import type { CheckOptions, CheckOutcome } from '../check.js';
import { builtIn, type BuiltInCheckOptions } from './options.js';

/**
 * What the JWKS check reads of a key set: `@portcullis/jwt-cache`'s `JwksSource` fits (its
 * `state()`; this package does not depend on it).
 *
 * @example
 * ```ts
 * import type { JwksStateView } from '@portcullis/health';
 *
 * const now = Date.now();
 * const view: JwksStateView = {
 *   state: () => ({ fetchedAt: now, expiresAt: now + 600_000, servableUntil: now + 3_600_000 }),
 * };
 * ```
 */
export interface JwksStateView {
  /** The cached key set's state now (the source's `state()`). */
  state(): {
    /** Last successful fetch (epoch ms), `undefined` before the first. */
    readonly fetchedAt: number | undefined;
    /** When the set stops being fresh (epoch ms). */
    readonly expiresAt: number | undefined;
    /** Until when it may be served, stale-if-error included (epoch ms). */
    readonly servableUntil: number | undefined;
  };
}

/**
 * Options of {@link jwksCheck}.
 *
 * @example
 * ```ts
 * import type { JwksCheckOptions } from '@portcullis/health';
 *
 * import { createJwksSource } from '@portcullis/jwt-cache';
 *
 * const source = createJwksSource({ url: 'https://idp.example.com/.well-known/jwks.json' });
 * const options: JwksCheckOptions = { source, graceMs: 60_000 };
 * ```
 */
export interface JwksCheckOptions extends BuiltInCheckOptions {
  /** The key set (`createJwksSource(...)`, or `verifier.source(issuer)`). */
  source: JwksStateView;
  /** How long past expiry stale keys still count as `pass` (a refresh may be on its way). Default 0. */
  graceMs?: number | undefined;
  /** The clock the source uses (its times are compared with it). Default `systemClock`. */
  clock?: Clock | undefined;
}

/**
 * Checks a JWKS cache's freshness: fresh, or stale for at most `graceMs` → `pass`; stale beyond
 * the grace but still servable (stale-if-error) → `warn` (tokens verify, the issuer's endpoint is
 * failing); never fetched, or past `servableUntil` → `fail` (every token is refused). Observed
 * value: the keys' age in ms. Defaults: name `jwks`, component type `component`.
 *
 * @param options - See {@link JwksCheckOptions} and {@link BuiltInCheckOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import { createJwksSource } from '@portcullis/jwt-cache';
 * import { createHealth, jwksCheck } from '@portcullis/health';
 *
 * const jwks = createJwksSource({ url: 'https://idp.example.com/.well-known/jwks.json' });
 * const health = createHealth({ checks: [jwksCheck({ source: jwks, graceMs: 60_000 })] });
 * ```
 */
export function jwksCheck(options: JwksCheckOptions): CheckOptions {
  const { source, graceMs = 0, clock = systemClock, ...rest } = options;
  if (typeof (source as Partial<JwksStateView> | null)?.state !== 'function') {
    throw new InvalidOptionError('source', source, 'a JWKS source (with state())');
  }
  const grace = duration(graceMs, 'graceMs');
  if (typeof (clock as Partial<Clock> | null)?.now !== 'function') {
    throw new InvalidOptionError('clock', clock, 'a Clock ({ now(): number })');
  }
  return builtIn({ name: 'jwks', componentType: 'component' }, rest, function jwksFreshnessCheck(): CheckOutcome {
    const { fetchedAt, expiresAt, servableUntil } = source.state();
    const now = clock.now();
    if (fetchedAt === undefined || expiresAt === undefined) {
      return { status: 'fail', output: 'no key set fetched yet' };
    }
    const observed = { observedValue: Math.max(0, now - fetchedAt), observedUnit: 'ms' };
    if (now < expiresAt + grace) return { status: 'pass', ...observed };
    if (servableUntil !== undefined && now < servableUntil) {
      return {
        status: 'warn',
        ...observed,
        output: `keys stale for ${String(now - expiresAt)} ms (served stale-if-error)`,
      };
    }
    return { status: 'fail', ...observed, output: 'keys expired and no longer servable' };
  });
}
