import { importJWK, type CryptoKey, type JWK } from 'jose';
import { keyFitsAlgorithm } from '../algorithms.js';

/** What jose verifies with: a Web Crypto key, or the bytes of an HMAC secret. */
export type VerificationKey = CryptoKey | Uint8Array;

/**
 * One key of a key set, with its life-cycle. Verified tokens in the cache point at the entry that
 * verified them, and a cache hit is only served while the key set would still pick this very entry
 * for the token (`KeySet.selects`), so a revocation, the end of a rotation grace or any other end
 * of the key reaches them at once.
 */
export class KeyEntry {
  /** The key's `kid`, if it has one. */
  readonly kid: string | undefined;
  readonly jwk: JWK;
  /** The public key material as a string: identifies the key whatever its `kid`. */
  readonly material: string;
  revoked = false;
  /** Epoch ms after which the key no longer verifies; `Infinity` while it is in the served set. */
  graceUntil: number = Number.POSITIVE_INFINITY;
  // One import per algorithm the key is used with (at most the handful of JWS algorithms).
  readonly #imports = new Map<string, VerificationKey | Promise<VerificationKey>>();

  constructor(jwk: JWK, material: string) {
    this.jwk = jwk;
    this.kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
    this.material = material;
  }

  /**
   * True while this key is in the served set under `kid`, unrevoked: then it is the key a fresh
   * token with that kid is verified by (`KeySet.selects`, for that case, without a lookup).
   */
  servedAs(kid: string | undefined): boolean {
    return kid !== undefined && this.kid === kid && this.graceUntil === Number.POSITIVE_INFINITY && !this.revoked;
  }

  /** True while the key may verify: not revoked and not past its rotation grace. */
  usable(now: number): boolean {
    return !this.revoked && now < this.graceUntil;
  }

  fits(alg: string): boolean {
    return keyFitsAlgorithm(this.jwk, alg);
  }

  /** The key imported for `alg` (once; later calls return the same key, synchronously once ready). */
  verificationKey(alg: string): VerificationKey | Promise<VerificationKey> {
    const known = this.#imports.get(alg);
    if (known !== undefined) return known;
    const pending = importJWK(this.jwk, alg).then((key: VerificationKey) => {
      this.#imports.set(alg, key);
      return key;
    });
    this.#imports.set(alg, pending);
    // A failed import is not kept: the next token may try again (and fail the same way, cheaply).
    pending.catch(() => this.#imports.delete(alg));
    return pending;
  }
}

/**
 * The material of a JWK as a canonical string, or `undefined` when the key is not a usable public
 * key (or secret, for `oct`).
 */
export function keyMaterial(jwk: JWK): string | undefined {
  const text = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
  switch (jwk.kty) {
    case 'RSA':
      return text(jwk.n) && text(jwk.e) && jwk.d === undefined ? `RSA.${jwk.n}.${jwk.e}` : undefined;
    case 'EC':
      return text(jwk.crv) && text(jwk.x) && text(jwk.y) && jwk.d === undefined
        ? `EC.${jwk.crv}.${jwk.x}.${jwk.y}`
        : undefined;
    case 'OKP':
      return text(jwk.crv) && text(jwk.x) && jwk.d === undefined ? `OKP.${jwk.crv}.${jwk.x}` : undefined;
    case 'oct':
      return text(jwk.k) ? `oct.${jwk.k}` : undefined;
    default:
      return undefined;
  }
}
