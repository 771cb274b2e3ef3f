import { request, type OutgoingHttpHeaders } from 'node:http';
import { compose, type Guard } from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect, onTestFinished, test } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  ipKey,
  MemoryStore,
  rateLimitGuard,
  type Decision,
  type Policy,
  type RateLimiter,
  type RateLimiterOptions,
} from '../src/index.js';
import { HARNESSES, type Harness, type Layer, type ServeOptions, type Served } from './http/harness.js';
import { waitFor } from './http/wait.js';

// Every expected header value below is worked out from the limits configured here:
// the clock stands 13.5 s into a minute, so a 60 s fixed window ends in 46.5 s → t=47 and
// Retry-After 47 (whole seconds, rounded up), and the policy window is w=60.
const MINUTE = 1_700_000_040_000;
const START = MINUTE + 13_500;
const PROBLEM_JSON = 'application/problem+json';

const perMinute = (limit: number): Policy => ({ perMinute: fixedWindow({ limit, windowMs: 60_000 }) });

interface Setup {
  clock: ManualClock;
  limiter: RateLimiter;
}

function limiterFor(options: Omit<RateLimiterOptions, 'store' | 'clock'>): Setup {
  const clock = new ManualClock(START);
  return { clock, limiter: createRateLimiter({ ...options, store: new MemoryStore({ clock }), clock }) };
}

/**
 * A GET sent by Node's own client, so a header can go out twice (an array) or under a spelling
 * `fetch` would normalise.
 */
