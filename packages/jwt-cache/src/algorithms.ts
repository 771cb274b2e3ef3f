import type { JWK } from 'jose';

/**
 * The JWS algorithms a verifier can be configured with. Asymmetric ones verify with a public key
 * from a key set; the HMAC ones (`HS*`) only with a static secret (`kty: 'oct'`) and only when
 * listed explicitly. `none` is never accepted.
 *
 * @example
 * ```ts
 * import type { JwsAlgorithm } from '@portcullis/jwt-cache';
 *
 * const algorithms: JwsAlgorithm[] = ['ES256', 'EdDSA'];
 * ```
 */
export type JwsAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'
  | 'HS256'
  | 'HS384'
  | 'HS512';

/**
 * The default allowlist of an issuer: every asymmetric algorithm. HMAC is left out on purpose: a
 * verifier that accepted `HS256` could be handed a token "signed" with a public key as the secret.
 *
 * @example
 * ```ts
 * import { ASYMMETRIC_ALGORITHMS } from '@portcullis/jwt-cache';
 *
 * ASYMMETRIC_ALGORITHMS.includes('RS256'); // true
 * ```
 */
export const ASYMMETRIC_ALGORITHMS: readonly JwsAlgorithm[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** Every algorithm that may appear in an allowlist. */
export const ALL_ALGORITHMS: readonly JwsAlgorithm[] = Object.freeze([
  ...ASYMMETRIC_ALGORITHMS,
  'HS256',
  'HS384',
  'HS512',
]);

const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** True for the algorithms whose key is a shared secret. */
export function isSymmetric(alg: string): boolean {
  return alg.startsWith('HS');
}

/**
 * True when `jwk` may verify a token signed with `alg`: the key type (and curve) fits the
 * algorithm, and the key's own `alg`, `use` and `key_ops`, where present, allow it.
 */
export function keyFitsAlgorithm(jwk: JWK, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return false;
  switch (alg.slice(0, 2)) {
    case 'RS':
    case 'PS':
      return jwk.kty === 'RSA';
    case 'ES':
      return jwk.kty === 'EC' && jwk.crv === EC_CURVES[alg];
    case 'Ed':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
    case 'HS':
      return jwk.kty === 'oct';
    default:
      return false;
  }
}
