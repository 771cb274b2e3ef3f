import { fc, test } from '@fast-check/vitest';
import { generateKeyPair } from '@portcullis/testkit';
import { jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { describe, expect } from 'vitest';
import { createJwtVerifier, isJwtVerificationError, type IssuerOptions } from '../src/index.js';
import { AUDIENCE, claimSet, ISSUER, T0 } from './support.js';

const key = generateKeyPair('ES256', 'es');

/** How a verification ended: `ok`, or the error's reason, code, claim and message. */
type Outcome = 'ok' | { reason: string; code: string; claim: string | undefined; message: string };

/** A case: the issuer's claim settings, the token's header `typ` and claims, and the time. */
interface ClaimsCase {
  nowMs: number;
  toleranceS: number;
  maxAgeS: number | undefined;
  audience: string | string[] | undefined;
  typ: string | undefined;
  required: string[];
  headerTyp: unknown;
  claims: Record<string, unknown>;
}

const relative = fc.option(
  fc.oneof(
    fc.integer({ min: -300, max: 300 }),
    fc.constantFrom<unknown>('soon', null, true, [1]),
    fc.double({ min: -300, max: 300, noNaN: true }),
  ),
  { nil: undefined },
);
const claimsCase: fc.Arbitrary<ClaimsCase> = fc
  .record({
    offsetMs: fc.nat({ max: 999 }),
    toleranceS: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 })),
    maxAgeS: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
    audience: fc.option(fc.constantFrom<string | string[]>(AUDIENCE, [AUDIENCE, 'other'], ['other']), {
      nil: undefined,
    }),
    typ: fc.option(fc.constantFrom('at+jwt', 'JWT', 'application/at+jwt'), { nil: undefined }),
    required: fc.subarray(['exp', 'nbf', 'iat', 'sub', 'jti', 'aud', 'iss']),
    headerTyp: fc.option(fc.constantFrom<unknown>('at+jwt', 'AT+JWT', 'application/at+JWT', 'JWT', 'jwt', 'x', 7), {
      nil: undefined,
    }),
    aud: fc.option(fc.constantFrom<unknown>(AUDIENCE, 'other', [AUDIENCE, 'x'], ['x'], [], 5, [5]), {
      nil: undefined,
    }),
    exp: relative,
    nbf: relative,
    iat: relative,
    sub: fc.option(fc.constant('u-1'), { nil: undefined }),
    jti: fc.option(fc.constant('j-1'), { nil: undefined }),
  })
  .map((g) => {
    const now = Math.floor((T0 + g.offsetMs) / 1000);
    const claims = claimSet(now, {
      iss: ISSUER,
      aud: g.aud,
      exp: g.exp,
      nbf: g.nbf,
      iat: g.iat,
      sub: g.sub,
      jti: g.jti,
    });
    return {
      nowMs: T0 + g.offsetMs,
      toleranceS: g.toleranceS,
      maxAgeS: g.maxAgeS,
      audience: g.audience,
      typ: g.typ,
      required: g.required,
      headerTyp: g.headerTyp,
      claims,
    };
  });

/**
 * What the verifier answered when it handed the claims to jose's `jwtVerify`: jose's verdict, put
 * in the verifier's terms (the mapping it used then). The verifier now checks the claims itself,
 * and must refuse the same tokens for the same reason, claim and words.
 */
