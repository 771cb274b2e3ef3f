import { isInvalidOptionError } from '@portcullis/core';
import { generateKeyPair, ManualClock } from '@portcullis/testkit';
import { SignJWT } from 'jose';
import { describe, expect, test } from 'vitest';
import { createJwtVerifier, type JwtCacheEvents, type JwtVerifierOptions } from './index.js';

const ISSUER = 'https://idp.test/';
const T0 = 1_700_000_000_000;
const key = generateKeyPair('EdDSA', 'ed-1');
const other = generateKeyPair('EdDSA', 'ed-2');

function setup(options: Partial<JwtVerifierOptions> = {}): {
  clock: ManualClock;
  verifier: ReturnType<typeof createJwtVerifier>;
} {
  const clock = new ManualClock(T0);
  const verifier = createJwtVerifier({ clock, issuers: { [ISSUER]: { keys: [key.publicJwk] } }, ...options });
  return { clock, verifier };
}

function token(expInS: number, claims: Record<string, unknown> = {}, signer = key): Promise<string> {
  return new SignJWT({ iss: ISSUER, sub: 'u', exp: T0 / 1000 + expInS, ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: signer.kid })
    .sign(signer.privateKey);
}

describe('verified-token cache', () => {
  test('an entry lives at most until the token expires', async () => {
    const { clock, verifier } = setup({ cache: { ttlMs: 60_000 } });
    const t = await token(30);
    await verifier.verify(t);
    clock.advance(29_999);
    expect(verifier.cached(t)).toBeDefined();
    clock.advance(1);
    expect(verifier.cached(t)).toBeUndefined();
  });

  test('an entry lives at most the configured TTL', async () => {
    const { clock, verifier } = setup({ cache: { ttlMs: 60_000 } });
    const t = await token(3_600);
    await verifier.verify(t);
    clock.advance(59_999);
    expect(verifier.cached(t)).toBeDefined();
    clock.advance(1);
    expect(verifier.cached(t)).toBeUndefined();
    await expect(verifier.verify(t)).resolves.toBeDefined();
  });

  test('an entry lives at most until the token reaches its max age', async () => {
    const { clock, verifier } = setup({
      issuers: { [ISSUER]: { keys: [key.publicJwk], maxTokenAgeMs: 10_000 } },
    });
    const t = await token(3_600, { iat: T0 / 1000 });
    await verifier.verify(t);
    clock.advance(10_000);
    expect(verifier.cached(t)).toBeUndefined();
  });

  test.each(['token', 'sha256'] as const)('keyed by %s: a hit needs the very same bytes', async (keyedBy) => {
    const { verifier } = setup({ cache: { key: keyedBy } });
    const t = await token(3_600);
    const again = await token(3_600); // same claims, another signature (EdDSA is deterministic: same bytes)
    const different = await token(3_600, { sub: 'v' });
    const first = await verifier.verify(t);
    expect(verifier.cached(t)).toBe(first);
    expect(again === t ? verifier.cached(again) : undefined).toBe(again === t ? first : undefined);
    expect(verifier.cached(different)).toBeUndefined();
  });

  test('the cache is bounded: the least recently used entry goes first', async () => {
    const { verifier } = setup({ cache: { max: 2 } });
    const [a, b, c] = await Promise.all([token(100), token(200), token(300)]);
    await verifier.verify(a);
    await verifier.verify(b);
    verifier.cached(a);
    await verifier.verify(c);
    expect(verifier.cached(a)).toBeDefined();
    expect(verifier.cached(b)).toBeUndefined();
    expect(verifier.cached(c)).toBeDefined();
  });

  describe.each(['sha256', 'token'] as const)('maxBytes, keyed by %s, counts what entries hold', (keyedBy) => {
    const maxBytes = 1_048_576;
    // Lower bounds of what an entry holds, whatever the estimate: a string's characters, 8 bytes
    // per array element (one slot), and the token itself when it is the key.
    const held = (t: string, floor: number): number => floor + (keyedBy === 'token' ? t.length : 0);

    test.each([
      { shape: '4.2 KB tokens of one long claim', claims: { blob: 'x'.repeat(3_000) }, floor: 3_000 },
      {
        shape: '4.2 KB tokens of 1,500 small numbers',
        claims: { nums: Array.from({ length: 1_500 }, (_, i) => i % 10) },
        floor: 8 * 1_500,
      },
    ])('$shape', async ({ claims, floor }) => {
      const { verifier } = setup({ maxTokenBytes: 16_384, cache: { key: keyedBy, maxBytes } });
      const tokens = await Promise.all(Array.from({ length: 600 }, (_, i) => token(3_600, { ...claims, n: i })));
      for (const t of tokens) await verifier.verify(t);
      const cached = tokens.filter((t) => verifier.cached(t) !== undefined);
      expect(cached.length).toBeGreaterThan(0);
      expect(cached.reduce((sum, t) => sum + held(t, floor), 0)).toBeLessThanOrEqual(maxBytes);
      // The most recent ones are the ones kept.
      expect(verifier.cached(tokens[599] as string)).toBeDefined();
    });
  });

  test('a token larger than the whole budget is verified but not cached', async () => {
    const { verifier } = setup({ cache: { maxBytes: 2_000 } });
    const t = await token(3_600, { blob: 'x'.repeat(3_000) });
    await expect(verifier.verify(t)).resolves.toBeDefined();
    expect(verifier.cached(t)).toBeUndefined();
  });

  test('results are frozen: one request cannot change what another sees', async () => {
    const { verifier } = setup();
    const jwt = await verifier.verify(await token(100, { roles: ['a'] }));
    expect(Object.isFrozen(jwt.payload)).toBe(true);
    expect(Object.isFrozen(jwt.payload['roles'])).toBe(true);
  });

  test('errors are not cached: a failing token verifies once its key is known', async () => {
    const clock = new ManualClock(T0);
    const keys = [key.publicJwk];
    using verifier = createJwtVerifier({ clock, issuers: { [ISSUER]: { keys } } });
    const t = await token(100, {}, other);
    await expect(verifier.verify(t)).rejects.toMatchObject({ reason: 'key_not_found' });
    expect(verifier.cached(t)).toBeUndefined();
    using second = createJwtVerifier({ clock, issuers: { [ISSUER]: { keys: [key.publicJwk, other.publicJwk] } } });
    await expect(second.verify(t)).resolves.toBeDefined();
  });

  test('without a cache every verification checks the signature', async () => {
    const { verifier } = setup({ cache: false });
    const t = await token(100);
    await verifier.verify(t);
    expect(verifier.cached(t)).toBeUndefined();
  });
});

