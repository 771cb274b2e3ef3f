import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  gcra,
  MemoryStore,
  RedisStore,
  slidingLog,
  slidingWindow,
  tokenBucket,
  type Algorithm,
  type Decision,
  type Policy,
} from '../src/index.js';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { limitScript } from '../src/stores/redis/script.js';
import { client, redis, useRedisServer } from './redis-fixture.js';

useRedisServer();

/** Every key the tests wrote must carry an expiry. */
async function keysWithoutTtl(c: Redis, prefix: string): Promise<string[]> {
  const missing: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    // -1 is "no expiry"; -2 (expired between SCAN and PTTL) is fine.
    for (const key of keys) if ((await c.pttl(key)) === -1) missing.push(key);
  } while (cursor !== '0');
  return missing;
}

const anyAlgorithm: fc.Arbitrary<Algorithm> = fc.oneof(
  fc
    .record({ c: fc.integer({ min: 1, max: 10 }), r: fc.integer({ min: 1, max: 50 }), o: fc.nat({ max: 2 }) })
    .map(({ c, r, o }) => tokenBucket({ capacity: c, refillPerSecond: r, overage: o })),
  fc
    .record({
      l: fc.integer({ min: 1, max: 10 }),
      p: fc.integer({ min: 10, max: 3_000 }),
      b: fc.integer({ min: 1, max: 10 }),
    })
    .map(({ l, p, b }) => gcra({ limit: l, periodMs: p, burst: b })),
  fc
    .record({ l: fc.integer({ min: 1, max: 10 }), w: fc.integer({ min: 10, max: 3_000 }), o: fc.nat({ max: 2 }) })
    .map(({ l, w, o }) => fixedWindow({ limit: l, windowMs: w, overage: o })),
  fc
    .record({
      l: fc.integer({ min: 1, max: 10 }),
      tz: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata'),
    })
    .map(({ l, tz }) => fixedWindow({ limit: l, calendar: 'hour', timeZone: tz })),
  fc
    .record({ l: fc.integer({ min: 1, max: 10 }), w: fc.integer({ min: 10, max: 3_000 }) })
    .map(({ l, w }) => slidingWindow({ limit: l, windowMs: w })),
  fc
    .record({ l: fc.integer({ min: 1, max: 10 }), w: fc.integer({ min: 10, max: 3_000 }) })
    .map(({ l, w }) => slidingLog({ limit: l, windowMs: w })),
);

/** What must agree between stores (the source differs by design). */
const comparable = (d: Decision) => ({ ...d, source: undefined });

/** Limits whose windows, refills and logs play out within milliseconds of real time. */
const quickAlgorithm: fc.Arbitrary<Algorithm> = fc.oneof(
  fc
    .record({ c: fc.integer({ min: 1, max: 5 }), r: fc.integer({ min: 20, max: 300 }), o: fc.nat({ max: 1 }) })
    .map(({ c, r, o }) => tokenBucket({ capacity: c, refillPerSecond: r, overage: o })),
  fc
    .record({
      l: fc.integer({ min: 1, max: 5 }),
      p: fc.integer({ min: 10, max: 200 }),
      b: fc.integer({ min: 1, max: 5 }),
    })
    .map(({ l, p, b }) => gcra({ limit: l, periodMs: p, burst: b })),
  fc
    .record({ l: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 5, max: 60 }), o: fc.nat({ max: 1 }) })
    .map(({ l, w, o }) => fixedWindow({ limit: l, windowMs: w, overage: o })),
  fc
    .record({ l: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 5, max: 60 }) })
    .map(({ l, w }) => slidingWindow({ limit: l, windowMs: w })),
  fc
    .record({ l: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 5, max: 60 }) })
    .map(({ l, w }) => slidingLog({ limit: l, windowMs: w })),
);

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

