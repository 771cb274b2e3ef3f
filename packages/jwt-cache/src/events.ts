import type { JwksFetchError, JwtFailureReason, JwtVerificationError } from './errors.js';

/**
 * Why a key set was fetched:
 *
 * - `initial`: nothing was fetched yet.
 * - `scheduled`: refresh ahead of expiry (background timer or the first use past the refresh time).
 * - `expired`: the set was past serving (beyond `maxStaleMs`) and a token needed it.
 * - `kid_miss`: a token named a `kid` the set lacks (limited by `kidMissCooldownMs`).
 * - `manual`: `source.refresh()`.
 *
 * @example
 * ```ts
 * import type { JwksFetchReason } from '@portcullis/jwt-cache';
 *
 * const byAttackers = (reason: JwksFetchReason): boolean => reason === 'kid_miss';
 * ```
 */
export type JwksFetchReason = 'initial' | 'scheduled' | 'expired' | 'kid_miss' | 'manual';

/**
 * The events of key sources and verifiers (`source.events`, `verifier.events`). A verifier's own
 * key sources report on the verifier's emitter; a source you create with `createJwksSource` and
 * share reports on its own.
 *
 * @example
 * ```ts
 * import type { JwtCacheEvents } from '@portcullis/jwt-cache';
 *
 * const onStale = (event: JwtCacheEvents['stale']): void => {
 *   console.warn(`serving keys of ${event.source} ${String(event.staleForMs)} ms past expiry`, event.error);
 * };
 * ```
 */
export interface JwtCacheEvents {
  /** A key set fetch ended, well or not. */
  fetch: {
    readonly source: string;
    readonly reason: JwksFetchReason;
    readonly ok: boolean;
    readonly durationMs: number;
    /** Usable keys in the answer, when it was good. */
    readonly keys?: number | undefined;
    /** Why it failed, when it did. */
    readonly error?: JwksFetchError | undefined;
  };
  /** A fetch replaced the key set. */
  refresh: {
    readonly source: string;
    readonly reason: JwksFetchReason;
    /** How long the set is fresh for (from `Cache-Control: max-age` within bounds, or the default). */
    readonly ttlMs: number;
    readonly keys: number;
  };
  /**
   * A fetch failed and the last good keys keep being served (stale-if-error), at most until
   * `servableUntil` (epoch ms); after that verification fails closed.
   */
  stale: {
    readonly source: string;
    /** How long past its expiry the served set is (0 when it has not expired yet). */
    readonly staleForMs: number;
    readonly servableUntil: number;
    readonly error: JwksFetchError;
  };
  /** A token named a key the set lacks. `refetched` is false when the cooldown refused a fetch. */
  kidMiss: {
    readonly source: string;
    readonly kid: string | undefined;
    readonly refetched: boolean;
  };
  /**
   * The key set changed: keys were added, or left the set and verify only until `graceUntil` (epoch
   * ms; `rotationGraceMs` after they were last seen).
   */
  rotation: {
    readonly source: string;
    readonly added: readonly string[];
    readonly retired: readonly string[];
    readonly graceUntil: number;
  };
  /** A key was revoked: it stopped verifying at once, tokens cached with it included. */
  revocation: {
    readonly source: string;
    readonly kid: string;
  };
  /** A verification failed. */
  failure: {
    readonly reason: JwtFailureReason;
    readonly code: string;
    readonly issuer: string | undefined;
    readonly kid: string | undefined;
    readonly error: JwtVerificationError;
  };
}
