import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { TestkitError } from './errors.js';

/**
 * The JWS algorithms {@link generateKeyPair} makes keys for.
 *
 * @example
 * ```ts
 * const alg: TestKeyAlgorithm = 'EdDSA';
 * ```
 */
export type TestKeyAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

/**
 * A public JWK as a JWKS serves it: the key material plus `kid`, `alg` and `use: 'sig'`.
 *
 * @example
 * ```ts
 * const jwks = { keys: [pair.publicJwk satisfies PublicJwk] };
 * ```
 */
export type PublicJwk = JsonWebKey & { readonly kid: string; readonly alg: TestKeyAlgorithm; readonly use: 'sig' };

/**
 * A freshly generated signing key pair for tests.
 *
 * @example
 * ```ts
 * const { publicJwk, privateKey } = generateKeyPair('EdDSA', 'k1');
 * const signature = sign(null, Buffer.from('data'), privateKey);
 * ```
 */
export interface TestKeyPair {
  /** The key id, as in the JWK and a token's header. */
  readonly kid: string;
  /** The JWS algorithm the key is for. */
  readonly alg: TestKeyAlgorithm;
  /** The public key as a JWK, ready to put in a JWKS. Never contains private material. */
  readonly publicJwk: PublicJwk;
  /** The public key as a Node `KeyObject`. */
  readonly publicKey: KeyObject;
  /** The private key, for signing test tokens with `node:crypto` or any JOSE library. */
  readonly privateKey: KeyObject;
}

/**
 * Generates a key pair for `alg` (RSA 2048 for RS256, P-256 for ES256, Ed25519 for EdDSA) with
 * `node:crypto`, and exports the public half as a JWK tagged with `kid` (default: a random UUID).
 *
 * @example
 * ```ts
 * import { generateKeyPair, startJwksServer } from '@portcullis/testkit';
 *
 * const key = generateKeyPair('RS256', 'key-1');
 * await using jwks = await startJwksServer({ keys: [key.publicJwk] });
 * ```
 */
export function generateKeyPair(alg: TestKeyAlgorithm, kid: string = randomUUID()): TestKeyPair {
  const { publicKey, privateKey } = generate(alg);
  const publicJwk: PublicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, alg, publicJwk, publicKey, privateKey };
}

function generate(alg: TestKeyAlgorithm): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (alg) {
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
    default:
      // Reachable from untyped callers only.
      throw new TestkitError(
        'ERR_TESTKIT_INVALID_OPTION',
        `generateKeyPair: alg must be 'RS256', 'ES256' or 'EdDSA', got ${JSON.stringify(alg)}`,
      );
  }
}