function send(served: Served, path: string, headers: OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${served.url}${path}`, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Units left for `key`, from the limiter itself (peek charges nothing). */
function remaining(limiter: RateLimiter, key: string): number {
  return (limiter.peek(key) as Decision).remaining;
}

describe.each(HARNESSES)('rate limiting on $name', (fw: Harness) => {
  async function start(layers: readonly Layer[], options?: ServeOptions): Promise<Served> {
    const served = await fw.serve(layers, options);
    onTestFinished(() => served.close());
    return served;
  }

  const get = (served: Served, path = '/ok', headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${served.url}${path}`, { headers });

  test('answers 429 after the limit, with Retry-After, the draft headers and problem details', async () => {
    const { clock, limiter } = limiterFor({ limits: perMinute(3) });
    const served = await start([{ rateLimit: { limiter } }]);

    for (const left of [2, 1, 0]) {
      const res = await get(served);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok');
      expect(res.headers.get('ratelimit-policy')).toBe('"perMinute";q=3;w=60');
      expect(res.headers.get('ratelimit')).toBe(`"perMinute";r=${String(left)};t=47`);
      expect(res.headers.has('retry-after')).toBe(false);
    }

    const denied = await get(served);
    expect(denied.status).toBe(429);
    expect(denied.headers.get('retry-after')).toBe('47');
    expect(denied.headers.get('ratelimit-policy')).toBe('"perMinute";q=3;w=60');
    expect(denied.headers.get('ratelimit')).toBe('"perMinute";r=0;t=47');
    expect(denied.headers.get('content-type')).toBe(PROBLEM_JSON);
    expect(await denied.json()).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Request exceeds the "perMinute" limit; retry in 47 s.',
      limitedBy: 'perMinute',
    });
    expect(served.handled).toEqual(['/ok', '/ok', '/ok']);

    // 46.5 s later a new window starts: 3 again, minus this request, for the whole 60 s.
    clock.advance(46_500);
    const next = await get(served);
    expect(next.status).toBe(200);
    expect(next.headers.get('ratelimit')).toBe('"perMinute";r=2;t=60');
  });

  test('answers the same through an asynchronous limiter', async () => {
    const { limiter } = limiterFor({ limits: perMinute(1) });
    const remote: RateLimiter = { ...limiter, limit: (key, options) => Promise.resolve(limiter.limit(key, options)) };
    const served = await start([{ rateLimit: { limiter: remote } }]);
    expect((await get(served)).headers.get('ratelimit')).toBe('"perMinute";r=0;t=47');
    const denied = await get(served);
    expect(denied.status).toBe(429);
    expect(denied.headers.get('retry-after')).toBe('47');
  });

  test('sends the legacy X-RateLimit headers when asked, and only those', async () => {
    const { limiter } = limiterFor({ limits: perMinute(2) });
    const served = await start([{ rateLimit: { limiter, headers: 'legacy' } }]);
    const res = await get(served);
    expect(res.headers.get('x-ratelimit-limit')).toBe('2');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(res.headers.get('x-ratelimit-reset')).toBe('47');
    expect(res.headers.has('ratelimit')).toBe(false);
    expect(res.headers.has('ratelimit-policy')).toBe(false);
    await get(served);
    const denied = await get(served);
    expect(denied.status).toBe(429);
    expect(denied.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(denied.headers.get('x-ratelimit-reset')).toBe('47');
    expect(denied.headers.get('retry-after')).toBe('47');
  });

  test('sends the message instead of problem details when given one', async () => {
    const { limiter } = limiterFor({ limits: perMinute(1) });
    const served = await start([{ rateLimit: { limiter, message: 'slow down' } }]);
    await get(served);
    const denied = await get(served);
    expect(denied.status).toBe(429);
    expect(denied.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await denied.text()).toBe('slow down');
  });

  test('a cost that can never fit: 429 without Retry-After', async () => {
    const { limiter } = limiterFor({ limits: perMinute(3) });
    const served = await start([{ rateLimit: { limiter, cost: 4 } }]);
    const denied = await get(served);
    expect(denied.status).toBe(429);
    expect(denied.headers.has('retry-after')).toBe(false);
    expect(denied.headers.get('ratelimit')).toBe('"perMinute";r=3;t=0');
    expect(await denied.json()).toMatchObject({ status: 429, detail: expect.stringMatching(/will not help/) });
  });

  test('shows the decision to the handler as rateLimit in the context', async () => {
    const { limiter } = limiterFor({ limits: perMinute(3) });
    const served = await start([{ rateLimit: { limiter } }]);
    const body = (await (await get(served, '/context')).json()) as { context: { rateLimit: Decision } };
    expect(body.context.rateLimit).toMatchObject({
      allowed: true,
      cost: 1,
      remaining: 2,
      limit: 3,
      windowMs: 60_000,
      resetAt: MINUTE + 60_000,
      retryAfterMs: 0,
      decidedAt: START,
      source: 'store',
    });
  });

  describe('keys', () => {
    test('by header: one limit per value; a request without the header gets 400', async () => {
      const { limiter } = limiterFor({ limits: perMinute(1) });
      const served = await start([{ rateLimit: { limiter, key: { header: 'x-api-key' } } }]);
      expect((await get(served, '/ok', { 'x-api-key': 'alpha' })).status).toBe(200);
      expect((await get(served, '/ok', { 'x-api-key': 'beta' })).status).toBe(200);
      expect((await get(served, '/ok', { 'x-api-key': 'alpha' })).status).toBe(429);
      const missing = await get(served);
      expect(missing.status).toBe(400);
      expect(missing.headers.get('content-type')).toBe(PROBLEM_JSON);
      expect(await missing.json()).toEqual({
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'Cannot rate limit this request: it has no "x-api-key" header.',
      });
      expect(served.handled).toEqual(['/ok', '/ok']);
    });

    test('by header: a key header sent twice is refused with 400, not counted as a fresh key', async () => {
      const { limiter } = limiterFor({ limits: perMinute(1) });
      const served = await start([{ rateLimit: { limiter, key: { header: 'x-api-key' } } }]);
      expect((await send(served, '/ok', { 'x-api-key': 'real' })).status).toBe(200);
      expect((await send(served, '/ok', { 'x-api-key': 'real' })).status).toBe(429);
      // Two copies arrive joined ("real, junk"): counted so, each combination would get a fresh limit.
      const twice = await send(served, '/ok', { 'x-api-key': ['real', 'junk'] });
      expect(twice.status).toBe(400);
      expect(JSON.parse(twice.body)).toMatchObject({ detail: expect.stringContaining('more than once') as unknown });
      expect(served.handled).toEqual(['/ok']);
    });

    test('by header: the handler sees the header as counted, no other spelling of it', async () => {
      const { limiter } = limiterFor({ limits: perMinute(5) });
      const served = await start([{ rateLimit: { limiter, key: { header: 'x-api-key' } } }]);
      // A CGI-style upstream reads X_Api_Key as X-Api-Key: only the counted value may reach it.
      const res = await send(served, '/headers', { 'x-api-key': 'junk', X_Api_Key: 'real', 'X_API-key': 'real' });
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body) as Record<string, string>;
      const spellings = Object.keys(seen).filter((name) => name.replaceAll('_', '-').toLowerCase() === 'x-api-key');
      expect(spellings).toEqual(['x-api-key']);
      expect(seen['x-api-key']).toBe('junk');
    });

    const setUser: Guard<{ user: string | undefined }> = (req) => ({
      action: 'continue',
      context: { user: req.header('x-user') },
    });
    const byUser = (limiter: RateLimiter) =>
      ({ limiter, key: (req) => req.context['user'] as string | undefined }) satisfies Parameters<
        typeof rateLimitGuard
      >[0];

    test.each<[string, (limiter: RateLimiter) => Layer[]]>([
      [
        'composed after the guard that sets it',
        (limiter) => [{ guard: compose(setUser, rateLimitGuard(byUser(limiter))) }],
      ],
      ['in a later middleware', (limiter) => [{ guard: setUser }, { rateLimit: byUser(limiter) }]],
    ])('by a context value, %s', async (_how, layers) => {
      const { limiter } = limiterFor({ limits: perMinute(1) });
      const served = await start(layers(limiter));
      expect((await get(served, '/ok', { 'x-user': 'ada' })).status).toBe(200);
      expect((await get(served, '/ok', { 'x-user': 'grace' })).status).toBe(200);
      expect((await get(served, '/ok', { 'x-user': 'ada' })).status).toBe(429);
      expect(remaining(limiter, 'grace')).toBe(0);
      // No user: the function returns undefined, which is denied by default for function keys.
      expect((await get(served)).status).toBe(400);
    });

    test('by client address: 127.0.0.1 over a real socket', async () => {
      const { limiter } = limiterFor({ limits: perMinute(2) });
      const served = await start([{ rateLimit: { limiter } }]);
      await get(served);
      expect(remaining(limiter, '127.0.0.1')).toBe(1);
    });

    test('IPv6 clients share a limit per /56, through a key function on a proxy header', async () => {
      const { limiter } = limiterFor({ limits: perMinute(1) });
      const served = await start([{ rateLimit: { limiter, key: (req) => ipKey(req.header('x-client-ip')) } }]);
      const from = (ip: string): Promise<number> => get(served, '/ok', { 'x-client-ip': ip }).then((r) => r.status);
      expect(await from('2001:db8:0:1ff::1')).toBe(200);
      expect(await from('2001:db8:0:100:ffff:ffff:ffff:ffff')).toBe(429); // same /56
      expect(await from('2001:DB8:0:1AB::1%eth0')).toBe(429); // same /56, other spelling
      expect(await from('2001:db8:0:200::1')).toBe(200); // next /56
      expect(await from('::ffff:192.0.2.1')).toBe(200);
      expect(await from('192.0.2.1')).toBe(429); // the same IPv4 client
      expect(remaining(limiter, '2001:db8:0:100::/56')).toBe(0);
    });

    test("IPv6 clients share a limit per ipv6Prefix with key 'ip' behind a trusted proxy", async () => {
      const { limiter } = limiterFor({ limits: perMinute(1) });
      const served = await start([{ rateLimit: { limiter, ipv6Prefix: 48 } }], { trustProxy: true });
      const from = (ip: string): Promise<number> => get(served, '/ok', { 'x-forwarded-for': ip }).then((r) => r.status);
      expect(await from('2001:db8:7:1::1')).toBe(200);
      expect(await from('2001:db8:7:ff00::1')).toBe(429);
      expect(await from('2001:db8:8::1')).toBe(200);
      expect(remaining(limiter, '2001:db8:7::/48')).toBe(0);
    });
  });

  describe('skip and allowList', () => {
    test('skipped requests are not limited, counted or given headers', async () => {
      const { limiter } = limiterFor({ limits: perMinute(1) });
      const served = await start([{ rateLimit: { limiter, skip: (req) => req.path === '/context' } }]);
      for (let i = 0; i < 3; i++) {
        const res = await get(served, '/context');
        expect(res.status).toBe(200);
        expect(res.headers.has('ratelimit')).toBe(false);
        const body = (await res.json()) as { context: Record<string, unknown> | null };
        expect(body.context?.['rateLimit']).toBeUndefined();
      }
      expect((await get(served)).status).toBe(200);
      expect((await get(served)).status).toBe(429);
    });

    test('allow-listed keys are never limited', async () => {
      const { limiter } = limiterFor({ limits: perMinute(1) });
      const served = await start([
        { rateLimit: { limiter, key: { header: 'x-api-key' }, allowList: ['internal-monitor'] } },
      ]);
      for (let i = 0; i < 3; i++) {
        const res = await get(served, '/ok', { 'x-api-key': 'internal-monitor' });
        expect(res.status).toBe(200);
        expect(res.headers.has('ratelimit')).toBe(false);
      }
      expect((await get(served, '/ok', { 'x-api-key': 'customer' })).status).toBe(200);
      expect((await get(served, '/ok', { 'x-api-key': 'customer' })).status).toBe(429);
    });
  });

  describe('refunds', () => {
    test('skipFailedRequests: a route answering 500 does not consume', async () => {
      const { limiter } = limiterFor({ limits: perMinute(2) });
      const served = await start([{ rateLimit: { limiter, skipFailedRequests: true } }]);
      for (let i = 0; i < 3; i++) {
        expect((await get(served, '/throw')).status).toBe(500);
        await waitFor(() => remaining(limiter, '127.0.0.1') === 2, 'the failed request to be refunded');
      }
      expect(served.errors).toHaveLength(3);
      expect((await get(served)).status).toBe(200);
      expect((await get(served)).status).toBe(200);
      expect((await get(served)).status).toBe(429);
    });

    test('skipSuccessfulRequests: only failures consume', async () => {
      const { limiter } = limiterFor({ limits: perMinute(1) });
      const served = await start([{ rateLimit: { limiter, skipSuccessfulRequests: true } }]);
      for (let i = 0; i < 3; i++) {
        expect((await get(served)).status).toBe(200);
        await waitFor(() => remaining(limiter, '127.0.0.1') === 1, 'the successful request to be refunded');
      }
      expect((await get(served, '/throw')).status).toBe(500);
      expect((await get(served)).status).toBe(429);
    });
  });

  describe('cost and tier', () => {
    test('a cost function charges what it returns', async () => {
      const { limiter } = limiterFor({ limits: perMinute(10) });
      const served = await start([{ rateLimit: { limiter, cost: (req) => Number(req.header('x-cost') ?? 1) } }]);
      const res = await get(served, '/ok', { 'x-cost': '4' });
      expect(res.headers.get('ratelimit')).toBe('"perMinute";r=6;t=47');
      const denied = await get(served, '/ok', { 'x-cost': '7' });
      expect(denied.status).toBe(429);
      expect(denied.headers.get('ratelimit')).toBe('"perMinute";r=6;t=47');
      expect((await get(served, '/ok', { 'x-cost': '6' })).headers.get('ratelimit')).toBe('"perMinute";r=0;t=47');
    });

    test('a bad cost from the cost function answers 400 problem details, never 500', async () => {
      const { limiter } = limiterFor({ limits: perMinute(10) });
      const served = await start([{ rateLimit: { limiter, cost: (req) => Number(req.header('x-cost') ?? 1) } }]);
      for (const cost of ['-1', 'lots']) {
        const res = await get(served, '/ok', { 'x-cost': cost });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toBe(PROBLEM_JSON);
        expect(await res.json()).toMatchObject({
          type: 'about:blank',
          title: 'Bad Request',
          status: 400,
          detail: expect.stringMatching(/^Invalid cost/),
        });
      }
      expect(served.handled).toEqual([]);
      expect(served.errors).toEqual([]);
      expect(remaining(limiter, '127.0.0.1')).toBe(10);
    });

    test('a tier function picks the policy', async () => {
      const { limiter } = limiterFor({ tiers: { free: perMinute(2), pro: perMinute(100) } });
      const served = await start([
        { rateLimit: { limiter, key: { header: 'x-api-key' }, tier: (req) => req.header('x-tier') } },
      ]);
      const pro = await get(served, '/ok', { 'x-api-key': 'p', 'x-tier': 'pro' });
      expect(pro.headers.get('ratelimit-policy')).toBe('"perMinute";q=100;w=60');
      expect(pro.headers.get('ratelimit')).toBe('"perMinute";r=99;t=47');
      const free = await get(served, '/ok', { 'x-api-key': 'f' });
      expect(free.headers.get('ratelimit-policy')).toBe('"perMinute";q=2;w=60');
      expect(free.headers.get('ratelimit')).toBe('"perMinute";r=1;t=47');
    });
  });
});
