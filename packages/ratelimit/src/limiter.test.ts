import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { fixedWindow } from './algorithms/fixed-window.js';
import { gcra } from './algorithms/gcra.js';
import { slidingLog } from './algorithms/sliding-log.js';
import { slidingWindow } from './algorithms/sliding-window.js';
import { tokenBucket } from './algorithms/token-bucket.js';
import type { Algorithm } from './algorithms/types.js';
import type { Decision } from './decision.js';
import { isInvalidCostError, isInvalidKeyError, isStoreTimeoutError } from './errors.js';
import { createRateLimiter, type Policy } from './limiter.js';
import { MemoryStore } from './stores/memory-store.js';
import type { RateLimitStore } from './stores/store.js';

function setup(policy: Policy, poolLimits?: Policy) {
  const clock = new ManualClock();
  const store = new MemoryStore({ clock });
  const limiter = createRateLimiter({ store, clock, limits: policy, ...(poolLimits ? { poolLimits } : {}) });
  return { clock, store, limiter };
}

/** A synchronous store's decision, typed as such. */
function now(d: Decision | Promise<Decision>): Decision {
  if (d instanceof Promise) throw new Error('expected a synchronous decision');
  return d;
}

const smallAlgorithm: fc.Arbitrary<Algorithm> = fc.oneof(
  fc
    .record({ c: fc.integer({ min: 1, max: 10 }), r: fc.integer({ min: 1, max: 20 }) })
    .map(({ c, r }) => tokenBucket({ capacity: c, refillPerSecond: r })),
  fc
    .record({ l: fc.integer({ min: 1, max: 10 }), w: fc.integer({ min: 100, max: 5_000 }) })
    .map(({ l, w }) => fixedWindow({ limit: l, windowMs: w })),
  fc
    .record({ l: fc.integer({ min: 1, max: 10 }), w: fc.integer({ min: 100, max: 5_000 }) })
    .map(({ l, w }) => slidingWindow({ limit: l, windowMs: w })),
  fc
    .record({ l: fc.integer({ min: 1, max: 10 }), w: fc.integer({ min: 100, max: 5_000 }) })
    .map(({ l, w }) => slidingLog({ limit: l, windowMs: w })),
  fc
    .record({ l: fc.integer({ min: 1, max: 10 }), p: fc.integer({ min: 100, max: 5_000 }) })
    .map(({ l, p }) => gcra({ limit: l, periodMs: p })),
);

const usage = (d: Decision): number[] => d.dimensions.map((x) => x.remaining);

