import type { KeyEntry } from './key-entry.js';

/**
 * What a verifier needs from a key source (internal; the public face of a remote source is
 * `JwksSource`).
 */
export interface KeyProvider {
  /** The URL, or a label for static keys; used in messages and events. */
  readonly label: string;
  /**
   * The key for a token's `kid` and `alg`, fetching when the set must be (re)loaded or the kid is
   * unknown. Throws or rejects with a `JwtVerificationError` only.
   */
  resolve(kid: string | undefined, alg: string, issuer: string): KeyEntry | Promise<KeyEntry>;
  /**
   * True while keys of this source may be served at `now` (for cached tokens); starts a background
   * refresh when one is due.
   */
  servable(now: number): boolean;
  /**
   * True while a cached verification by `key` may be served at `now`: the source is servable and
   * a fresh token with this `kid` and `alg` would be verified by that very key.
   */
  selects(key: KeyEntry, kid: string | undefined, alg: string, now: number): boolean;
  /** Revokes the key(s) with this kid; returns how many were held. */
  revokeKid(kid: string): number;
}

// Public source objects map to their provider without exposing it in the public types.
const providers = new WeakMap<object, KeyProvider>();

export function registerProvider(owner: object, provider: KeyProvider): void {
  providers.set(owner, provider);
}

export function providerOf(owner: object): KeyProvider | undefined {
  return providers.get(owner);
}
