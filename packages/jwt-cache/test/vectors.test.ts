import { compactVerify, type JWK } from 'jose';
import { describe, expect, test } from 'vitest';
import { KeySet } from '../src/keys/key-set.js';
import { createJwtVerifier, type JwsAlgorithm } from '../src/index.js';

// Published JOSE test vectors, typed in from the RFCs (and the RFC 7520 cookbook data).

/** RFC 7515 Appendix A.1: HS256. Header {"typ":"JWT",\r\n "alg":"HS256"}. */
const A1 = {
  key: {
    kty: 'oct',
    k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow',
  },
  jws:
    'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9' +
    '.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ' +
    '.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
} as const;

/** RFC 7515 Appendix A.2: RS256 (public part of the example key). */
const A2 = {
  key: {
    kty: 'RSA',
    n:
      'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs' +
      'D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV' +
      'MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ',
    e: 'AQAB',
  },
  jws:
    'eyJhbGciOiJSUzI1NiJ9' +
    '.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ' +
    '.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4' +
    'BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv' +
    'hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw',
} as const;

/** RFC 7515 Appendix A.3: ES256 (public part of the example key). */
const A3 = {
  key: {
    kty: 'EC',
    crv: 'P-256',
    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  },
  jws:
    'eyJhbGciOiJFUzI1NiJ9' +
    '.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ' +
    '.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q',
} as const;

const FRODO_B64 =
  'SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlm' +
  'IHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4';
const FRODO =
  "It’s a dangerous business, Frodo, going out your door. You step onto the road, and if you don't keep your feet, there’s no knowing where you might be swept off to.";

/** RFC 7520 §4.1: RS256 with a kid (public part of the example key). */
const C41 = {
  alg: 'RS256',
  key: {
    kty: 'RSA',
    kid: 'bilbo.baggins@hobbiton.example',
    use: 'sig',
    n:
      'n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_Ns' +
      'YOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuE' +
      'Hg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw',
    e: 'AQAB',
  },
  jws:
    'eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.' +
    FRODO_B64 +
    '.MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JI' +
    'wmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjl' +
    'uPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg',
} as const;

/** RFC 7520 §4.3: ES512 with a kid (public part of the example key). */
const C43 = {
  alg: 'ES512',
  key: {
    kty: 'EC',
    kid: 'bilbo.baggins@hobbiton.example',
    use: 'sig',
    crv: 'P-521',
    x: 'AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt',
    y: 'AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1',
  },
  jws:
    'eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.' +
    FRODO_B64 +
    '.AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0' +
    'lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2',
} as const;

/** RFC 7520 §4.4: HS256 with a kid. */
const C44 = {
  alg: 'HS256',
  key: {
    kty: 'oct',
    kid: '018c0ae5-4d9b-471b-bfd6-eef314bc7037',
    use: 'sig',
    alg: 'HS256',
    k: 'hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg',
  },
  jws:
    'eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9.' +
    FRODO_B64 +
    '.s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0',
} as const;

/** RFC 8037 Appendix A.4 (RFC 7520 cookbook, curve25519): Ed25519, no kid. */
const ED = {
  alg: 'EdDSA',
  key: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
  jws:
    'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc' +
    '.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
  payload: 'Example of Ed25519 signing',
} as const;

// The RFC 7515 examples expire at 1300819380 (2011-03-22T18:43:00Z); check them just before.
const BEFORE_EXP = { now: () => 1_300_819_380_000 - 60_000 };

function verifierFor(key: JWK, algorithms: JwsAlgorithm[]): ReturnType<typeof createJwtVerifier> {
  return createJwtVerifier({ clock: BEFORE_EXP, issuers: { joe: { keys: [key], algorithms } } });
}