describe('multi-dimensional limits', () => {
  test.prop(
    [
      fc.array(smallAlgorithm, { minLength: 2, maxLength: 4 }),
      fc.array(fc.record({ dt: fc.nat({ max: 400 }), cost: fc.integer({ min: 1, max: 4 }) }), {
        minLength: 1,
        maxLength: 60,
      }),
    ],
    { numRuns: 300 },
  )('a denied check consumes nothing in any dimension; an allowed one charges every dimension', (algorithms, steps) => {
    const policy: Policy = Object.fromEntries(algorithms.map((a, i) => [`d${String(i)}`, a]));
    const { clock, limiter } = setup(policy);
    for (const { dt, cost } of steps) {
      clock.advance(dt);
      const before = now(limiter.peek('k'));
      const decision = now(limiter.limit('k', { cost }));
      const after = now(limiter.peek('k'));
      if (decision.allowed) {
        after.dimensions.forEach((d, i) => {
          expect(d.remaining).toBeLessThanOrEqual(Math.max(0, (before.dimensions[i]?.remaining ?? 0) - cost + 1));
        });
        expect(decision.limitedBy).toBeUndefined();
      } else {
        expect(usage(after)).toEqual(usage(before));
        expect(decision.limitedBy).toMatch(/^d\d$/);
        expect(decision.dimensions.find((d) => d.name === decision.limitedBy)?.allowed).toBe(false);
        expect(decision.retryAfterMs).toBeGreaterThan(0);
      }
    }
  });

  test('calendar quotas and a per-second bucket together, with usage per dimension', () => {
    const { clock, limiter } = setup({
      perSecond: tokenBucket({ capacity: 2, refillPerSecond: 2 }),
      daily: fixedWindow({ limit: 3, calendar: 'day', timeZone: 'Europe/Paris' }),
    });
    clock.set(Date.UTC(2026, 5, 1, 21, 0)); // 23:00 in Paris (UTC+2)
    // Allowed: the figures describe the tightest dimension, and say which one that is.
    expect(now(limiter.limit('u'))).toMatchObject({ allowed: true, reportedBy: 'perSecond', remaining: 1, limit: 2 });
    expect(now(limiter.limit('u'))).toMatchObject({ allowed: true, reportedBy: 'perSecond', remaining: 0 });
    const burst = now(limiter.limit('u'));
    expect(burst).toMatchObject({ allowed: false, limitedBy: 'perSecond', reportedBy: 'perSecond' });
    clock.advance(1_000);
    expect(now(limiter.limit('u')).allowed).toBe(true);
    const daily = now(limiter.limit('u'));
    expect(daily).toMatchObject({ allowed: false, limitedBy: 'daily', reportedBy: 'daily', remaining: 0, limit: 3 });
    // The daily quota resets at midnight Paris time: 22:00 UTC.
    expect(daily.dimensions.find((d) => d.name === 'daily')?.resetAt).toBe(Date.UTC(2026, 5, 1, 22, 0));
    clock.set(Date.UTC(2026, 5, 1, 22, 0));
    expect(now(limiter.limit('u')).allowed).toBe(true);
  });
});

describe('team pools', () => {
  test('a request is charged to the user and the team in one step; the team limit binds all members', () => {
    const { limiter } = setup(
      { own: fixedWindow({ limit: 3, windowMs: 60_000 }) },
      { shared: fixedWindow({ limit: 4, windowMs: 60_000 }) },
    );
    const results = ['alice', 'alice', 'bob', 'bob', 'carol'].map((u) => now(limiter.limit(u, { pool: 'acme' })));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, false]);
    expect(results[4]).toMatchObject({ limitedBy: 'pool.shared', reportedBy: 'pool.shared' });
    expect(results[4]?.dimensions.map((d) => [d.scope, d.name, d.remaining])).toEqual([
      ['key', 'own', 3],
      ['pool', 'shared', 0],
    ]);
    // Carol was not charged for the denied request.
    expect(now(limiter.peek('carol', { pool: 'acme' })).dimensions[0]?.remaining).toBe(3);
  });

  test("a member's reset is not the team's: resetPool is its own call", () => {
    const { limiter } = setup(
      { own: fixedWindow({ limit: 5, windowMs: 60_000 }) },
      { shared: fixedWindow({ limit: 10, windowMs: 60_000 }) },
    );
    for (let i = 0; i < 4; i++) now(limiter.limit('alice', { pool: 'acme' }));
    for (let i = 0; i < 5; i++) now(limiter.limit('bob', { pool: 'acme' }));
    void limiter.reset('alice', { pool: 'acme' });
    expect(now(limiter.peek('alice', { pool: 'acme' })).dimensions.map((d) => d.remaining)).toEqual([5, 1]);
    void limiter.resetPool('acme');
    expect(now(limiter.peek('bob', { pool: 'acme' })).dimensions.map((d) => d.remaining)).toEqual([0, 10]);
  });

  test('resetPool refuses a limiter without pool limits and a bad pool id, with typed errors', () => {
    const { limiter: noPools } = setup({ own: fixedWindow({ limit: 5, windowMs: 60_000 }) });
    expect(() => noPools.resetPool('acme')).toThrow(
      expect.objectContaining({ code: 'ERR_PORTCULLIS_INVALID_OPTION', option: 'pool' }),
    );
    const { limiter } = setup(
      { own: fixedWindow({ limit: 5, windowMs: 60_000 }) },
      { shared: fixedWindow({ limit: 10, windowMs: 60_000 }) },
    );
    for (const pool of ['', undefined, 7]) {
      expect(() => limiter.resetPool(pool as string)).toThrow(
        expect.objectContaining({ code: 'ERR_PORTCULLIS_RATELIMIT_INVALID_KEY' }),
      );
    }
  });

  test('resetPool on a hung store gives up after timeoutMs with a StoreTimeoutError', async () => {
    const hung: RateLimitStore = {
      consume: () => new Promise(() => undefined),
      refund: () => undefined,
      reset: () => new Promise(() => undefined),
    };
    const limiter = createRateLimiter({
      store: hung,
      limits: { own: fixedWindow({ limit: 5, windowMs: 60_000 }) },
      poolLimits: { shared: fixedWindow({ limit: 10, windowMs: 60_000 }) },
      timeoutMs: 10,
    });
    await expect(limiter.resetPool('acme')).rejects.toSatisfy(isStoreTimeoutError);
  });

  test('a prefix with a lone surrogate is refused (Redis would store it as U+FFFD, like its twins)', () => {
    for (const prefix of ['rl\uD800', '\uDFFF']) {
      expect(() => createRateLimiter({ limits: { a: fixedWindow({ limit: 1, windowMs: 1_000 }) }, prefix })).toThrow(
        expect.objectContaining({ code: 'ERR_PORTCULLIS_INVALID_OPTION', option: 'prefix' }),
      );
    }
    expect(() =>
      createRateLimiter({ limits: { a: fixedWindow({ limit: 1, windowMs: 1_000 }) }, prefix: 'rl🔑' }),
    ).not.toThrow();
  });
});

