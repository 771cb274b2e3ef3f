import { randomUUID } from 'node:crypto';
import { generateKeyPair, startHttpServer, startJwksServer, type JsonServerBehaviour } from '@portcullis/testkit';
import { describe, expect, onTestFinished, test } from 'vitest';
import {
  createJwksSource,
  createJwtVerifier,
  isJwksUnavailableError,
  isJwtVerificationError,
  type JwksSnapshot,
  type JwtCacheEvents,
} from '../src/index.js';
import { fixture, ISSUER, rejectionOf, sign, T0, unsignedToken } from './support.js';

const es = generateKeyPair('ES256', 'es-1');
const rotated = generateKeyPair('ES256', 'es-2');

/** Tokens naming kids nobody published (their signature is never reached). */
function unknownKidTokens(count: number): string[] {
  return Array.from({ length: count }, () =>
    unsignedToken({ alg: 'ES256', kid: randomUUID() }, { iss: ISSUER, exp: T0 / 1000 + 3600 }),
  );
}

async function reasonsOf(results: PromiseSettledResult<unknown>[]): Promise<Set<string>> {
  return Promise.resolve(
    new Set(
      results.map((r) => (r.status === 'rejected' && isJwtVerificationError(r.reason) ? r.reason.reason : 'other')),
    ),
  );
}

describe('kid misses against a real JWKS server', () => {
  test('10,000 concurrent verifications with unknown kids cause at most one fetch per cooldown', async () => {
    const { clock, jwks, verifier } = await fixture([es], { verifier: { jwks: { kidMissCooldownMs: 30_000 } } });
    const misses: JwtCacheEvents['kidMiss'][] = [];
    verifier.events.on('kidMiss', (e) => misses.push(e));
    await verifier.verify(await sign(es, clock));
    expect(jwks.fetchCount).toBe(1);

    const burst = await Promise.allSettled(unknownKidTokens(10_000).map((t) => verifier.verify(t)));
    expect(await reasonsOf(burst)).toEqual(new Set(['key_not_found']));
    expect(jwks.fetchCount).toBe(2);
    expect(misses.filter((m) => m.refetched)).toHaveLength(10_000); // all joined the one fetch

    // Within the cooldown: no fetch at all, the answer is immediate.
    clock.advance(29_999);
    const again = await Promise.allSettled(unknownKidTokens(10_000).map((t) => verifier.verify(t)));
    expect(await reasonsOf(again)).toEqual(new Set(['key_not_found']));
    expect(jwks.fetchCount).toBe(2);

    // The next cooldown allows exactly one more.
    clock.advance(1);
    await Promise.allSettled(unknownKidTokens(10_000).map((t) => verifier.verify(t)));
    expect(jwks.fetchCount).toBe(3);
  });

  test('attacker kids cannot starve scheduled refreshes or a real rotation after the cooldown', async () => {
    const { clock, jwks, verifier } = await fixture([es], {
      headers: { 'cache-control': 'max-age=120' },
      verifier: { jwks: { kidMissCooldownMs: 60_000, refreshAheadMs: 10_000 } },
    });
    const valid = await sign(es, clock);
    await verifier.verify(valid);
    await Promise.allSettled(unknownKidTokens(100).map((t) => verifier.verify(t)));
    expect(jwks.fetchCount).toBe(2);

    // The issuer rotates. 110 s in (refresh time: 120 s TTL - 10 s ahead), still inside the kid-miss
    // cooldown a garbage kid refreshes nothing, but the scheduled refresh runs regardless.
    jwks.setJwks({ keys: [es.publicJwk, rotated.publicJwk] });
    clock.advance(50_000);
    await Promise.allSettled(unknownKidTokens(100).map((t) => verifier.verify(t)));
    expect(jwks.fetchCount).toBe(2);
    clock.advance(60_000);
    expect(verifier.cached(valid)).toBeDefined(); // a cache hit starts the due refresh
    await verifier.source(ISSUER)?.refresh();
    expect(jwks.fetchCount).toBe(3);
    const fresh = await verifier.verify(await sign(rotated, clock));
    expect(fresh.kid).toBe('es-2');
  });

  test('a token signed with a newly published key is verified after one refetch', async () => {
    const { clock, jwks, verifier } = await fixture([es]);
    await verifier.verify(await sign(es, clock));
    jwks.setJwks({ keys: [es.publicJwk, rotated.publicJwk] });
    const jwt = await verifier.verify(await sign(rotated, clock));
    expect(jwt.kid).toBe('es-2');
    expect(jwks.fetchCount).toBe(2);
  });

  test('concurrent cold verifications share one fetch', async () => {
    const { clock, jwks, verifier } = await fixture([es]);
    const token = await sign(es, clock);
    const results = await Promise.all(Array.from({ length: 200 }, () => verifier.verify(token)));
    expect(results.every((r) => r.payload.sub === 'user-1')).toBe(true);
    expect(jwks.fetchCount).toBe(1);
  });

  test('issuers naming the same JWKS URL share one source', async () => {
    const clock = { now: () => T0 };
    await using jwks = await startJwksServer({ keys: [es.publicJwk] });
    using verifier = createJwtVerifier({
      clock,
      jwks: { backgroundRefresh: false },
      issuers: { [ISSUER]: { jwks: jwks.url }, 'https://other.test/': { jwks: jwks.url } },
    });
    await verifier.verify(await sign(es, clock));
    await verifier.verify(await sign(es, clock, { iss: 'https://other.test/' }));
    expect(jwks.fetchCount).toBe(1);
    expect(verifier.source(ISSUER)).toBe(verifier.source('https://other.test/'));
  });
});