describe('RFC 7515 Appendix A JWTs through the verifier', () => {
  test.each([
    ['A.1 HS256', A1, 'HS256'],
    ['A.2 RS256', A2, 'RS256'],
    ['A.3 ES256', A3, 'ES256'],
  ] as const)('%s verifies with its key', async (_name, vector, alg) => {
    using verifier = verifierFor(vector.key, [alg]);
    const jwt = await verifier.verify(vector.jws);
    expect(jwt.payload).toEqual({ iss: 'joe', exp: 1300819380, 'http://example.com/is_root': true });
    expect(jwt.alg).toBe(alg);
  });

  test.each([
    ['A.1 HS256 with another secret', A1, { kty: 'oct', k: C44.key.k }, 'HS256'],
    ['A.2 RS256 with the RFC 7520 RSA key', A2, { kty: 'RSA', n: C41.key.n, e: 'AQAB' }, 'RS256'],
    // (x, p − y): the example key's point negated, a valid P-256 public key of its own.
    ['A.3 ES256 with the negated key', A3, { ...A3.key, y: 'OA67MeRCZIJ40yASRhFGC0yWopJW9NtSdbnc13p3GlI' }, 'ES256'],
  ] as const)('%s fails', async (_name, vector, wrongKey, alg) => {
    using verifier = verifierFor(wrongKey, [alg]);
    await expect(verifier.verify(vector.jws)).rejects.toMatchObject({ reason: 'signature' });
  });

  test('A.2 after its expiry is refused as expired', async () => {
    using verifier = createJwtVerifier({
      clock: { now: () => 1_300_819_380_000 },
      issuers: { joe: { keys: [A2.key] } },
    });
    await expect(verifier.verify(A2.jws)).rejects.toMatchObject({ reason: 'expired', code: 'ERR_JWT_CACHE_EXPIRED' });
  });
});

/**
 * RFC 7520 / RFC 8037 signatures are over plain text, not JWT claims: the verifier refuses them as
 * malformed (a JWT payload must be a JSON object). Their signatures are checked here through the
 * same key path the verifier uses: the served JWK goes through the key set (public members only,
 * fit for the algorithm by kty, crv, use), is imported for the algorithm, and jose verifies.
 */
describe('RFC 7520 and RFC 8037 signatures through the key set', () => {
  async function verifyWithSet(vector: { alg: string; jws: string }, served: JWK): Promise<string> {
    const set = new KeySet({ maxKeys: 10, maxRevoked: 10, allowSecrets: true });
    set.replace([served], 0, 0);
    const header = JSON.parse(Buffer.from(vector.jws.split('.')[0] as string, 'base64url').toString()) as {
      kid?: string;
    };
    const entry = set.find(header.kid, vector.alg, 0);
    if (typeof entry !== 'object') throw new Error(`no key fits: ${String(entry)}`);
    const { payload } = await compactVerify(vector.jws, await entry.verificationKey(vector.alg), {
      algorithms: [vector.alg],
    });
    return new TextDecoder().decode(payload);
  }

  test.each([
    ['4.1 RS256', C41, FRODO],
    ['4.3 ES512', C43, FRODO],
    ['4.4 HS256', C44, FRODO],
    ['RFC 8037 A.4 EdDSA', ED, ED.payload],
  ] as const)('%s verifies with its key', async (_name, vector, payload) => {
    await expect(verifyWithSet(vector, vector.key as JWK)).resolves.toBe(payload);
  });

  test.each([
    ['4.1 RS256 with the RFC 7515 RSA key', C41, { ...A2.key, kid: C41.key.kid }],
    [
      '4.3 ES512 with the negated key',
      C43,
      { ...C43.key, y: 'ACNZa4Qxd0Oob7elNovYy9Q8oHeCeSml92yIHbgZ9FWqGxev4dUlqNtTrilvb_f8wUPvU2ZkYoCjPa5gwB4V4muK' },
    ],
    ['4.4 HS256 with the RFC 7515 secret', C44, { ...C44.key, k: A1.key.k }],
    [
      'RFC 8037 A.4 EdDSA with the RFC 8032 test 2 public key',
      ED,
      { ...ED.key, x: 'PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw' },
    ],
  ] as const)('%s fails', async (_name, vector, wrongKey) => {
    // A valid key (it imports), just not the signer's: the signature check is what fails.
    await expect(verifyWithSet(vector, wrongKey as JWK)).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  test('the verifier itself refuses them: their payload is not a claims set', async () => {
    using verifier = createJwtVerifier({ issuers: { joe: { keys: [C41.key] } } });
    await expect(verifier.verify(C41.jws)).rejects.toMatchObject({ reason: 'malformed' });
  });
});