describe('refunds', () => {
  test.prop([
    fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 20 }),
    fc.array(fc.nat({ max: 8 }), { maxLength: 20 }),
  ])('give back at most what a decision charged, once', (costs, refunds) => {
    const { limiter } = setup({ w: fixedWindow({ limit: 1_000, windowMs: 60_000 }) });
    const decisions = costs.map((cost) => now(limiter.limit('k', { cost })));
    const charged = costs.reduce((a, b) => a + b, 0);
    let given = 0;
    const refunded = new Set<Decision>();
    refunds.forEach((amount, i) => {
      const d = decisions[i % decisions.length] as Decision;
      const before = now(limiter.peek('k')).remaining;
      const ok = limiter.refund(d, amount);
      const back = now(limiter.peek('k')).remaining - before;
      // A refund succeeds only once per decision, and only for a positive amount.
      expect(ok).toBe(!refunded.has(d) && amount > 0);
      if (ok === true) refunded.add(d);
      expect(back).toBeLessThanOrEqual(ok === true ? Math.min(amount, d.cost) : 0);
      given += back;
    });
    expect(given).toBeLessThanOrEqual(charged);
  });

  test('a denied decision has nothing to refund', () => {
    const { limiter } = setup({ w: fixedWindow({ limit: 1, windowMs: 60_000 }) });
    now(limiter.limit('k'));
    const denied = now(limiter.limit('k'));
    expect(denied.allowed).toBe(false);
    expect(limiter.refund(denied)).toBe(false);
  });
});