describe('events', () => {
  test('each failure is reported with its reason and code', async () => {
    const { verifier } = setup();
    const failures: JwtCacheEvents['failure'][] = [];
    verifier.events.on('failure', (e) => failures.push(e));
    await verifier.verify(await token(-10)).catch(() => undefined);
    await verifier.verify('garbage').catch(() => undefined);
    expect(failures.map((f) => [f.reason, f.code, f.issuer])).toEqual([
      ['expired', 'ERR_JWT_CACHE_EXPIRED', ISSUER],
      ['malformed', 'ERR_JWT_CACHE_MALFORMED', undefined],
    ]);
  });
});

describe('options', () => {
  test.each<[string, unknown]>([
    ['issuers', {}],
    ['issuers["https://idp.test/"]', { [ISSUER]: {} }],
    ['issuers["https://idp.test/"].jwks', { [ISSUER]: { jwks: 'ftp://x' } }],
    [
      'issuers["https://idp.test/"].algorithms[0]',
      { [ISSUER]: { jwks: 'https://x.test/jwks', algorithms: ['HS256'] } },
    ],
    ['issuers["https://idp.test/"].algorithms[0]', { [ISSUER]: { keys: [key.publicJwk], algorithms: ['none'] } }],
    ['issuers["https://idp.test/"].keys', { [ISSUER]: { keys: [{ kty: 'RSA' }] } }],
  ])('an invalid %s is named', (option, issuers) => {
    let error: unknown;
    try {
      createJwtVerifier({ issuers: issuers as JwtVerifierOptions['issuers'] });
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });

  test('cache and size options are checked', () => {
    expect(() => setup({ maxTokenBytes: 0 })).toThrow(/maxTokenBytes/);
    expect(() => setup({ cache: { key: 'claims' as never } })).toThrow(/cache.key/);
    expect(() => setup({ jwks: { minTtlMs: 10, maxTtlMs: 5 } })).not.toThrow(); // no remote source: unused
  });
});
