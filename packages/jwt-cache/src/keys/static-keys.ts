import type { Clock, Emitter } from '@portcullis/core';
import { JwtVerificationError } from '../errors.js';
import type { JwtCacheEvents } from '../events.js';
import type { KeyEntry } from './key-entry.js';
import { KEY_MISMATCH, KEY_REVOKED, KeySet } from './key-set.js';
import type { KeyProvider } from './provider.js';

/** Keys given in the configuration: nothing to fetch, always servable, revocable. */
export class StaticKeys implements KeyProvider {
  readonly label: string;
  readonly #set: KeySet;
  readonly #clock: Clock;
  readonly #events: Emitter<JwtCacheEvents>;

  constructor(label: string, jwks: readonly unknown[], clock: Clock, events: Emitter<JwtCacheEvents>) {
    this.label = label;
    this.#clock = clock;
    this.#events = events;
    this.#set = new KeySet({ maxKeys: Math.max(1, jwks.length), maxRevoked: 1_000, allowSecrets: true });
    this.#set.replace(jwks, clock.now(), 0);
  }

  get size(): number {
    return this.#set.size;
  }

  resolve(kid: string | undefined, alg: string, issuer: string): KeyEntry {
    const found = this.#set.find(kid, alg, this.#clock.now());
    if (typeof found === 'object') return found;
    const which = kid === undefined ? '(no kid)' : JSON.stringify(kid.slice(0, 64));
    if (found === KEY_REVOKED) {
      throw new JwtVerificationError('key_revoked', `The signing key ${which} of ${issuer} was revoked`, {
        issuer,
        kid,
      });
    }
    if (found === KEY_MISMATCH) {
      throw new JwtVerificationError('algorithm', `The key ${which} of ${issuer} cannot verify ${alg} signatures`, {
        issuer,
        kid,
      });
    }
    throw new JwtVerificationError('key_not_found', `No configured key of ${issuer} fits kid ${which} and ${alg}`, {
      issuer,
      kid,
    });
  }

  servable(): boolean {
    return true;
  }

  selects(key: KeyEntry, kid: string | undefined, alg: string, now: number): boolean {
    return this.#set.selects(key, kid, alg, now);
  }

  revokeKid(kid: string): number {
    const held = this.#set.revoke(kid, this.#clock.now());
    this.#events.emit('revocation', { source: this.label, kid });
    return held;
  }
}
