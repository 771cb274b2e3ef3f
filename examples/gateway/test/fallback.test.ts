import { createRateLimiter, tokenBucket } from '@portcullis/ratelimit';
import { startHttpServer, type HttpServer } from '@portcullis/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

/** What the upstream answers: who it answered, for what, and a serial number that makes every answer unique. */
interface Answer {
  readonly user: string | null;
  readonly tier: string | null;
  readonly url: string;
  readonly lang: string | null;
  readonly n: number;
}

let upstream: HttpServer;
let failing = false;
let served = 0;
let gw: TestGateway;

/** Customers: API keys and bearer tokens, two of them the same user with different tiers. */
interface Customer {
  readonly name: string;
  readonly user: string;
  readonly tier: string;
  headers: Record<string, string>;
}
const customers: Customer[] = [
  { name: 'demo-pro', user: 'key:demo-pro', tier: 'pro', headers: { 'x-api-key': 'demo-pro' } },
  {
    name: 'demo-enterprise',
    user: 'key:demo-enterprise',
    tier: 'enterprise',
    headers: { 'x-api-key': 'demo-enterprise' },
  },
  { name: 'alice/pro', user: 'alice', tier: 'pro', headers: {} },
  { name: 'alice/enterprise', user: 'alice', tier: 'enterprise', headers: {} },
  { name: 'bob/pro', user: 'bob', tier: 'pro', headers: {} },
];

/**
 * Paths on the upstream (under the gateway's routes): plain, with queries, one that varies on
 * Accept-Language, two that must not be cached.
 */
const PATHS = [
  '/users',
  '/users/1',
  '/users?page=2',
  '/users?page=3',
  '/products/lang',
  '/orders/private/me',
  '/orders/nostore/me',
] as const;
const uncacheable = (path: string): boolean => path.includes('/private') || path.includes('/nostore');

beforeAll(async () => {
  upstream = await startHttpServer((req, res) => {
    if (failing) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
      return;
    }
    const url = req.url ?? '/';
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (url.includes('/lang')) headers['vary'] = 'Accept-Language';
    if (url.includes('/private')) headers['cache-control'] = 'private, max-age=60';
    if (url.includes('/nostore')) headers['cache-control'] = 'no-store';
    const answer: Answer = {
      user: (req.headers['x-portcullis-user'] as string | undefined) ?? null,
      tier: (req.headers['x-portcullis-tier'] as string | undefined) ?? null,
      url,
      lang: url.includes('/lang') ? (req.headers['accept-language'] ?? null) : null,
      n: ++served,
    };
    res.writeHead(200, headers).end(JSON.stringify(answer));
  });
  // Generous limits: this test is about the cache, not about 429s.
  const big = { perSecond: tokenBucket({ capacity: 1_000_000, refillPerSecond: 1_000_000 }) };
  gw = await startTestGateway({
    upstreamUrl: upstream.url,
    limiter: createRateLimiter({ tiers: { free: big, pro: big, enterprise: big } }),
  });
  for (const customer of customers) {
    if (customer.user.startsWith('key:')) continue;
    customer.headers = { authorization: `Bearer ${await gw.token(customer.user, customer.tier)}` };
  }
});

afterAll(async () => {
  await gw.close();
  await upstream.close();
});

type Step =
  | { readonly kind: 'get'; readonly customer: number; readonly path: string; readonly lang: string }
  | { readonly kind: 'upstream'; readonly failing: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('get' as const),
      customer: fc.integer({ min: 0, max: customers.length - 1 }),
      path: fc.constantFrom(...PATHS),
      lang: fc.constantFrom('en', 'fr'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('upstream' as const), failing: fc.boolean() }) },
);

describe('the last-good-answer fallback never serves one customer another’s data', () => {
  test('each customer gets its own fresh answer, its own last answer from the cache, or a 5xx', async () => {
    // What each customer last received fresh, per request (and language where the answer varies on it).
    const lastFresh = new Map<string, string>();
    const slot = (customer: Customer, path: string, lang: string): string =>
      JSON.stringify([customer.name, path, path.includes('/lang') ? lang : '']);
    let checkedCached = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        for (const s of steps) {
          if (s.kind === 'upstream') {
            failing = s.failing;
            // Past any open period, so the instances' breakers let a probe through when the upstream is back.
            if (!s.failing) gw.clock.advance(120_000);
            continue;
          }
          const customer = customers[s.customer] as Customer;
          const res = await fetch(`${gw.base}/api${s.path}`, {
            headers: { ...customer.headers, 'accept-language': s.lang },
          });
          const text = await res.text();
          const servedBy = res.headers.get('x-portcullis-served-by');
          if (res.status >= 500) continue;
          expect(res.status).toBe(200);
          if (servedBy === 'cache') {
            checkedCached++;
            expect(uncacheable(s.path)).toBe(false);
            expect(text).toBe(lastFresh.get(slot(customer, s.path, s.lang)));
          } else {
            expect(servedBy).toBeNull();
            const answer = JSON.parse(text) as Answer;
            expect(answer).toMatchObject({ user: customer.user, tier: customer.tier, url: s.path });
            if (s.path.includes('/lang')) expect(answer.lang).toBe(s.lang);
            lastFresh.set(slot(customer, s.path, s.lang), text);
          }
        }
      }),
      { numRuns: 40 },
    );
    failing = false;
    gw.clock.advance(120_000);
    // The property saw the cache at work, not only fresh answers and 5xx.
    expect(checkedCached).toBeGreaterThan(0);
  });

  test('a private or no-store answer is never served from the cache', async () => {
    failing = false;
    gw.clock.advance(120_000);
    const [customer] = customers as [Customer];
    for (const path of ['/orders/private/me', '/orders/nostore/me']) {
      expect((await fetch(`${gw.base}/api${path}`, { headers: customer.headers })).status).toBe(200);
    }
    failing = true;
    for (const path of ['/orders/private/me', '/orders/nostore/me']) {
      const res = await fetch(`${gw.base}/api${path}`, { headers: customer.headers });
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(res.headers.get('x-portcullis-served-by')).not.toBe('cache');
    }
    failing = false;
    gw.clock.advance(120_000);
  });
});
