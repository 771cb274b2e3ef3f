import { InvalidOptionError } from '@portcullis/core';
import type { JWK } from 'jose';

/**
 * A key set as fetched, with its timing, retiring keys and revocations: plain JSON, to persist
 * across restarts or share between instances (one instance fetches, the others import). Produced
 * by `source.snapshot()` and the `onSnapshot` hook; loaded with `source.restore()` or the
 * `snapshot` option. Revocations travel with it, so a restored instance does not trust a revoked key.
 *
 * @example
 * ```ts
 * import { createJwksSource } from '@portcullis/jwt-cache';
 *
 * const source = createJwksSource({
 *   url: 'https://idp.example.com/.well-known/jwks.json',
 *   snapshot: await redis.get('jwks').then((s) => (s === null ? undefined : JSON.parse(s))),
 *   onSnapshot: (snapshot) => void redis.set('jwks', JSON.stringify(snapshot)),
 * });
 * ```
 */
export interface JwksSnapshot {
  /** Format version. */
  readonly version: 1;
  /** The key set's URL; a snapshot only restores into a source for the same URL. */
  readonly url: string;
  /** When the set was fetched (epoch ms). */
  readonly fetchedAt: number;
  /** When the set stops being fresh (epoch ms); it may then be served stale up to `maxStaleMs`. */
  readonly expiresAt: number;
  /** The served keys (public members only). */
  readonly keys: readonly JWK[];
  /** Keys in their rotation grace, each verifying until `graceUntil` (epoch ms). */
  readonly retiring: readonly { readonly jwk: JWK; readonly graceUntil: number }[];
  /** Revoked kids. */
  readonly revoked: readonly string[];
}

/** Checks the shape of a snapshot from outside (storage, another instance). */
export function checkSnapshot(value: unknown, url: string, option: string): JwksSnapshot {
  const fail = (expected: string): never => {
    throw new InvalidOptionError(option, value, expected);
  };
  if (typeof value !== 'object' || value === null) return fail('a JwksSnapshot object');
  const s = value as Partial<Record<keyof JwksSnapshot, unknown>>;
  if (s.version !== 1) fail('a JwksSnapshot with version 1');
  if (s.url !== url) fail(`a JwksSnapshot of ${url}`);
  if (!Number.isFinite(s.fetchedAt) || !Number.isFinite(s.expiresAt)) fail('finite fetchedAt and expiresAt');
  if (!Array.isArray(s.keys)) fail('a keys array');
  const retiring = s.retiring;
  if (
    !Array.isArray(retiring) ||
    !retiring.every(
      (r: unknown) =>
        typeof r === 'object' && r !== null && Number.isFinite((r as { graceUntil?: unknown }).graceUntil),
    )
  ) {
    fail('a retiring array of { jwk, graceUntil }');
  }
  if (!Array.isArray(s.revoked) || !s.revoked.every((kid) => typeof kid === 'string')) fail('a revoked array of kids');
  return value as JwksSnapshot;
}
