import {
  duration,
  Emitter,
  finiteNumber,
  InvalidOptionError,
  isFunctionOption,
  oneOf,
  positiveInteger,
  systemClock,
  type Clock,
} from '@portcullis/core';
import type { JwtCacheEvents } from '../events.js';
import type { FetchLike, JwksRedirects } from './fetch-jwks.js';

/**
 * How a remote key set is cached, refreshed and trusted when its endpoint fails. Shared by
 * `createJwksSource` and the `jwks` defaults of `createJwtVerifier`.
 *
 * @example
 * ```ts
 * import type { JwksCacheOptions } from '@portcullis/jwt-cache';
 *
 * const cautious: JwksCacheOptions = { rotationGraceMs: 15 * 60_000, maxStaleMs: 60 * 60_000 };
 * ```
 */
export interface JwksCacheOptions {
  /** Freshness of a set whose answer has no `Cache-Control: max-age`. Default 3_600_000 (1 hour). */
  ttlMs?: number | undefined;
  /** Lower bound on a set's freshness, whatever `Cache-Control` says (`no-store` included). Default 30_000. */
  minTtlMs?: number | undefined;
  /** Upper bound on a set's freshness, whatever `Cache-Control` says. Default 86_400_000 (1 day). */
  maxTtlMs?: number | undefined;
  /**
   * How long before expiry a refresh starts, in the background (capped at half the TTL), so
   * verification never waits for a routine refresh. Default 60_000.
   */
  refreshAheadMs?: number | undefined;
  /**
   * Time allowed for a whole fetch, body included: > 0 and at most 2_147_483_647 (what a timer can
   * wait; Node fires a longer one after 1 ms). Default 5_000.
   */
  fetchTimeoutMs?: number | undefined;
  /** Largest key set body accepted, in bytes (declared or streamed). Default 524_288 (512 KiB). */
  maxResponseBytes?: number | undefined;
  /** Keys kept from a set (more are ignored), and retiring keys kept at most. Default 100. */
  maxKeys?: number | undefined;
  /**
   * Least time between two fetches caused by tokens with an unknown `kid`. Attacker-chosen kids can
   * cause at most one fetch per cooldown; scheduled refreshes do not count against it.
   * Default 30_000.
   */
  kidMissCooldownMs?: number | undefined;
  /**
   * How long a key that has left the set keeps verifying (tokens signed just before a rotation stay
   * valid). `0` stops it at once. Revocation is not subject to it. Default 3_600_000 (1 hour).
   */
  rotationGraceMs?: number | undefined;
  /**
   * Stale-if-error: how long past its expiry the last good set is still served while the endpoint
   * fails; after that, verification fails closed (`jwks_unavailable`). Default 21_600_000 (6 hours).
   */
  maxStaleMs?: number | undefined;
  /** Least time between automatic fetches after one failed. Default 10_000. */
  errorRetryMs?: number | undefined;
  /**
   * Refresh on an (unref'd) timer ahead of expiry even when no token arrives. When false, refreshes
   * start on use only. Default true.
   */
  backgroundRefresh?: boolean | undefined;
  /** Revoked kids remembered per source (oldest forgotten first). Default 1_000. */
  maxRevokedKids?: number | undefined;
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: FetchLike | undefined;
  /**
   * Whether a redirect from the key set URL is followed. `'refuse'`: never; a `3xx` (or a redirect
   * the `fetch` followed on its own) fails the fetch (`JwksFetchError` of kind `redirect`), so
   * keys are only ever read from the URL configured, never from a host it points to.
   * `'same-origin'`: followed when the target has the configured URL's scheme, host and port (at
   * most 3 in a row); any other is refused. Default `'refuse'`.
   */
  redirects?: JwksRedirects | undefined;
}