describe('tiers', () => {
  test('pick the policy per call, default to the first, and change at runtime', () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter({
      store: new MemoryStore({ clock }),
      clock,
      tiers: {
        free: { day: fixedWindow({ limit: 1, windowMs: 86_400_000 }) },
        pro: { day: fixedWindow({ limit: 3, windowMs: 86_400_000 }) },
      },
    });
    expect(now(limiter.limit('a')).limit).toBe(1);
    expect(now(limiter.limit('a')).allowed).toBe(false);
    // Upgrading keeps today's usage: the same dimension name and algorithm share state.
    expect(now(limiter.limit('a', { tier: 'pro' }))).toMatchObject({ allowed: true, remaining: 1, limit: 3 });
    limiter.setTier('pro', { day: fixedWindow({ limit: 10, windowMs: 86_400_000 }) });
    expect(now(limiter.limit('a', { tier: 'pro' }))).toMatchObject({ allowed: true, remaining: 7, limit: 10 });
    expect(() => limiter.limit('a', { tier: 'gold' })).toThrow(
      expect.objectContaining({ code: 'ERR_PORTCULLIS_RATELIMIT_UNKNOWN_TIER', tier: 'gold' }),
    );
  });
});

describe('reset and peek', () => {
  test('reset forgets usage in every dimension; peek charges nothing', () => {
    const { limiter } = setup({
      a: fixedWindow({ limit: 2, windowMs: 60_000 }),
      b: slidingLog({ limit: 2, windowMs: 60_000 }),
    });
    now(limiter.limit('k'));
    now(limiter.limit('k'));
    expect(now(limiter.limit('k')).allowed).toBe(false);
    expect(now(limiter.peek('k')).remaining).toBe(0);
    void limiter.reset('k');
    expect(now(limiter.peek('k')).remaining).toBe(2);
    expect(now(limiter.limit('k')).allowed).toBe(true);
  });
});

