import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect, onTestFinished } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  MemoryStore,
  RedisStore,
  type Decision,
  type Policy,
  type RateLimiterOptions,
} from '../src/index.js';
import { HARNESSES } from './http/harness.js';
import { waitFor } from './http/wait.js';
import { client, redis, useRedisServer } from './redis-fixture.js';

let run = 0;
useRedisServer();

type StoreKind = 'memory' | 'redis';

/** A limiter on the given store; Redis limiters get a prefix of their own and a timeout no loaded machine hits. */
function limiterOn(kind: StoreKind, options: Omit<RateLimiterOptions, 'store'>) {
  run++;
  return createRateLimiter({
    ...options,
    store: kind === 'memory' ? new MemoryStore() : new RedisStore({ client }),
    prefix: `${redis.prefix}dc${String(run)}`,
    timeoutMs: 5_000,
  });
}

/** Lets the store send what was issued in this tick (the Redis store flushes its batch on `nextTick`), and no more. */
const sent = (): Promise<void> =>
  new Promise((resolve) => {
    process.nextTick(resolve);
  });

const daily = { daily: fixedWindow({ limit: 2, calendar: 'day', timeZone: 'UTC' }) };

describe.each(['memory', 'redis'] as const)('the deny cache (%s store)', (kind) => {
  test('a refund frees the key at once: the next limit is decided by the store, and admitted', async () => {
    const limiter = limiterOn(kind, { limits: daily });
    const a = await limiter.limit('u');
    expect((await limiter.limit('u')).allowed).toBe(true);
    expect(await limiter.limit('u')).toMatchObject({ allowed: false, limitedBy: 'daily' });
    expect(await limiter.refund(a)).toBe(true);
    expect((await limiter.peek('u')).remaining).toBe(1);
    expect(await limiter.limit('u')).toMatchObject({ allowed: true, source: 'store', remaining: 0 });
    expect(await limiter.limit('u')).toMatchObject({ allowed: false });
  });

  test('a refund to a pool frees every member the pool had denied', async () => {
    const limiter = limiterOn(kind, {
      limits: { own: fixedWindow({ limit: 10, windowMs: 3_600_000 }) },
      poolLimits: { team: fixedWindow({ limit: 2, windowMs: 3_600_000 }) },
    });
    const alice = await limiter.limit('alice', { pool: 'acme' });
    expect((await limiter.limit('bob', { pool: 'acme' })).allowed).toBe(true);
    expect(await limiter.limit('carol', { pool: 'acme' })).toMatchObject({ allowed: false, limitedBy: 'pool.team' });
    expect(await limiter.limit('dave', { pool: 'acme' })).toMatchObject({ allowed: false, limitedBy: 'pool.team' });
    expect(await limiter.refund(alice)).toBe(true);
    expect(await limiter.limit('carol', { pool: 'acme' })).toMatchObject({ allowed: true, source: 'store' });
    expect(await limiter.limit('dave', { pool: 'acme' })).toMatchObject({ allowed: false, source: 'store' });
  });

  test('a pool reset frees every member the pool had denied, and only that pool', async () => {
    const limiter = limiterOn(kind, {
      limits: { own: fixedWindow({ limit: 10, windowMs: 3_600_000 }) },
      poolLimits: { team: fixedWindow({ limit: 1, windowMs: 3_600_000 }) },
    });
    expect((await limiter.limit('alice', { pool: 'acme' })).allowed).toBe(true);
    expect((await limiter.limit('zoe', { pool: 'other' })).allowed).toBe(true);
    expect(await limiter.limit('carol', { pool: 'acme' })).toMatchObject({ allowed: false, limitedBy: 'pool.team' });
    expect(await limiter.limit('yann', { pool: 'other' })).toMatchObject({ allowed: false, limitedBy: 'pool.team' });
    await limiter.resetPool('acme');
    expect(await limiter.limit('carol', { pool: 'acme' })).toMatchObject({ allowed: true, source: 'store' });
    // The other pool was not reset: its denial still stands (from the cache or the store alike).
    expect(await limiter.limit('yann', { pool: 'other' })).toMatchObject({ allowed: false });
  });
});