type Outage = { name: string; behaviour: JsonServerBehaviour; kind: string };

const OUTAGES: Outage[] = [
  { name: 'connection refused', behaviour: { kind: 'refuse' }, kind: 'network' },
  { name: 'HTTP 500', behaviour: { kind: 'status', status: 500 }, kind: 'status' },
  { name: 'no answer (timeout)', behaviour: { kind: 'hang' }, kind: 'timeout' },
  { name: 'malformed JSON', behaviour: { kind: 'malformed' }, kind: 'malformed' },
  { name: 'oversized streamed body', behaviour: { kind: 'huge', bytes: 2_000_000 }, kind: 'too_large' },
  {
    name: 'oversized declared body',
    behaviour: { kind: 'huge', bytes: 2_000_000, contentLength: true },
    kind: 'too_large',
  },
];

describe.each(OUTAGES)('JWKS outage: $name', ({ behaviour, kind }) => {
  test('valid tokens verify from stale keys until maxStaleMs, then fail closed with a clear error', async () => {
    const maxStaleMs = 600_000;
    const { clock, jwks, verifier } = await fixture([es], {
      headers: { 'cache-control': 'max-age=60' },
      verifier: {
        cache: { ttlMs: 86_400_000 },
        jwks: { maxStaleMs, fetchTimeoutMs: 300, maxResponseBytes: 100_000, errorRetryMs: 1_000 },
      },
    });
    const stale: JwtCacheEvents['stale'][] = [];
    verifier.events.on('stale', (e) => stale.push(e));
    const cachedToken = await sign(es, clock, { exp: T0 / 1000 + 86_400 });
    await verifier.verify(cachedToken);
    await jwks.behave(behaviour);

    // 61 s later the set has expired; the refresh fails, the last good keys keep serving.
    clock.advance(61_000);
    const fresh = await sign(es, clock, { exp: T0 / 1000 + 86_400 });
    await expect(verifier.verify(fresh)).resolves.toMatchObject({ kid: 'es-1' });
    await verifier.source(ISSUER)?.refresh();
    expect(stale.length).toBeGreaterThan(0);
    expect(stale[0]).toMatchObject({ source: jwks.url, error: { kind } });
    expect(verifier.cached(cachedToken)).toBeDefined();

    // Just before the bound: still served (a new token, checked against the stale keys).
    clock.set(T0 + 60_000 + maxStaleMs - 1);
    await expect(verifier.verify(await sign(es, clock, { exp: T0 / 1000 + 86_400 }))).resolves.toBeDefined();

    // Past the bound: fail closed, cached tokens included, with the fetch failure as the cause.
    clock.set(T0 + 60_000 + maxStaleMs);
    expect(verifier.cached(cachedToken)).toBeUndefined();
    const error = await rejectionOf(verifier.verify(cachedToken));
    expect(isJwksUnavailableError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_JWT_CACHE_JWKS_UNAVAILABLE', cause: { kind } });
    expect((error as Error).message).toContain('maxStaleMs');

    // The endpoint recovers: verification resumes after the retry delay.
    await jwks.behave({ kind: 'ok' });
    clock.advance(1_000);
    await expect(verifier.verify(cachedToken)).resolves.toMatchObject({ kid: 'es-1' });
  });

  test('a cold verifier fails closed at once with the fetch failure as the cause', async () => {
    const { clock, jwks, verifier } = await fixture([es], {
      verifier: { jwks: { fetchTimeoutMs: 300, maxResponseBytes: 100_000 } },
    });
    await jwks.behave(behaviour);
    const error = await rejectionOf(verifier.verify(await sign(es, clock)));
    expect(isJwksUnavailableError(error)).toBe(true);
    expect(error).toMatchObject({ reason: 'jwks_unavailable', cause: { kind } });
    expect((error as Error).message).toMatch(/could not be fetched/);
  });
});

describe('redirects', () => {
  const attacker = generateKeyPair('ES256', 'attacker-1');

  /** A JWKS URL answering `status` with `Location: target`; the server is closed after the test. */
  async function redirecting(status: number, target: (url: string) => string): Promise<string> {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(status, { location: target(server.url) }).end();
    });
    onTestFinished(() => server.close());
    return `${server.url}/.well-known/jwks.json`;
  }

  /** A verifier for ISSUER whose key set is at `url`. */
  function verifierAt(url: string, jwks: Parameters<typeof createJwtVerifier>[0]['jwks'] = {}) {
    const clock = { now: () => T0 };
    const verifier = createJwtVerifier({
      clock,
      jwks: { backgroundRefresh: false, ...jwks },
      issuers: { [ISSUER]: { jwks: url } },
    });
    onTestFinished(() => {
      verifier.dispose();
    });
    return { clock, verifier };
  }

  test.each([301, 302, 303, 307, 308])(
    'a %i to another server is not followed: its keys never verify, the verifier fails closed',
    async (status) => {
      const elsewhere = await startJwksServer({ keys: [attacker.publicJwk] });
      onTestFinished(() => elsewhere.close());
      const url = await redirecting(status, () => elsewhere.url);
      const { clock, verifier } = verifierAt(url);
      const admin = await sign(attacker, clock, { sub: 'admin' });

      const error = await rejectionOf(verifier.verify(admin));
      expect(isJwksUnavailableError(error)).toBe(true);
      expect(error).toMatchObject({
        reason: 'jwks_unavailable',
        cause: { kind: 'redirect', status, code: 'ERR_JWT_CACHE_JWKS_FETCH' },
      });
      expect(elsewhere.fetchCount).toBe(0);
      expect(verifier.source(ISSUER)?.state().keys).toEqual([]);
    },
  );

  test('a fetch that follows redirects on its own is caught: the keys it brought back are not used', async () => {
    const elsewhere = await startJwksServer({ keys: [attacker.publicJwk] });
    onTestFinished(() => elsewhere.close());
    const url = await redirecting(302, () => elsewhere.url);
    const { clock, verifier } = verifierAt(url, {
      fetch: (input, init) => fetch(input, { ...init, redirect: 'follow' }),
    });
    const error = await rejectionOf(verifier.verify(await sign(attacker, clock, { sub: 'admin' })));
    expect(error).toMatchObject({ reason: 'jwks_unavailable', cause: { kind: 'redirect' } });
    expect(elsewhere.fetchCount).toBe(1); // it went there; what it found was thrown away
  });

  test("redirects: 'same-origin' follows a redirect on the same origin, and still refuses another origin", async () => {
    const own = generateKeyPair('ES256', 'own-1');
    const server = await startHttpServer((req, res) => {
      if (req.url === '/jwks') res.writeHead(301, { location: '/.well-known/jwks.json' }).end();
      else if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [own.publicJwk] }));
    });
    onTestFinished(() => server.close());
    const { clock, verifier } = verifierAt(`${server.url}/jwks`, { redirects: 'same-origin' });
    await expect(verifier.verify(await sign(own, clock))).resolves.toMatchObject({ kid: 'own-1' });

    const elsewhere = await startJwksServer({ keys: [attacker.publicJwk] });
    onTestFinished(() => elsewhere.close());
    const crossOrigin = verifierAt(await redirecting(302, () => elsewhere.url), { redirects: 'same-origin' });
    const error = await rejectionOf(crossOrigin.verifier.verify(await sign(attacker, clock, { sub: 'admin' })));
    expect(error).toMatchObject({ reason: 'jwks_unavailable', cause: { kind: 'redirect' } });
    expect(elsewhere.fetchCount).toBe(0);

    const looping = verifierAt(`${server.url}/loop`, { redirects: 'same-origin' });
    const loop = await rejectionOf(looping.verifier.verify(await sign(own, clock)));
    expect(loop).toMatchObject({ reason: 'jwks_unavailable', cause: { kind: 'redirect' } });
  });

  test('only a 200 is a key set', async () => {
    const server = await startHttpServer((_req, res) => {
      res.writeHead(203, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attacker.publicJwk] }));
    });
    onTestFinished(() => server.close());
    const { clock, verifier } = verifierAt(server.url);
    const error = await rejectionOf(verifier.verify(await sign(attacker, clock)));
    expect(error).toMatchObject({ reason: 'jwks_unavailable', cause: { kind: 'status', status: 203 } });
  });

  test('the redirects option is checked', () => {
    expect(() => createJwksSource({ url: 'https://idp.test/jwks', redirects: 'follow' as never })).toThrow(/redirects/);
  });
});