async function throughJose(c: ClaimsCase, token: string): Promise<Outcome> {
  try {
    await jwtVerify(token, key.publicKey, {
      algorithms: ['ES256'],
      issuer: ISSUER,
      requiredClaims: c.required,
      clockTolerance: c.toleranceS,
      currentDate: new Date(c.nowMs),
      ...(c.audience === undefined ? {} : { audience: c.audience }),
      ...(c.typ === undefined ? {} : { typ: c.typ }),
      ...(c.maxAgeS === undefined ? {} : { maxTokenAge: c.maxAgeS }),
    });
    return 'ok';
  } catch (error) {
    const { code, claim, reason, message } = error as { code: string; claim: string; reason: string; message: string };
    const as = (why: string, text: string): Outcome => ({
      reason: why,
      code: `ERR_JWT_CACHE_${why.toUpperCase()}`,
      claim,
      message: text,
    });
    if (code === 'ERR_JWT_EXPIRED') {
      return as('expired', claim === 'iat' ? 'The token is older than the maximum token age' : 'The token has expired');
    }
    if (code !== 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw error;
    if (claim === 'iss') return as('unknown_issuer', 'The token issuer is not trusted');
    if (claim === 'nbf' && reason === 'check_failed') {
      return as('not_yet_valid', 'The token is not valid yet ("nbf" is in the future)');
    }
    return as('claim', `Claim check failed: ${message}`);
  }
}

async function throughVerifier(c: ClaimsCase, token: string): Promise<Outcome> {
  const issuer: IssuerOptions = {
    keys: [key.publicJwk],
    requiredClaims: c.required,
    ...(c.audience === undefined ? {} : { audience: c.audience }),
    ...(c.typ === undefined ? {} : { typ: c.typ }),
    ...(c.maxAgeS === undefined ? {} : { maxTokenAgeMs: c.maxAgeS * 1000 }),
  };
  using verifier = createJwtVerifier({
    clock: { now: () => c.nowMs },
    cache: false,
    clockToleranceMs: c.toleranceS * 1000,
    issuers: { [ISSUER]: issuer },
  });
  try {
    await verifier.verify(token);
    return 'ok';
  } catch (error) {
    if (!isJwtVerificationError(error)) throw error;
    return { reason: error.reason, code: error.code, claim: error.claim, message: error.message };
  }
}

function sign(c: ClaimsCase): Promise<string> {
  const header = { alg: 'ES256', kid: key.kid, ...(c.headerTyp === undefined ? {} : { typ: c.headerTyp }) };
  return new SignJWT(c.claims).setProtectedHeader(header as JWTHeaderParameters).sign(key.privateKey);
}

describe('claims checks', () => {
  test.prop([claimsCase], { numRuns: 500 })(
    "refuse what jose's jwtVerify refuses, for the same claim, in the same words",
    async (c) => {
      const token = await sign(c);
      expect(await throughVerifier(c, token)).toEqual(await throughJose(c, token));
    },
  );

  const base: ClaimsCase = {
    nowMs: T0,
    toleranceS: 0,
    maxAgeS: undefined,
    audience: undefined,
    typ: 'at+jwt',
    required: [],
    headerTyp: undefined,
    claims: { iss: ISSUER, exp: T0 / 1000 + 60 },
  };

  test.each<[unknown, string]>([
    ['at+jwt', 'ok'],
    ['AT+JWT', 'ok'],
    ['application/at+jwt', 'ok'],
    ['JWT', 'claim'],
    ['at+jwt; charset=utf-8', 'claim'],
    [undefined, 'claim'],
    [7, 'claim'],
  ])('typ %j against a required "at+jwt": %s', async (headerTyp, expected) => {
    const c = { ...base, headerTyp };
    const outcome = await throughVerifier(c, await sign(c));
    expect(outcome === 'ok' ? 'ok' : [outcome.reason, outcome.claim]).toEqual(
      expected === 'ok' ? 'ok' : [expected, 'typ'],
    );
  });

  test('of several missing claims, the one jose names first is reported', async () => {
    const c = { ...base, typ: undefined, required: ['jti', 'sub'], audience: AUDIENCE, maxAgeS: 60 };
    const outcome = await throughVerifier(c, await sign(c));
    expect(outcome).toMatchObject({
      reason: 'claim',
      claim: 'aud',
      message: 'Claim check failed: missing required "aud" claim',
    });
    const withAud = { ...c, claims: { ...c.claims, aud: AUDIENCE } };
    expect(await throughVerifier(withAud, await sign(withAud))).toMatchObject({ claim: 'iat' });
  });

  test('a clock that answers no number refuses every token', async () => {
    const c = { ...base, typ: undefined, nowMs: Number.NaN };
    expect(await throughVerifier(c, await sign(c))).toMatchObject({ reason: 'claim' });
  });
});
