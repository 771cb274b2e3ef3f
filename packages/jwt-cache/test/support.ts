import { ManualClock, startJwksServer, type JwksServer, type TestKeyPair } from '@portcullis/testkit';
import { SignJWT, type JWTPayload } from 'jose';
import { onTestFinished } from 'vitest';
import { createJwtVerifier, type JwtVerifier, type JwtVerifierOptions, type IssuerOptions } from '../src/index.js';

export const ISSUER = 'https://idp.test/';
export const AUDIENCE = 'orders-api';
/** A fixed start so every expected time below can be worked out by hand. */
export const T0 = 1_700_000_000_000;

/** Signs a token with `key` at the clock's time: iss, aud, a 1 h exp unless overridden. */
export async function sign(
  key: TestKeyPair,
  clock: { now(): number },
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 3600, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** base64url of a JSON value. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A token whose signature is never checked (for paths that must refuse before crypto). */
export function unsignedToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature = 'c2ln',
): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

export interface Fixture {
  readonly clock: ManualClock;
  readonly jwks: JwksServer;
  readonly verifier: JwtVerifier;
}

/** A real JWKS server with `keys`, and a verifier on a manual clock (no background timer). */
export async function fixture(
  keys: readonly TestKeyPair[],
  options: {
    issuer?: Partial<IssuerOptions>;
    verifier?: Partial<JwtVerifierOptions>;
    headers?: Record<string, string>;
  } = {},
): Promise<Fixture> {
  const clock = new ManualClock(T0);
  const jwks = await startJwksServer({ keys: keys.map((k) => k.publicJwk) }, { headers: options.headers ?? {} });
  onTestFinished(() => jwks.close());
  const verifier = createJwtVerifier({
    clock,
    ...options.verifier,
    jwks: { backgroundRefresh: false, ...options.verifier?.jwks },
    issuers: { [ISSUER]: { jwks: jwks.url, audience: AUDIENCE, ...options.issuer } },
  });
  onTestFinished(() => {
    verifier.dispose();
  });
  return { clock, jwks, verifier };
}

/** The rejection of a promise (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got a value');
}

/**
 * The claims of a generated case: the fields that are present, in the order given, with the
 * numeric times (`exp`, `nbf`, `iat`) taken as offsets in seconds from `nowS`.
 */
export function claimSet(nowS: number, fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const isTime = name === 'exp' || name === 'nbf' || name === 'iat';
    claims[name] = isTime && typeof value === 'number' ? nowS + value : value;
  }
  return claims;
}
