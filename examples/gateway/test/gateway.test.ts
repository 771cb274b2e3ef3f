import type { UpstreamPoolSnapshot } from '@portcullis/router';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;
let base: string;
let jwksFetches = 0;

beforeAll(async () => {
  // Three instances of every service; the pools' and the canary's time is the harness's manual clock.
  gw = await startTestGateway({ instances: 3 });
  base = gw.base;
  gw.verifier.events.on('fetch', () => {
    jwksFetches++;
  });
});

afterAll(async () => {
  await gw.close();
});

async function tokenFor(user: string, tier: string): Promise<string> {
  const res = await fetch(`${base}/demo/token?user=${user}&tier=${tier}`, { method: 'POST' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

const withToken = (path: string, token: string, extra: Record<string, string> = {}): Promise<Response> =>
  fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}`, ...extra } });

const get = (path: string, apiKey?: string, extra: Record<string, string> = {}): Promise<Response> =>
  fetch(`${base}${path}`, { headers: { ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }), ...extra } });

describe('example gateway', () => {
  test('health answers without a key: the status alone, in application/health+json; the checks for the health token', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/health+json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: 'pass' });
    const details = await fetch(`${base}/health/ready`, { headers: { authorization: 'Bearer demo-health-token' } });
    const body = (await details.json()) as { status: string; checks: Record<string, { observedValue?: unknown }[]> };
    expect(body.status).toBe('pass');
    expect(body.checks['upstream:users']?.[0]?.observedValue).toBe(3);
    // Another token sees the status only.
    const stranger = await fetch(`${base}/health/ready`, { headers: { authorization: 'Bearer guess' } });
    expect(Object.keys((await stranger.json()) as object)).toEqual(['status']);
  });

  test('an unknown key is refused with problem+json', async () => {
    const res = await get('/api/users', 'nope');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'a key named like an object property (%s) is unknown too',
    async (name) => {
      const res = await get('/api/users', name);
      expect(res.status).toBe(401);
    },
  );

  test('forwards to an instance of the service with the tier set by the gateway, not by the client', async () => {
    const res = await get('/api/users/1', 'demo-pro', { 'x-portcullis-tier': 'enterprise' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { instance: string };
    expect(body).toEqual({
      upstream: 'users',
      instance: expect.stringMatching(/^users-[123]$/) as unknown,
      version: 'v1',
      user: 'key:demo-pro',
      tier: 'pro',
      data: { id: 1, name: 'Ada' },
    });
    // The instance header names the pool endpoint that answered: the same instance's address.
    const instance = gw.fleet?.services.users.find((u) => u.instance === body.instance);
    expect(res.headers.get('x-portcullis-instance')).toBe(instance?.url.replace('http://', ''));
    expect(res.headers.get('ratelimit-policy')).toMatch(/;q=\d+;w=\d+/);
    expect(res.headers.get('x-ratelimit-limit')).not.toBeNull();
  });

  test('the free tier bursts to 5 and then gets 429 with Retry-After; pro is unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await get('/api/products', 'demo-free')).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const limited = await get('/api/products', 'demo-free');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await get('/api/products', 'demo-pro')).status).toBe(200);
  });

  test('the usage API reports every dimension of the tier', async () => {
    const res = await get('/api/quota', 'demo-enterprise');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      tier: string;
      dimensions: { name: string; limit: number; remaining: number }[];
    };
    expect(body.tier).toBe('enterprise');
    expect(body.dimensions.map((d) => d.name)).toEqual(['perSecond', 'daily', 'monthly']);
    expect(body.dimensions.find((d) => d.name === 'daily')).toMatchObject({ limit: 10_000_000 });
  });

  describe('bearer tokens from the demo issuer', () => {
    test('a verified token becomes the identity the upstream sees; spoofed identity headers are dropped', async () => {
      const token = await tokenFor('alice', 'pro');
      const res = await withToken('/api/users/2', token, {
        'x-portcullis-user': 'mallory',
        'x-portcullis-tier': 'enterprise',
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ user: 'alice', tier: 'pro', data: { id: 2 } });
    });

    test('a tampered token is a 401 with an RFC 6750 challenge', async () => {
      const token = await tokenFor('alice', 'pro');
      const [header, payload, signature] = token.split('.');
      const forged = `${header ?? ''}.${Buffer.from(JSON.stringify({ sub: 'alice', tier: 'enterprise' })).toString('base64url')}.${signature ?? ''}`;
      expect(payload).not.toBeUndefined();
      const res = await withToken('/api/users', forged);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="portcullis-demo", error="invalid_token"/);
    });

    test('limits are per user: one free user bursting to 429 leaves another untouched', async () => {
      const bob = await tokenFor('bob', 'free');
      const carol = await tokenFor('carol', 'free');
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await withToken('/api/products', bob)).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toContain(429);
      expect((await withToken('/api/products', carol)).status).toBe(200);
    });

    test('after a key rotation, new tokens verify (their key was published ahead: no refetch) and old ones keep verifying during the grace', async () => {
      const before = await tokenFor('dave', 'enterprise');
      expect((await withToken('/api/users', before)).status).toBe(200);
      const fetches = jwksFetches;
      await fetch(`${base}/demo/rotate`, { method: 'POST' });
      const after = await tokenFor('dave', 'enterprise');
      expect((await withToken('/api/users', after)).status).toBe(200);
      expect(jwksFetches).toBe(fetches);
      expect((await withToken('/api/orders', before)).status).toBe(200);
    });

    test('an unknown tier claim is refused with a 400, not a 500', async () => {
      const token = await tokenFor('erin', 'platinum');
      const res = await withToken('/api/users', token);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toContain('platinum');
    });
  });

  describe('a failing service behind retry, a breaker per instance and a cached-response fallback', () => {
    const usersPool = async (): Promise<UpstreamPoolSnapshot> =>
      ((await (await fetch(`${base}/demo/pools`)).json()) as { users: UpstreamPoolSnapshot }).users;
    const setFailing = (failing: boolean): Promise<Response> =>
      fetch(`${base}/demo/upstream?service=users&failing=${String(failing)}`, { method: 'POST' });
    const key = 'demo-enterprise';

    test('reads are served from cache while every instance fails, all breakers open, unseen paths get a fast 503, and it recovers', async () => {
      const fresh = await get('/api/users/1', key);
      expect(fresh.status).toBe(200);
      expect(fresh.headers.get('x-portcullis-served-by')).toBeNull();
      const good = await fresh.json();

      expect((await setFailing(true)).status).toBe(200);
      for (let i = 0; i < 20 && (await usersPool()).endpoints.some((e) => e.breaker !== 'open'); i++) {
        const cached = await get('/api/users/1', key);
        expect(cached.status).toBe(200);
        expect(cached.headers.get('x-portcullis-served-by')).toBe('cache');
        expect(await cached.json()).toEqual(good);
      }
      const down = await usersPool();
      expect(down.endpoints.map((e) => e.breaker)).toEqual(['open', 'open', 'open']);
      expect(down.available).toBe(0);

      // Every breaker open: nothing reaches the instances; a path never seen has no cached copy.
      const refused = await get('/api/users/2', key);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('x-portcullis-served-by')).toBe('unavailable');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const write = await fetch(`${base}/api/users`, { method: 'POST', headers: { 'x-api-key': key } });
      expect(write.status).toBe(503);
      // Other services are not affected.
      expect((await get('/api/products/p2', key)).status).toBe(200);

      // The instances recover; once the open period is over, a probe closes a breaker.
      await setFailing(false);
      gw.clock.advance(60_000);
      const probe = await get('/api/users/2', key);
      expect(probe.status).toBe(200);
      expect(probe.headers.get('x-portcullis-served-by')).toBeNull();
      expect((await usersPool()).endpoints.filter((e) => e.breaker === 'closed').length).toBeGreaterThanOrEqual(1);
    });

    test('a bad demo chaos request is a 400 problem', async () => {
      const res = await fetch(`${base}/demo/upstream?service=nowhere&failing=true`, { method: 'POST' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const instance = await fetch(`${base}/demo/upstream?service=users&instance=9&failing=true`, { method: 'POST' });
      expect(instance.status).toBe(400);
      const canary = await fetch(`${base}/demo/canary?errorRate=2`, { method: 'POST' });
      expect(canary.status).toBe(400);
    });
  });
});