describe('rotation grace', () => {
  test('a key that left the set verifies during the grace period and not after', async () => {
    const graceMs = 300_000;
    const { clock, jwks, verifier } = await fixture([es], { verifier: { jwks: { rotationGraceMs: graceMs } } });
    const rotations: JwtCacheEvents['rotation'][] = [];
    verifier.events.on('rotation', (e) => rotations.push(e));
    const old = await sign(es, clock);
    await verifier.verify(old);

    jwks.setJwks({ keys: [rotated.publicJwk] });
    await verifier.source(ISSUER)?.refresh();
    expect(rotations).toEqual([{ source: jwks.url, added: ['es-2'], retired: ['es-1'], graceUntil: T0 + graceMs }]);

    clock.advance(graceMs - 1);
    expect(verifier.cached(old)).toBeDefined();
    await expect(verifier.verify(await sign(es, clock))).resolves.toMatchObject({ kid: 'es-1' });
    await expect(verifier.verify(await sign(rotated, clock))).resolves.toMatchObject({ kid: 'es-2' });

    clock.advance(1);
    expect(verifier.cached(old)).toBeUndefined();
    const error = await rejectionOf(verifier.verify(old));
    expect(error).toMatchObject({ reason: 'key_not_found', kid: 'es-1' });
    await expect(verifier.verify(await sign(rotated, clock))).resolves.toBeDefined();
  });

  test('with no grace a removed key stops at once', async () => {
    const { clock, jwks, verifier } = await fixture([es], { verifier: { jwks: { rotationGraceMs: 0 } } });
    const old = await sign(es, clock);
    await verifier.verify(old);
    jwks.setJwks({ keys: [rotated.publicJwk] });
    await verifier.source(ISSUER)?.refresh();
    expect(verifier.cached(old)).toBeUndefined();
    await expect(verifier.verify(old)).rejects.toMatchObject({ reason: 'key_not_found' });
  });

  test('a key that comes back during its grace keeps verifying after the grace', async () => {
    const { clock, jwks, verifier } = await fixture([es], { verifier: { jwks: { rotationGraceMs: 1_000 } } });
    const token = await sign(es, clock);
    await verifier.verify(token);
    jwks.setJwks({ keys: [rotated.publicJwk] });
    await verifier.source(ISSUER)?.refresh();
    jwks.setJwks({ keys: [es.publicJwk, rotated.publicJwk] });
    await verifier.source(ISSUER)?.refresh();
    clock.advance(5_000);
    expect(verifier.cached(token)).toBeDefined();
  });
});