describe('the deny cache (redis store): denials decided before a state change are not kept after it', () => {
  test('a refund issued while a denial is on its way', async () => {
    const limiter = limiterOn('redis', { limits: daily });
    const a = await limiter.limit('u');
    await limiter.limit('u');
    const late = limiter.limit('u'); // decided by Redis before the refund below
    await sent();
    const refunded = limiter.refund(a);
    expect((await late).allowed).toBe(false);
    expect(await refunded).toBe(true);
    expect(await limiter.limit('u')).toMatchObject({ allowed: true, source: 'store' });
  });

  test('a reset issued while a denial is on its way', async () => {
    const limiter = limiterOn('redis', { limits: daily });
    await limiter.limit('u');
    await limiter.limit('u');
    const late = limiter.limit('u');
    await sent();
    const reset = limiter.reset('u');
    expect((await late).allowed).toBe(false);
    await reset;
    expect(await limiter.limit('u')).toMatchObject({ allowed: true, source: 'store', remaining: 1 });
  });

  test('a tier change made while a denial is on its way', async () => {
    const limiter = limiterOn('redis', { tiers: { free: { day: fixedWindow({ limit: 1, windowMs: 86_400_000 }) } } });
    await limiter.limit('u');
    const late = limiter.limit('u');
    await sent();
    limiter.setTier('free', { day: fixedWindow({ limit: 5, windowMs: 86_400_000 }) });
    expect((await late).allowed).toBe(false);
    expect(await limiter.limit('u')).toMatchObject({ allowed: true, source: 'store', remaining: 3 });
  });

  test('a reset of one key leaves the other keys denied from the cache', async () => {
    const limiter = limiterOn('redis', { limits: daily });
    for (const key of ['u', 'v']) for (let i = 0; i < 3; i++) await limiter.limit(key);
    await limiter.reset('u');
    expect(await limiter.limit('u')).toMatchObject({ allowed: true, source: 'store' });
    expect(await limiter.limit('v')).toMatchObject({ allowed: false, source: 'deny-cache' });
  });

  test('a reset is applied after the operations issued before it, as they were issued', async () => {
    const limiter = limiterOn('redis', { limits: daily, denyCache: false });
    const charged = limiter.limit('u');
    const reset = limiter.reset('u');
    expect((await charged).allowed).toBe(true);
    await reset;
    expect((await limiter.peek('u')).remaining).toBe(2);
  });

  test("another instance's refund is seen within maxAgeMs: a denial is trusted no longer", async () => {
    const clock = new ManualClock();
    run++;
    const prefix = `${redis.prefix}dc${String(run)}`;
    const [here, there] = [0, 1].map(() =>
      createRateLimiter({ store: new RedisStore({ client }), clock, limits: daily, prefix, timeoutMs: 5_000 }),
    ) as [ReturnType<typeof createRateLimiter>, ReturnType<typeof createRateLimiter>];
    expect((await here.limit('u')).allowed).toBe(true);
    const b = await there.limit('u');
    expect((await here.limit('u')).allowed).toBe(false);
    expect(await there.refund(b)).toBe(true);
    // Within the default maxAgeMs (1 s) the cached denial may still answer…
    clock.advance(999);
    expect((await here.limit('u')).source).toBe('deny-cache');
    // …but no longer: the store is asked again, though the day's retry time is hours away.
    clock.advance(1);
    expect(await here.limit('u')).toMatchObject({ allowed: true, source: 'store' });
  });

  test("one caller's denial never answers another whose (pool, key) reads the same once joined", async () => {
    const limiter = limiterOn('redis', {
      limits: { own: fixedWindow({ limit: 1, windowMs: 3_600_000 }) },
      poolLimits: { team: fixedWindow({ limit: 10, windowMs: 3_600_000 }) },
    });
    await limiter.limit('c', { pool: 'a\u0000b' });
    expect(await limiter.limit('c', { pool: 'a\u0000b' })).toMatchObject({ allowed: false, limitedBy: 'own' });
    expect(await limiter.limit('b\u0000c', { pool: 'a' })).toMatchObject({ allowed: true, source: 'store' });
  });

  test('the `decision` event reports deny-cache answers too, with their source', async () => {
    const limiter = limiterOn('redis', { limits: daily });
    const seen: [string, Decision['source'], boolean][] = [];
    limiter.events.on('decision', (e) => seen.push([e.key, e.source, e.decision.allowed]));
    for (let i = 0; i < 4; i++) await limiter.limit('u');
    expect(seen).toEqual([
      ['u', 'store', true],
      ['u', 'store', true],
      ['u', 'store', false],
      ['u', 'deny-cache', false],
    ]);
  });
});