describe('RedisStore', () => {
  let run = 0;

  test.prop(
    [
      fc.array(anyAlgorithm, { minLength: 1, maxLength: 3 }),
      fc.array(
        fc.record({
          dt: fc.nat({ max: 700 }),
          op: fc.constantFrom('limit', 'limit', 'limit', 'peek', 'refund'),
          cost: fc.integer({ min: 0, max: 4 }),
          key: fc.constantFrom('a', 'b'),
        }),
        { minLength: 1, maxLength: 40 },
      ),
    ],
    { numRuns: 60 },
  )('decides exactly as the memory store for the same schedule (differential)', async (algorithms, steps) => {
    run++;
    const policy: Policy = Object.fromEntries(algorithms.map((a, i) => [`d${String(i)}`, a]));
    const clock = new ManualClock(1_700_000_000_000 + run * 10_000_000);
    const prefix = `${redis.prefix}diff${String(run)}`;
    const memory = createRateLimiter({ store: new MemoryStore({ clock }), clock, limits: policy, prefix });
    const shared = createRateLimiter({
      store: new RedisStore({ client, time: clock }),
      clock,
      limits: policy,
      prefix,
      denyCache: false,
      // Not a timeout test: on a loaded machine a 50 ms budget would turn decisions into fail-opens.
      timeoutMs: 10_000,
    });
    const granted: [Decision, Decision][] = [];
    for (const step of steps) {
      clock.advance(step.dt);
      if (step.op === 'refund') {
        const pair = granted.shift();
        if (pair === undefined) continue;
        expect(await shared.refund(pair[1], step.cost)).toBe(memory.refund(pair[0], step.cost));
        continue;
      }
      const cost = step.op === 'peek' ? 0 : step.cost;
      const m = await memory.limit(step.key, { cost });
      const r = await shared.limit(step.key, { cost });
      expect(r.source).toBe('store');
      expect(comparable(r)).toEqual(comparable(m));
      if (m.allowed && cost > 0) granted.push([m, r]);
    }
    expect(await keysWithoutTtl(client, prefix)).toEqual([]);
  });

  test.prop(
    [
      fc.array(quickAlgorithm, { minLength: 1, maxLength: 3 }),
      fc.array(
        fc.record({
          sleep: fc.constantFrom(0, 0, 1, 3, 8, 15),
          burst: fc.integer({ min: 1, max: 4 }),
          cost: fc.integer({ min: 0, max: 3 }),
          key: fc.constantFrom('a', 'b'),
        }),
        { minLength: 1, maxLength: 25 },
      ),
    ],
    { numRuns: 30 },
  )(
    "on the server's clock, every decision is the memory store's at the instant Redis decided it (replayed)",
    async (algorithms, steps) => {
      run++;
      const policy: Policy = Object.fromEntries(algorithms.map((a, i) => [`d${String(i)}`, a]));
      const prefix = `${redis.prefix}server${String(run)}`;
      const shared = createRateLimiter({
        store: new RedisStore({ client }),
        limits: policy,
        prefix,
        denyCache: false,
        timeoutMs: 10_000,
      });
      const issued: { key: string; cost: number; decision: Decision }[] = [];
      for (const step of steps) {
        if (step.sleep > 0) await sleep(step.sleep);
        // Issued in one tick: one script call, decided at one instant.
        const burst = await Promise.all(
          Array.from({ length: step.burst }, () => Promise.resolve(shared.limit(step.key, { cost: step.cost }))),
        );
        for (const decision of burst) issued.push({ key: step.key, cost: step.cost, decision });
      }
      // Replayed in issue order on memory, each at the instant Redis reported.
      const clock = new ManualClock(0);
      const memory = createRateLimiter({ store: new MemoryStore({ clock }), clock, limits: policy, prefix });
      let last = -Infinity;
      for (const { key, cost, decision } of issued) {
        expect(decision.source).toBe('store');
        expect(decision.decidedAt).toBeGreaterThanOrEqual(last);
        last = decision.decidedAt;
        clock.set(decision.decidedAt);
        expect(comparable(decision)).toEqual(comparable(memory.limit(key, { cost }) as Decision));
      }
      expect(await keysWithoutTtl(client, prefix)).toEqual([]);
    },
  );

  test('N clients racing on one key with limit L admit exactly L', async () => {
    const clients = Array.from({ length: 16 }, () => redis.createClient());
    await Promise.all(clients.map((c) => c.ping()));
    const limits: Policy = {
      w: fixedWindow({ limit: 250, windowMs: 3_600_000 }),
      b: tokenBucket({ capacity: 250, refillPerSecond: 0.001 }),
    };
    const limiters = clients.map((c) =>
      createRateLimiter({
        store: new RedisStore({ client: c }),
        limits,
        prefix: `${redis.prefix}race`,
        denyCache: false,
        timeoutMs: 5_000,
      }),
    );
    const decisions = await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        Promise.resolve((limiters[i % limiters.length] as (typeof limiters)[number]).limit('hot')),
      ),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(250);
    expect(decisions.every((d) => d.source === 'store')).toBe(true);
    await Promise.all(clients.map((c) => c.quit()));
  });

  test('a pooled user + team quota is exact under concurrency', async () => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: { own: fixedWindow({ limit: 40, windowMs: 3_600_000 }) },
      poolLimits: { team: fixedWindow({ limit: 100, windowMs: 3_600_000 }) },
      prefix: `${redis.prefix}pool`,
      denyCache: false,
      timeoutMs: 5_000,
    });
    const users = ['u1', 'u2', 'u3', 'u4'];
    const decisions = await Promise.all(
      Array.from({ length: 400 }, (_, i) => Promise.resolve(limiter.limit(users[i % 4] as string, { pool: 'acme' }))),
    );
    const admitted = decisions.filter((d) => d.allowed).length;
    expect(admitted).toBe(100);
    for (const u of users) {
      const own = (await limiter.peek(u, { pool: 'acme' })).dimensions[0];
      expect(own?.remaining).toBe(40 - decisions.filter((d, i) => d.allowed && users[i % 4] === u).length);
    }
  });

  test('one round trip per decision, also for a 3-dimension quota', async () => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: {
        perSecond: tokenBucket({ capacity: 100, refillPerSecond: 100 }),
        daily: fixedWindow({ limit: 10_000, calendar: 'day', timeZone: 'Europe/Paris' }),
        monthly: fixedWindow({ limit: 300_000, calendar: 'month', timeZone: 'Europe/Paris' }),
      },
      prefix: `${redis.prefix}rt`,
      timeoutMs: 5_000, // a loaded machine must not turn these into fail-opens
    });
    await limiter.limit('warm'); // loads the script
    // MONITOR tags each command with its source: 'lua' for what the script runs inside Redis, the
    // client's address for what crossed the network. Only the latter are round trips.
    const monitor = await redis.createClient().monitor();
    const sent: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') sent.push(String(args[0]).toLowerCase());
    });
    await client.config('RESETSTAT');
    for (let i = 0; i < 50; i++) await limiter.limit(`k${String(i % 5)}`);
    await client.ping();
    await new Promise((resolve) => setTimeout(resolve, 50));
    monitor.disconnect();
    expect(sent.filter((c) => c === 'evalsha')).toHaveLength(50);
    expect(sent.filter((c) => c !== 'evalsha' && c !== 'config' && c !== 'ping')).toEqual([]);
    const stats = await client.info('commandstats');
    expect(stats).toMatch(/cmdstat_evalsha:calls=50,/);
  });

  test('decisions of one tick share a script call: never more than one command per decision, exact', async () => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: { w: fixedWindow({ limit: 70, windowMs: 3_600_000 }) },
      prefix: `${redis.prefix}tick`,
      denyCache: false,
      timeoutMs: 5_000,
    });
    await limiter.limit('warm'); // loads the script
    await client.config('RESETSTAT');
    const decisions = await Promise.all(
      Array.from({ length: 300 }, (_, i) => Promise.resolve(limiter.limit(`k${String(i % 3)}`))),
    );
    // Each of the three keys admits exactly its 70, in call order.
    for (let k = 0; k < 3; k++) {
      const own = decisions.filter((_, i) => i % 3 === k);
      expect(own.map((d) => d.allowed)).toEqual(own.map((_, j) => j < 70));
      expect(own.map((d) => d.remaining)).toEqual(own.map((_, j) => Math.max(0, 69 - j)));
    }
    const stats = await client.info('commandstats');
    const calls = Number(/cmdstat_evalsha:calls=(\d+),/.exec(stats)?.[1]);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(300);
    expect(stats).not.toMatch(/cmdstat_eval:/); // the script was found: no reload
  });

  test.each([0, -1, 1.5, Number.NaN])('batchSize %s is a typed error naming the option', (batchSize) => {
    expect(() => new RedisStore({ client, batchSize })).toThrow(
      expect.objectContaining({ code: 'ERR_PORTCULLIS_INVALID_OPTION', option: 'batchSize' }),
    );
  });

  test('recovers from a flushed script cache (NOSCRIPT)', async () => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: { a: fixedWindow({ limit: 2, windowMs: 60_000 }) },
      prefix: `${redis.prefix}nos`,
      timeoutMs: 5_000, // a loaded machine must not turn these into fail-opens
    });
    expect((await limiter.limit('k')).allowed).toBe(true);
    await client.script('FLUSH');
    expect(await limiter.limit('k')).toMatchObject({ allowed: true, source: 'store', remaining: 0 });
  });

  test('a decision alone in its tick runs the one-consume script; decisions sharing a tick, the general one', async () => {
    const shape = ['tb', 'fw'];
    const sha = (single: boolean): string => createHash('sha1').update(limitScript(shape, single)).digest('hex');
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: {
        b: tokenBucket({ capacity: 5, refillPerSecond: 1 }),
        w: fixedWindow({ limit: 5, windowMs: 60_000 }),
      },
      prefix: `${redis.prefix}single`,
      denyCache: false,
      timeoutMs: 5_000, // a loaded machine must not turn these into fail-opens
    });
    await client.script('FLUSH');
    expect(await limiter.limit('k')).toMatchObject({ allowed: true, source: 'store', remaining: 4 });
    expect(await client.script('EXISTS', sha(true), sha(false))).toEqual([1, 0]);
    const burst = await Promise.all([limiter.limit('k'), limiter.limit('k')]);
    expect(burst.map((d) => d.remaining)).toEqual([3, 2]);
    expect(await client.script('EXISTS', sha(true), sha(false))).toEqual([1, 1]);
  });

  test('takes time from the Redis server, whatever the gateway clock says', async () => {
    const skewed = new ManualClock(Date.UTC(2001, 0, 1));
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      clock: skewed,
      limits: { a: fixedWindow({ limit: 2, windowMs: 60_000 }) },
      prefix: `${redis.prefix}time`,
      timeoutMs: 5_000, // a loaded machine must not turn these into fail-opens
    });
    const [seconds] = await client.time();
    const d = await limiter.limit('k');
    expect(Math.abs(d.decidedAt - Number(seconds) * 1000)).toBeLessThan(5_000);
  });

  test('no key the suite wrote is without an expiry', async () => {
    expect(await keysWithoutTtl(client, redis.prefix)).toEqual([]);
    expect(await client.dbsize()).toBeGreaterThan(0);
  });
});