describe('bad input', () => {
  const { limiter } = setup({ a: tokenBucket({ capacity: 5, refillPerSecond: 1 }) });

  test.prop([
    fc.oneof(fc.constant(Number.NaN), fc.constant(Infinity), fc.double({ max: -Number.MIN_VALUE }), fc.string()),
  ])('non-finite, negative or non-numeric costs are typed errors', (cost) => {
    expect(() => limiter.limit('k', { cost: cost as number })).toThrow(
      expect.objectContaining({ code: 'ERR_PORTCULLIS_RATELIMIT_INVALID_COST' }),
    );
    try {
      void limiter.limit('k', { cost: cost as number });
    } catch (error) {
      expect(isInvalidCostError(error)).toBe(true);
    }
  });

  test('empty or non-string keys are typed errors; huge keys are hashed yet stay distinct', () => {
    for (const key of ['', undefined, 42]) {
      try {
        void limiter.limit(key as string);
        expect.unreachable();
      } catch (error) {
        expect(isInvalidKeyError(error)).toBe(true);
      }
    }
    const huge = 'x'.repeat(1_000_000);
    const { store, limiter: l2 } = setup({ a: fixedWindow({ limit: 1, windowMs: 60_000 }) });
    expect(now(l2.limit(`${huge}a`)).allowed).toBe(true);
    expect(now(l2.limit(`${huge}b`)).allowed).toBe(true);
    expect(now(l2.limit(`${huge}a`)).allowed).toBe(false);
    expect(store.size).toBe(2);
  });

  test('a cost above the limit is denied with an infinite retry, never charged', () => {
    const d = now(limiter.limit('big', { cost: 6 }));
    expect(d).toMatchObject({ allowed: false, retryAfterMs: Infinity, limitedBy: 'a' });
    expect(now(limiter.peek('big')).remaining).toBe(5);
  });

  test('fractional costs are refused where a sliding log needs whole units', () => {
    const { limiter: l } = setup({ a: slidingLog({ limit: 5, windowMs: 1_000 }) });
    expect(() => l.limit('k', { cost: 0.5 })).toThrow(/whole number/);
  });

  test.each([
    [{ limits: {} }, 'limits'],
    [{}, 'limits'],
    [{ limits: { a: 3 } }, 'limits.a'],
    [{ limits: { 'bad name': tokenBucket({ capacity: 1, refillPerSecond: 1 }) } }, 'limits.bad name'],
    [{ limits: { a: tokenBucket({ capacity: 1, refillPerSecond: 1 }) }, timeoutMs: -1 }, 'timeoutMs'],
    [{ limits: { a: tokenBucket({ capacity: 1, refillPerSecond: 1 }) }, failMode: 'sideways' }, 'failMode'],
    [{ limits: { a: tokenBucket({ capacity: 1, refillPerSecond: 1 }) }, prefix: 'a{b}' }, 'prefix'],
    [{ tiers: { free: { a: tokenBucket({ capacity: 1, refillPerSecond: 1 }) } }, defaultTier: 'pro' }, 'defaultTier'],
  ])('bad options are typed errors naming the option (%#)', (options, option) => {
    try {
      createRateLimiter(options as never);
      expect.unreachable();
    } catch (error) {
      expect(isInvalidOptionError(error)).toBe(true);
      expect((error as { option: string }).option).toBe(option);
    }
  });

  const a = { a: tokenBucket({ capacity: 1, refillPerSecond: 1 }) };
  const remote = brokenStore('hangs');
  test.each([
    // 0 would time out every asynchronous decision; a fraction of a ms is not a timer Node keeps.
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: 0.5 }, 'timeoutMs'],
    [{ timeoutMs: 12.5 }, 'timeoutMs'],
    // Above 2^31 - 1 ms, setTimeout fires after 1 ms: every decision would time out.
    [{ timeoutMs: 2 ** 31 }, 'timeoutMs'],
    [{ timeoutMs: Infinity }, 'timeoutMs'],
    [{ timeoutMs: Number.NaN }, 'timeoutMs'],
    [{ timeoutMs: '50' }, 'timeoutMs'],
    [{ store: remote, denyCache: { maxKeys: 0 } }, 'denyCache.maxKeys'],
    [{ store: remote, denyCache: { maxKeys: 2.5 } }, 'denyCache.maxKeys'],
    // lru-cache allocates every slot up front: 1e9 would take the process down.
    [{ store: remote, denyCache: { maxKeys: 1_000_001 } }, 'denyCache.maxKeys'],
    [{ store: remote, denyCache: { maxAgeMs: 0 } }, 'denyCache.maxAgeMs'],
    [{ store: remote, denyCache: { maxAgeMs: Number.NaN } }, 'denyCache.maxAgeMs'],
    [{ store: remote, denyCache: { maxAgeMs: -1 } }, 'denyCache.maxAgeMs'],
    [{ store: remote, denyCache: true }, 'denyCache'],
    // Checked whatever the store, so a configuration fails the same way on memory and on Redis.
    [{ denyCache: { maxKeys: Number.NaN } }, 'denyCache.maxKeys'],
    [{ store: {} }, 'store'],
    [{ clock: {} }, 'clock'],
    [{ clock: Date.now }, 'clock'],
    [{ fallback: {} }, 'fallback'],
  ])('options with no sensible meaning are typed errors at construction (%#: %o)', (options, option) => {
    try {
      createRateLimiter({ limits: a, ...(options as object) });
      expect.unreachable();
    } catch (error) {
      expect(isInvalidOptionError(error)).toBe(true);
      expect((error as { option: string }).option).toBe(option);
    }
  });

  test.each([
    () => new MemoryStore({ maxKeys: 0 }),
    // Two generations of Maps, and a Map holds at most 2^24 entries: more would throw mid-traffic.
    () => new MemoryStore({ maxKeys: 2 ** 25 + 2 }),
    () => new MemoryStore({ clock: {} as never }),
  ])('bad memory store options are typed errors at construction (%#)', (make) => {
    expect(make).toThrow(expect.objectContaining({ code: 'ERR_PORTCULLIS_INVALID_OPTION' }));
  });

  test('the largest timeout, deny cache and memory store accepted work', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock, maxKeys: 2 ** 25 });
    const limiter = createRateLimiter({
      store,
      clock,
      limits: { a: fixedWindow({ limit: 1, windowMs: 1_000 }) },
      timeoutMs: 2 ** 31 - 1,
      denyCache: { maxKeys: 1_000_000, maxAgeMs: 1e15 },
    });
    expect(now(limiter.limit('k')).allowed).toBe(true);
    expect(now(limiter.limit('k')).allowed).toBe(false);
    // A slow store gets the whole timeout, not the 1 ms Node gives an overflowing timer.
    const slow = createRateLimiter({ store: brokenStore('hangs'), limits: a, timeoutMs: 2 ** 31 - 1 });
    const answer = Promise.resolve(slow.limit('k')).then(() => 'answered');
    const waited = await Promise.race([answer, new Promise((resolve) => setTimeout(resolve, 50, 'still waiting'))]);
    expect(waited).toBe('still waiting');
  });

  test.each([
    () => tokenBucket({ capacity: 0, refillPerSecond: 1 }),
    () => tokenBucket({ capacity: 1, refillPerSecond: Number.NaN }),
    () => gcra({ limit: 1, periodMs: -5 }),
    () => fixedWindow({ limit: Infinity, windowMs: 1 }),
    () => fixedWindow({ limit: 1, windowMs: 1.5 }),
    () => fixedWindow({ limit: 1, calendar: 'day', timeZone: 'Mars/Olympus' }),
    () => slidingWindow({ limit: 1, windowMs: 0 }),
    () => slidingLog({ limit: 10_001, windowMs: 1 }),
  ])('bad algorithm options are typed errors (%#)', (make) => {
    expect(make).toThrow(expect.objectContaining({ code: 'ERR_PORTCULLIS_INVALID_OPTION' }));
  });
});