describe('fetch limits', () => {
  test('a fetch timeout longer than a timer can wait is refused, not turned into 1 ms', async () => {
    for (const fetchTimeoutMs of [2 ** 31, 30 * 86_400_000, 0]) {
      expect(() => createJwksSource({ url: 'https://idp.test/jwks', fetchTimeoutMs })).toThrow(/fetchTimeoutMs/);
    }
    const { clock, jwks, verifier } = await fixture([es], { verifier: { jwks: { fetchTimeoutMs: 2 ** 31 - 1 } } });
    await jwks.behave({ kind: 'slow', delayMs: 50 });
    await expect(verifier.verify(await sign(es, clock))).resolves.toMatchObject({ kid: 'es-1' });
  });
});

describe('a kid re-published with other material', () => {
  test('ends the old key at once: cached and fresh tokens of the old material fail alike', async () => {
    const { clock, jwks, verifier } = await fixture([es], { verifier: { jwks: { rotationGraceMs: 3_600_000 } } });
    const cached = await sign(es, clock);
    await verifier.verify(cached);
    const replacement = generateKeyPair('ES256', 'es-1'); // the same kid, other material
    jwks.setJwks({ keys: [replacement.publicJwk] });
    await verifier.source(ISSUER)?.refresh();

    // One rule for both: the kid now names the new key, under which the old signatures fail.
    expect(verifier.cached(cached)).toBeUndefined();
    await expect(verifier.verify(cached)).rejects.toMatchObject({ reason: 'signature', kid: 'es-1' });
    await expect(verifier.verify(await sign(es, clock))).rejects.toMatchObject({ reason: 'signature' });
    await expect(verifier.verify(await sign(replacement, clock))).resolves.toMatchObject({ kid: 'es-1' });

    // The old key does not come back when the new one leaves in turn.
    jwks.setJwks({ keys: [rotated.publicJwk] });
    await verifier.source(ISSUER)?.refresh();
    expect(verifier.cached(cached)).toBeUndefined();
    await expect(verifier.verify(cached)).rejects.toMatchObject({ reason: 'signature' });
    expect(verifier.source(ISSUER)?.state().retiring).toEqual(['es-1']);
  });

  test('also when the old key was retiring: cached and fresh agree', async () => {
    const { clock, jwks, verifier } = await fixture([es], { verifier: { jwks: { rotationGraceMs: 3_600_000 } } });
    const cached = await sign(es, clock);
    await verifier.verify(cached);
    jwks.setJwks({ keys: [rotated.publicJwk] });
    await verifier.source(ISSUER)?.refresh();
    expect(verifier.cached(cached)).toBeDefined(); // in its grace

    jwks.setJwks({ keys: [rotated.publicJwk, generateKeyPair('ES256', 'es-1').publicJwk] });
    await verifier.source(ISSUER)?.refresh();
    expect(verifier.cached(cached)).toBeUndefined();
    await expect(verifier.verify(cached)).rejects.toMatchObject({ reason: 'signature' });
  });
});

