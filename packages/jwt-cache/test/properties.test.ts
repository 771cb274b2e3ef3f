import { fc, test } from '@fast-check/vitest';
import { generateKeyPair, type TestKeyPair } from '@portcullis/testkit';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect } from 'vitest';
import { createJwtVerifier, isJwtVerificationError, type JwtVerifier } from '../src/index.js';
import { AUDIENCE, claimSet, ISSUER, sign, T0 } from './support.js';

const keys: TestKeyPair[] = [
  generateKeyPair('RS256', 'rs'),
  generateKeyPair('ES256', 'es'),
  generateKeyPair('EdDSA', 'ed'),
];
const clock = { now: () => T0 };
const verifier: JwtVerifier = createJwtVerifier({
  clock,
  issuers: { [ISSUER]: { keys: keys.map((k) => k.publicJwk), audience: AUDIENCE } },
});
const valid: string[] = [];

beforeAll(async () => {
  for (const key of keys) valid.push(await sign(key, clock, { roles: ['a', 'b'], nested: { tenant: 't-1' } }));
  // The base tokens verify: every mutant below differs from one of them.
  for (const token of valid) await verifier.verify(token);
});

/** Verification must fail, and only ever with the typed error. */
async function refusedTyped(token: string): Promise<void> {
  let outcome: unknown;
  try {
    await verifier.verify(token);
    outcome = 'verified';
  } catch (error) {
    outcome = error;
  }
  expect(isJwtVerificationError(outcome), `${String(outcome)} for ${JSON.stringify(token.slice(0, 200))}`).toBe(true);
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64char = fc.constantFrom(...B64URL.split(''));
const segment = fc.string({ unit: b64char, maxLength: 120 });

type Mutation =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'insert'; at: number; char: string }
  | { kind: 'delete'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'resign'; part: number; with: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    char: fc.oneof(b64char, fc.constantFrom('.', '=', ' ', '+', '/')),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: fc.oneof(b64char, fc.constant('.')) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat({ max: 2 }), b: fc.nat({ max: 2 }) }),
  fc.record({ kind: fc.constant('resign' as const), part: fc.nat({ max: 2 }), with: segment }),
);

function mutate(token: string, m: Mutation): string {
  const at = (n: number): number => n % (token.length + 1);
  switch (m.kind) {
    case 'replace':
      return token.slice(0, at(m.at)) + m.char + token.slice(at(m.at) + 1);
    case 'insert':
      return token.slice(0, at(m.at)) + m.char + token.slice(at(m.at));
    case 'delete':
      return token.slice(0, at(m.at)) + token.slice(at(m.at) + 1);
    case 'truncate':
      return token.slice(0, at(m.at));
    case 'swap': {
      const parts = token.split('.');
      const a = parts[m.a] as string;
      parts[m.a] = parts[m.b] as string;
      parts[m.b] = a;
      return parts.join('.');
    }
    case 'resign': {
      const parts = token.split('.');
      parts[m.part] = m.with;
      return parts.join('.');
    }
  }
}

describe('hostile input', () => {
  test.prop([fc.uint8Array({ maxLength: 2_000 })], { numRuns: 500 })(
    'random byte strings never verify and only throw the typed error',
    async (bytes) => {
      await refusedTyped(Buffer.from(bytes).toString('latin1'));
    },
  );

  test.prop([segment, segment, segment], { numRuns: 500 })(
    'random three-part base64url strings never verify and only throw the typed error',
    async (header, payload, signature) => {
      await refusedTyped(`${header}.${payload}.${signature}`);
    },
  );

  test.prop([fc.nat({ max: 2 }), fc.array(mutation, { minLength: 1, maxLength: 3 })], { numRuns: 600 })(
    'mutated valid tokens never verify and only throw the typed error',
    async (which, mutations) => {
      const original = valid[which] as string;
      const mutant = mutations.reduce(mutate, original);
      fc.pre(mutant !== original);
      await refusedTyped(mutant);
    },
  );
});

/** A case of the claims model: a token's claims, the verifier's settings and the time. */
interface ClaimsCase {
  nowMs: number;
  toleranceS: number;
  maxAgeS: number | undefined;
  audience: boolean;
  required: string[];
  claims: Record<string, unknown>;
}