describe('memory bound', () => {
  test('the memory store never holds more than maxKeys', () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock, maxKeys: 100 });
    const limiter = createRateLimiter({ store, clock, limits: { a: fixedWindow({ limit: 5, windowMs: 1_000 }) } });
    for (let i = 0; i < 10_000; i++) now(limiter.limit(`client-${String(i)}`));
    expect(store.size).toBe(100);
  });

  test('the bound is per dimension, and the most recently used keys are the ones kept', () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock, maxKeys: 50 });
    const limiter = createRateLimiter({
      store,
      clock,
      limits: {
        a: fixedWindow({ limit: 1, windowMs: 60_000 }),
        b: tokenBucket({ capacity: 1, refillPerSecond: 0.001 }),
      },
    });
    for (let i = 0; i < 5_000; i++) now(limiter.limit(`client-${String(i)}`));
    expect(store.size).toBe(100);
    // The last 50 clients are still remembered (and limited); the first ones were forgotten.
    expect(now(limiter.limit('client-4999')).allowed).toBe(false);
    expect(now(limiter.limit('client-4950')).allowed).toBe(false);
    expect(now(limiter.limit('client-0')).allowed).toBe(true);
  });
});

/** A store whose every call fails or never answers: the limiter's failure paths, not a stand-in for a real store's logic. */
function brokenStore(kind: 'throws' | 'rejects' | 'hangs'): RateLimitStore {
  const fail = (): never => {
    throw new Error('store down');
  };
  return {
    consume: () =>
      kind === 'throws'
        ? fail()
        : kind === 'rejects'
          ? Promise.reject(new Error('store down'))
          : new Promise(() => undefined),
    refund: () => undefined,
    reset: () => undefined,
  };
}

