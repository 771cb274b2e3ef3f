import { createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { generateKeyPair, isTestkitError } from '../src/index.js';
import type { TestKeyAlgorithm } from '../src/index.js';

const cases: { alg: TestKeyAlgorithm; kty: string; crv?: string; hash: string | null; dsaEncoding?: 'ieee-p1363' }[] = [
  { alg: 'RS256', kty: 'RSA', hash: 'sha256' },
  { alg: 'ES256', kty: 'EC', crv: 'P-256', hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  { alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519', hash: null },
];

describe('generateKeyPair', () => {
  test.each(cases)('$alg: the public JWK carries kid, alg, use and no private material', ({ alg, kty, crv }) => {
    const pair = generateKeyPair(alg, 'k1');
    expect(pair.kid).toBe('k1');
    expect(pair.alg).toBe(alg);
    expect(pair.publicJwk).toMatchObject({ kid: 'k1', alg, use: 'sig', kty });
    if (crv !== undefined) expect(pair.publicJwk.crv).toBe(crv);
    expect(pair.publicJwk).not.toHaveProperty('d');
    expect(pair.privateKey.type).toBe('private');
  });

  test.each(cases)(
    '$alg: a signature by the private key verifies with the published JWK',
    ({ alg, hash, dsaEncoding }) => {
      const pair = generateKeyPair(alg, 'k1');
      const data = Buffer.from('header.payload');
      const signature = sign(hash, data, dsaEncoding ? { key: pair.privateKey, dsaEncoding } : pair.privateKey);
      const published = createPublicKey({ key: pair.publicJwk, format: 'jwk' });
      const key = dsaEncoding ? { key: published, dsaEncoding } : published;
      expect(verify(hash, data, key, signature)).toBe(true);
      expect(verify(hash, Buffer.from('tampered'), key, signature)).toBe(false);
    },
  );

  test('without a kid, each pair gets a distinct one', () => {
    const a = generateKeyPair('EdDSA');
    const b = generateKeyPair('EdDSA');
    expect(a.kid).not.toBe(b.kid);
    expect(a.publicJwk.kid).toBe(a.kid);
  });

  test('an unknown algorithm from untyped code throws a TestkitError', () => {
    let caught: unknown;
    try {
      generateKeyPair('HS256' as TestKeyAlgorithm);
    } catch (error) {
      caught = error;
    }
    expect(isTestkitError(caught) && caught.code).toBe('ERR_TESTKIT_INVALID_OPTION');
  });
});