describe('revocation', () => {
  test('reaches cached tokens of a key dropped from the retiring set beyond maxKeys', async () => {
    const third = generateKeyPair('ES256', 'es-3');
    const { clock, jwks, verifier } = await fixture([es], { verifier: { jwks: { maxKeys: 1 } } });
    const token = await sign(es, clock);
    await verifier.verify(token);
    jwks.setJwks({ keys: [rotated.publicJwk] });
    await verifier.source(ISSUER)?.refresh();
    expect(verifier.cached(token)).toBeDefined(); // es-1 retiring, in its grace
    jwks.setJwks({ keys: [third.publicJwk] });
    await verifier.source(ISSUER)?.refresh(); // es-2 retires, es-1 is dropped: one retiring key at most
    expect(verifier.source(ISSUER)?.state().retiring).toEqual(['es-2']);

    // Dropped: a fresh es-1 token is not verified, so neither is the cached one.
    expect(verifier.cached(token)).toBeUndefined();
    await expect(verifier.verify(await sign(es, clock))).rejects.toMatchObject({ reason: 'key_not_found' });
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'key_not_found' });

    verifier.revokeKey('es-1');
    expect(verifier.cached(token)).toBeUndefined();
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'key_revoked' });
    await expect(verifier.verify(await sign(es, clock))).rejects.toMatchObject({ reason: 'key_revoked' });
  });

  test('two kids sharing material both keep their grace; revoking one reaches both, cached tokens included', async () => {
    const alias = { ...es.publicJwk, kid: 'alias' };
    const { clock, jwks, verifier } = await fixture([es], { verifier: { jwks: { rotationGraceMs: 60_000 } } });
    jwks.setJwks({ keys: [es.publicJwk, alias] });
    await verifier.source(ISSUER)?.refresh();
    const byKid = await sign(es, clock);
    const byAlias = await sign(es, clock, {}, { kid: 'alias' });
    await verifier.verify(byKid);
    await verifier.verify(byAlias);

    jwks.setJwks({ keys: [rotated.publicJwk] });
    await verifier.source(ISSUER)?.refresh();
    expect(verifier.source(ISSUER)?.state().retiring).toEqual(['es-1', 'alias']);
    clock.advance(59_999);
    for (const kid of ['es-1', 'alias']) {
      await expect(verifier.verify(await sign(es, clock, {}, { kid }))).resolves.toMatchObject({ kid });
    }
    expect(verifier.cached(byKid)).toBeDefined();
    expect(verifier.cached(byAlias)).toBeDefined();

    expect(verifier.revokeKey('es-1')).toBe(1);
    for (const token of [byKid, byAlias]) {
      expect(verifier.cached(token)).toBeUndefined();
      await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'key_revoked' });
    }
    await expect(verifier.verify(await sign(rotated, clock))).resolves.toMatchObject({ kid: 'es-2' });
  });

  test('a revoked key stops at once, tokens already in the cache included, and stays revoked', async () => {
    const { clock, jwks, verifier } = await fixture([es, rotated]);
    const revocations: JwtCacheEvents['revocation'][] = [];
    verifier.events.on('revocation', (e) => revocations.push(e));
    const token = await sign(es, clock);
    const other = await sign(rotated, clock);
    await verifier.verify(token);
    await verifier.verify(other);
    expect(verifier.cached(token)).toBeDefined();

    expect(verifier.revokeKey('es-1')).toBe(1);
    expect(revocations).toEqual([{ source: jwks.url, kid: 'es-1' }]);
    expect(verifier.cached(token)).toBeUndefined();
    await expect(verifier.verify(token)).rejects.toMatchObject({
      reason: 'key_revoked',
      code: 'ERR_JWT_CACHE_KEY_REVOKED',
    });
    await expect(verifier.verify(await sign(es, clock))).rejects.toMatchObject({ reason: 'key_revoked' });
    expect(verifier.cached(other)).toBeDefined();

    // The set still lists it: refreshing does not bring it back, and no refetch is spent on it.
    await verifier.source(ISSUER)?.refresh();
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'key_revoked' });
    expect(jwks.fetchCount).toBe(2);
  });
});