const relative = fc.option(fc.oneof(fc.integer({ min: -300, max: 300 }), fc.constant('soon')), { nil: undefined });
const claimsCase: fc.Arbitrary<ClaimsCase> = fc
  .record({
    offsetMs: fc.nat({ max: 999 }),
    toleranceS: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 })),
    maxAgeS: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
    audience: fc.boolean(),
    required: fc.subarray(['exp', 'nbf', 'sub', 'jti']),
    iss: fc.constantFrom(ISSUER, ISSUER, ISSUER, 'https://other.test/', undefined),
    aud: fc.option(fc.constantFrom<unknown>(AUDIENCE, 'other', [AUDIENCE, 'x'], ['x'], []), { nil: undefined }),
    exp: relative,
    nbf: relative,
    iat: relative,
    sub: fc.option(fc.constant('u-1'), { nil: undefined }),
  })
  .map((g) => {
    const now = Math.floor((T0 + g.offsetMs) / 1000);
    const claims = claimSet(now, { iss: g.iss, aud: g.aud, exp: g.exp, nbf: g.nbf, iat: g.iat, sub: g.sub });
    return {
      nowMs: T0 + g.offsetMs,
      toleranceS: g.toleranceS,
      maxAgeS: g.maxAgeS,
      audience: g.audience,
      required: g.required,
      claims,
    };
  });

/**
 * The reference model, written from RFC 7519 §4.1 and the documented options (not from the code):
 * the issuer picks the configuration; then presence (required claims, `iat` for a max age, `aud`
 * when an audience is configured, `iss`), the audience, then the time claims in whole seconds with
 * the tolerance on each side.
 */
function expected(c: ClaimsCase): string {
  const now = Math.floor(c.nowMs / 1000);
  const tol = c.toleranceS;
  const claims = c.claims;
  if (claims['iss'] !== ISSUER) return 'unknown_issuer';
  const present = (name: string): boolean => name in claims;
  const required = [...c.required, ...(c.maxAgeS === undefined ? [] : ['iat']), ...(c.audience ? ['aud'] : [])];
  if (!required.every(present)) return 'claim';
  if (c.audience) {
    const aud = claims['aud'];
    const ok = typeof aud === 'string' ? aud === AUDIENCE : Array.isArray(aud) && aud.includes(AUDIENCE);
    if (!ok) return 'claim';
  }
  const numeric = (name: string): number | undefined | 'invalid' => {
    const v = claims[name];
    return v === undefined ? undefined : typeof v === 'number' ? v : 'invalid';
  };
  const iat = numeric('iat');
  const nbf = numeric('nbf');
  const exp = numeric('exp');
  if (iat === 'invalid' || nbf === 'invalid') return 'claim';
  if (nbf !== undefined && nbf > now + tol) return 'not_yet_valid';
  if (exp === 'invalid') return 'claim';
  if (exp !== undefined && exp <= now - tol) return 'expired';
  if (c.maxAgeS !== undefined && iat !== undefined) {
    const age = now - iat;
    if (age - tol > c.maxAgeS) return 'expired';
    if (age < -tol) return 'claim';
  }
  return 'ok';
}

describe('claims checks', () => {
  const key = keys[1] as TestKeyPair;

  test.prop([claimsCase], { numRuns: 400 })('agree with the reference model', async (c) => {
    using checker = createJwtVerifier({
      clock: { now: () => c.nowMs },
      cache: false,
      clockToleranceMs: c.toleranceS * 1000,
      issuers: {
        [ISSUER]: {
          keys: [key.publicJwk],
          requiredClaims: c.required,
          ...(c.audience ? { audience: AUDIENCE } : {}),
          ...(c.maxAgeS === undefined ? {} : { maxTokenAgeMs: c.maxAgeS * 1000 }),
        },
      },
    });
    const token = await new SignJWT(c.claims).setProtectedHeader({ alg: 'ES256', kid: 'es' }).sign(key.privateKey);
    let outcome: string;
    try {
      await checker.verify(token);
      outcome = 'ok';
    } catch (error) {
      if (!isJwtVerificationError(error)) throw error;
      outcome = error.reason;
    }
    expect(outcome).toBe(expected(c));
  });
});