describe('the deny cache (redis store), as a property', () => {
  const policy = (limit: number): Policy => ({ own: fixedWindow({ limit, windowMs: 10_000 }) });
  // a and b share pool p (a user always comes with the same pool); c has none.
  const pools: Record<string, string | undefined> = { a: 'p', b: 'p', c: undefined };
  const operation = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('limit' as const),
        key: fc.constantFrom('a', 'b', 'c'),
        cost: fc.integer({ min: 1, max: 2 }),
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('refund' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reset' as const), key: fc.constantFrom('a', 'b', 'c') }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('tier' as const), limit: fc.constantFrom(2, 3, 5) }) },
  );

  test.prop(
    [
      fc.array(
        fc.record({
          dt: fc.constantFrom(0, 0, 1, 400, 3_000),
          group: fc.array(operation, { minLength: 1, maxLength: 3 }),
        }),
        { minLength: 1, maxLength: 25 },
      ),
    ],
    { numRuns: 100 },
  )('never changes an outcome: with and without it, the same calls get the same answers', async (steps) => {
    run++;
    const clock = new ManualClock(1_700_000_000_000 + run * 100_000_000);
    const [cached, plain] = [true, false].map((withCache) =>
      createRateLimiter({
        store: new RedisStore({ client, time: clock }),
        clock,
        tiers: { t: policy(3) },
        poolLimits: { team: fixedWindow({ limit: 4, windowMs: 10_000 }) },
        prefix: `${redis.prefix}dcp${String(run)}${withCache ? 'c' : 'n'}`,
        timeoutMs: 10_000,
        ...(withCache ? {} : { denyCache: false as const }),
      }),
    ) as [ReturnType<typeof createRateLimiter>, ReturnType<typeof createRateLimiter>];
    const charged: [Decision, Decision][] = [];
    for (const { dt, group } of steps) {
      clock.advance(dt);
      // The operations of a group are issued in the same tick: some are still on their way when the next is issued.
      const results = await Promise.all(
        group.flatMap((step) =>
          [cached, plain].map(async (limiter): Promise<unknown> => {
            switch (step.op) {
              case 'limit': {
                const pool = pools[step.key];
                return limiter.limit(step.key, { cost: step.cost, ...(pool === undefined ? {} : { pool }) });
              }
              case 'refund': {
                const pair = charged[step.pick % Math.max(1, charged.length)];
                return pair === undefined ? false : limiter.refund(pair[limiter === cached ? 0 : 1]);
              }
              case 'reset': {
                const pool = pools[step.key];
                return limiter.reset(step.key, pool === undefined ? {} : { pool });
              }
              case 'tier':
                limiter.setTier('t', policy(step.limit));
                return undefined;
            }
          }),
        ),
      );
      for (let i = 0; i < results.length; i += 2) {
        const [withCache, without] = [results[i], results[i + 1]];
        if (typeof withCache === 'object' && withCache !== null) {
          const [c, n] = [withCache as Decision, without as Decision];
          expect(c.allowed).toBe(n.allowed);
          expect(n.source).toBe('store');
          if (c.allowed) {
            expect(c.remaining).toBe(n.remaining);
            charged.push([c, n]);
          }
        } else {
          expect(withCache).toBe(without);
        }
      }
    }
  });
});

describe.each(HARNESSES)('skipFailedRequests on $name with the Redis store', (fw) => {
  test('a request whose client went away gives its unit back, and the next request is admitted', async () => {
    const limiter = limiterOn('redis', { limits: daily });
    const served = await fw.serve([{ rateLimit: { limiter, skipFailedRequests: true } }]);
    onTestFinished(() => served.close());
    const ip = '127.0.0.1';
    let left = 2;
    limiter.events.on('decision', (e) => {
      if (e.key === ip) left = e.decision.remaining;
    });
    const gone = new AbortController();
    const slow = fetch(`${served.url}/slow`, { signal: gone.signal }).catch(() => 'aborted');
    await waitFor(() => served.handled.includes('/slow'), 'the slow request to be admitted');
    expect((await fetch(`${served.url}/ok`)).status).toBe(200);
    expect((await fetch(`${served.url}/ok`)).status).toBe(429);
    gone.abort();
    expect(await slow).toBe('aborted');
    // The refund runs when the server sees the client gone: watch the usage come back.
    await waitFor(() => {
      void Promise.resolve(limiter.peek(ip));
      return left === 1;
    }, 'the aborted request to be refunded');
    expect((await fetch(`${served.url}/ok`)).status).toBe(200);
    expect((await fetch(`${served.url}/ok`)).status).toBe(429);
  });
});