describe('freshness', () => {
  test.each([
    ['max-age=120', 120_000],
    ['public, max-age=5', 30_000], // below minTtlMs
    ['max-age=9999999', 86_400_000], // above maxTtlMs
    ['no-store', 30_000],
    ['', 3_600_000], // no directive: ttlMs
  ])('Cache-Control %j gives a TTL of %i ms', async (cacheControl, ttl) => {
    const { clock, verifier } = await fixture([es], {
      headers: cacheControl === '' ? {} : { 'cache-control': cacheControl },
    });
    await verifier.verify(await sign(es, clock));
    expect(verifier.source(ISSUER)?.state()).toMatchObject({ fetchedAt: T0, expiresAt: T0 + ttl });
  });

  test('the refresh ahead of expiry runs in the background: verification never waits for it', async () => {
    const { clock, jwks, verifier } = await fixture([es], { headers: { 'cache-control': 'max-age=600' } });
    const refreshes: JwtCacheEvents['refresh'][] = [];
    verifier.events.on('refresh', (e) => refreshes.push(e));
    await verifier.verify(await sign(es, clock));
    await jwks.behave({ kind: 'slow', delayMs: 2_000 });
    clock.advance(540_001); // 600 s TTL, refreshed 60 s ahead
    const started = performance.now();
    await verifier.verify(await sign(es, clock));
    expect(performance.now() - started).toBeLessThan(1_500);
    await verifier.source(ISSUER)?.refresh(); // joins the refresh in flight
    expect(jwks.fetchCount).toBe(2);
    expect(refreshes.map((r) => r.reason)).toEqual(['initial', 'scheduled']);
  });

  test('a background timer refreshes ahead of expiry with no traffic; dispose stops it', async () => {
    await using jwks = await startJwksServer({ keys: [es.publicJwk] }, { headers: { 'cache-control': 'max-age=1' } });
    const source = createJwksSource({ url: jwks.url, minTtlMs: 0, refreshAheadMs: 600 });
    onTestFinished(() => {
      source.dispose();
    });
    await source.refresh();
    // TTL 1 s, refresh ahead capped at half of it: every ~500 ms.
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(jwks.fetchCount).toBeGreaterThanOrEqual(2);
    source.dispose();
    const count = jwks.fetchCount;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(jwks.fetchCount).toBe(count);
  });
});