/** The options, validated and defaulted. */
export interface ResolvedJwksOptions {
  readonly clock: Clock;
  readonly events: Emitter<JwtCacheEvents>;
  readonly fetch: FetchLike;
  readonly redirects: JwksRedirects;
  readonly ttlMs: number;
  readonly minTtlMs: number;
  readonly maxTtlMs: number;
  readonly refreshAheadMs: number;
  readonly fetchTimeoutMs: number;
  readonly maxResponseBytes: number;
  readonly maxKeys: number;
  readonly kidMissCooldownMs: number;
  readonly rotationGraceMs: number;
  readonly maxStaleMs: number;
  readonly errorRetryMs: number;
  readonly backgroundRefresh: boolean;
  readonly maxRevokedKids: number;
}

/** Validates the cache options (named with `prefix`), applying the defaults. */
export function resolveJwksOptions(
  options: JwksCacheOptions,
  shared: { clock?: Clock | undefined; events?: Emitter<JwtCacheEvents> | undefined },
  prefix = '',
): ResolvedJwksOptions {
  const name = (option: string): string => `${prefix}${option}`;
  const minTtlMs = duration(options.minTtlMs ?? 30_000, name('minTtlMs'));
  const maxTtlMs = duration(options.maxTtlMs ?? 86_400_000, name('maxTtlMs'));
  if (maxTtlMs < minTtlMs)
    throw new InvalidOptionError(name('maxTtlMs'), maxTtlMs, `a duration >= minTtlMs (${minTtlMs})`);
  const backgroundRefresh = options.backgroundRefresh ?? true;
  if (typeof backgroundRefresh !== 'boolean') {
    throw new InvalidOptionError(name('backgroundRefresh'), backgroundRefresh, 'a boolean');
  }
  // Read at construction, not import: a test or an APM agent may have replaced it by then.
  const fetchImpl: unknown = options.fetch ?? globalThis.fetch;
  const clock = shared.clock ?? systemClock;
  if (typeof (clock as Partial<Clock>).now !== 'function') throw new InvalidOptionError('clock', clock, 'a Clock');
  return {
    clock,
    events: shared.events ?? new Emitter<JwtCacheEvents>(),
    fetch: isFunctionOption(fetchImpl as FetchLike, name('fetch')),
    redirects: oneOf(options.redirects ?? 'refuse', ['refuse', 'same-origin'], name('redirects')),
    ttlMs: Math.min(maxTtlMs, Math.max(minTtlMs, duration(options.ttlMs ?? 3_600_000, name('ttlMs')))),
    minTtlMs,
    maxTtlMs,
    refreshAheadMs: duration(options.refreshAheadMs ?? 60_000, name('refreshAheadMs')),
    fetchTimeoutMs: timerDuration(options.fetchTimeoutMs ?? 5_000, name('fetchTimeoutMs')),
    maxResponseBytes: positiveInteger(options.maxResponseBytes ?? 524_288, name('maxResponseBytes')),
    maxKeys: positiveInteger(options.maxKeys ?? 100, name('maxKeys')),
    kidMissCooldownMs: duration(options.kidMissCooldownMs ?? 30_000, name('kidMissCooldownMs')),
    rotationGraceMs: duration(options.rotationGraceMs ?? 3_600_000, name('rotationGraceMs')),
    maxStaleMs: duration(options.maxStaleMs ?? 21_600_000, name('maxStaleMs')),
    errorRetryMs: duration(options.errorRetryMs ?? 10_000, name('errorRetryMs')),
    backgroundRefresh,
    maxRevokedKids: positiveInteger(options.maxRevokedKids ?? 1_000, name('maxRevokedKids')),
  };
}

// Node's timers hold 32-bit signed milliseconds: a longer delay fires after 1 ms.
const MAX_TIMER_MS = 2_147_483_647;

/** A duration a timer waits for: > 0 and at most {@link MAX_TIMER_MS}. */
function timerDuration(value: unknown, option: string): number {
  return finiteNumber(value, option, { min: 0, minExclusive: true, max: MAX_TIMER_MS });
}