describe('store failures', () => {
  const policy: Policy = { a: fixedWindow({ limit: 2, windowMs: 60_000 }) };

  test.each(['throws', 'rejects', 'hangs'] as const)(
    'fail open by default when the store %s, with an event',
    async (kind) => {
      const limiter = createRateLimiter({ store: brokenStore(kind), limits: policy, timeoutMs: 20 });
      const errors: unknown[] = [];
      limiter.events.on('storeError', (e) => errors.push(e.error));
      const d = await limiter.limit('k');
      expect(d).toMatchObject({ allowed: true, source: 'fail-open' });
      expect(errors).toHaveLength(1);
      if (kind === 'hangs') expect(isStoreTimeoutError(errors[0])).toBe(true);
    },
  );

  test.each(['throws', 'rejects', 'hangs'] as const)('fail closed when asked, when the store %s', async (kind) => {
    const limiter = createRateLimiter({ store: brokenStore(kind), limits: policy, timeoutMs: 20, failMode: 'closed' });
    expect(await limiter.limit('k')).toMatchObject({ allowed: false, source: 'fail-closed', remaining: 0 });
  });

  test('a fallback limiter decides while the store is down', async () => {
    const fallback = createRateLimiter({ limits: { a: fixedWindow({ limit: 1, windowMs: 60_000 }) } });
    const limiter = createRateLimiter({ store: brokenStore('rejects'), limits: policy, fallback });
    expect(await limiter.limit('k')).toMatchObject({ allowed: true, source: 'fallback' });
    expect(await limiter.limit('k')).toMatchObject({ allowed: false, source: 'fallback' });
  });

  test.each([
    ['throws', 'open'],
    ['rejects', 'closed'],
    ['hangs', 'open'],
  ] as const)('a `decision` event reports a fail-mode answer too (store %s, fail %s)', async (kind, failMode) => {
    const limiter = createRateLimiter({ store: brokenStore(kind), limits: policy, timeoutMs: 10, failMode });
    const seen: unknown[] = [];
    limiter.events.on('decision', (e) => seen.push({ key: e.key, source: e.source, allowed: e.decision.allowed }));
    await limiter.limit('k');
    expect(seen).toEqual([{ key: 'k', source: `fail-${failMode}`, allowed: failMode === 'open' }]);
  });

  test('a `decision` event reports a fallback answer, and a refund of it goes back to the fallback', async () => {
    const clock = new ManualClock();
    const fallback = createRateLimiter({
      store: new MemoryStore({ clock }),
      clock,
      limits: { a: fixedWindow({ limit: 1, windowMs: 60_000 }) },
    });
    const limiter = createRateLimiter({ store: brokenStore('rejects'), limits: policy, fallback });
    const seen: unknown[] = [];
    limiter.events.on('decision', (e) => seen.push([e.source, e.decision.allowed]));
    const first = await limiter.limit('k');
    expect(await limiter.limit('k')).toMatchObject({ allowed: false, source: 'fallback' });
    expect(seen).toEqual([
      ['fallback', true],
      ['fallback', false],
    ]);
    // skipFailedRequests during an outage: the unit comes back where it was charged, once.
    expect(await limiter.refund(first)).toBe(true);
    expect(await limiter.refund(first)).toBe(false);
    expect(await limiter.limit('k')).toMatchObject({ allowed: true, source: 'fallback' });
  });

  test('hundreds of hung calls all settle (one shared timer)', async () => {
    const limiter = createRateLimiter({ store: brokenStore('hangs'), limits: policy, timeoutMs: 10 });
    const all = await Promise.all(
      Array.from({ length: 500 }, (_, i) => Promise.resolve(limiter.limit(`k${String(i)}`))),
    );
    expect(all.every((d) => d.source === 'fail-open')).toBe(true);
  });
});

describe('decision events', () => {
  test('every decision of the memory store, with its source', () => {
    const { limiter } = setup({ a: fixedWindow({ limit: 1, windowMs: 60_000 }) });
    const seen: unknown[] = [];
    limiter.events.on('decision', (e) => seen.push([e.key, e.source, e.decision.allowed]));
    now(limiter.limit('k'));
    now(limiter.limit('k'));
    now(limiter.peek('k'));
    expect(seen).toEqual([
      ['k', 'store', true],
      ['k', 'store', false],
      ['k', 'store', true],
    ]);
  });
});