describe('sharing and persisting the fetched set', () => {
  test('a snapshot restores keys, timing and revocations without a fetch', async () => {
    const { clock, jwks, verifier } = await fixture([es, rotated], { headers: { 'cache-control': 'max-age=300' } });
    const snapshots: JwksSnapshot[] = [];
    const shared = createJwksSource({
      url: jwks.url,
      clock,
      backgroundRefresh: false,
      onSnapshot: (s) => snapshots.push(s),
    });
    onTestFinished(() => {
      shared.dispose();
    });
    await shared.refresh();
    expect(snapshots).toHaveLength(1);
    shared.revoke('es-2');
    const persisted = JSON.parse(JSON.stringify(shared.snapshot())) as JwksSnapshot;
    expect(persisted).toMatchObject({
      version: 1,
      url: jwks.url,
      fetchedAt: T0,
      expiresAt: T0 + 300_000,
      revoked: ['es-2'],
    });

    // Another instance, while the endpoint is down: starts from the snapshot.
    await jwks.behave({ kind: 'refuse' });
    const restored = createJwksSource({ url: jwks.url, clock, backgroundRefresh: false, snapshot: persisted });
    onTestFinished(() => {
      restored.dispose();
    });
    using second = createJwtVerifier({ clock, issuers: { [ISSUER]: { jwks: restored } } });
    await expect(second.verify(await sign(es, clock))).resolves.toMatchObject({ kid: 'es-1' });
    await expect(second.verify(await sign(rotated, clock))).rejects.toMatchObject({ reason: 'key_revoked' });
    expect(jwks.fetchCount).toBe(1); // `shared` fetched once; nothing else did
    expect(verifier.source(ISSUER)?.snapshot()).toBeUndefined();
  });

  test('restore refuses a snapshot of another URL and keeps a newer set', async () => {
    const { clock, jwks } = await fixture([es]);
    const source = createJwksSource({ url: jwks.url, clock, backgroundRefresh: false });
    onTestFinished(() => {
      source.dispose();
    });
    await source.refresh();
    const snapshot = source.snapshot() as JwksSnapshot;
    expect(() => source.restore({ ...snapshot, url: 'https://elsewhere.test/jwks' })).toThrow(/snapshot/);
    expect(source.restore({ ...snapshot, fetchedAt: T0 - 1 })).toBe(false);
    expect(source.restore({ ...snapshot, fetchedAt: T0 + 1, keys: [rotated.publicJwk] })).toBe(true);
    expect(source.state().keys).toEqual(['es-2']);
  });
});