describe('deny cache', () => {
  test('answers a key already known to be limited without asking the store, until its retry time', async () => {
    const clock = new ManualClock();
    const memory = new MemoryStore({ clock });
    let calls = 0;
    // An asynchronous store (as Redis is) built on the real memory store, counting round trips.
    const remote: RateLimitStore = {
      consume: (subject, dims, cost) => {
        calls++;
        return Promise.resolve(memory.consume(subject, dims, cost));
      },
      refund: (subject, dims, amount, at) => {
        memory.refund(subject, dims, amount, at);
      },
      reset: (subject, dims) => {
        memory.reset(subject, dims);
      },
    };
    const limiter = createRateLimiter({
      store: remote,
      clock,
      limits: { a: fixedWindow({ limit: 1, windowMs: 1_000 }) },
    });
    clock.set(10_000);
    expect((await limiter.limit('k')).allowed).toBe(true);
    expect((await limiter.limit('k')).source).toBe('store');
    expect(calls).toBe(2);
    clock.advance(300);
    const cached = await limiter.limit('k');
    expect(cached).toMatchObject({ allowed: false, source: 'deny-cache', retryAfterMs: 700, decidedAt: 10_300 });
    expect(cached.dimensions[0]?.retryAfterMs).toBe(700);
    expect(calls).toBe(2);
    clock.advance(700);
    expect((await limiter.limit('k')).allowed).toBe(true);
    expect(calls).toBe(3);
  });
});

describe('the memory store path for one limit', () => {
  /** The store's own `consume`, replaced by a call to it: the limiter then takes the general path. */
  class ThroughConsume extends MemoryStore {
    override consume(...args: Parameters<MemoryStore['consume']>): ReturnType<MemoryStore['consume']> {
      return super.consume(...args);
    }
  }

  /** Every algorithm, with an overage allowance or without. */
  const withOverage: fc.Arbitrary<Algorithm> = fc
    .record({ l: fc.integer({ min: 1, max: 10 }), w: fc.integer({ min: 100, max: 5_000 }), o: fc.nat({ max: 3 }) })
    .chain(({ l, w, o }) =>
      fc.constantFrom(
        tokenBucket({ capacity: l, refillPerSecond: (l * 1000) / w, overage: o }),
        fixedWindow({ limit: l, windowMs: w, overage: o }),
        slidingWindow({ limit: l, windowMs: w, overage: o }),
        slidingLog({ limit: l, windowMs: w, overage: o }),
        gcra({ limit: l, periodMs: w, overage: o }),
      ),
    );

  test.prop(
    [
      withOverage,
      fc.option(smallAlgorithm, { nil: undefined }),
      fc.array(
        fc.record({
          dt: fc.nat({ max: 400 }),
          key: fc.constantFrom('a', 'b', '%c'),
          pool: fc.constantFrom(undefined, 'team'),
          cost: fc.integer({ min: 0, max: 4 }),
          refund: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
        }),
        { minLength: 1, maxLength: 60 },
      ),
    ],
    { numRuns: 300 },
  )('decides, charges and refunds exactly as the general path does', (algorithm, poolAlgorithm, steps) => {
    const clock = new ManualClock();
    const make = (store: MemoryStore) =>
      createRateLimiter({
        store,
        clock,
        limits: { only: algorithm },
        ...(poolAlgorithm === undefined ? {} : { poolLimits: { shared: poolAlgorithm } }),
      });
    const fast = make(new MemoryStore({ clock, maxKeys: 4 }));
    const general = make(new ThroughConsume({ clock, maxKeys: 4 }));
    for (const { dt, key, pool, cost, refund } of steps) {
      clock.advance(dt);
      const opts = poolAlgorithm === undefined || pool === undefined ? { cost } : { cost, pool };
      const a = now(fast.limit(key, opts));
      const b = now(general.limit(key, opts));
      expect(a).toEqual(b);
      expect(a).toBeInstanceOf(b.constructor);
      if (refund !== undefined) expect(fast.refund(a, refund)).toBe(general.refund(b, refund));
    }
  });
});
