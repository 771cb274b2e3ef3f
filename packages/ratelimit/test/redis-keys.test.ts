import { createHash } from 'node:crypto';
import { test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  MemoryStore,
  RedisStore,
  tokenBucket,
  type RateLimiter,
  type RateLimiterOptions,
} from '../src/index.js';
import { checkModel, keySteps, modelPolicy } from './hostile-keys.js';
import { client, redis, useRedisServer } from './redis-fixture.js';

let run = 0;
useRedisServer();

type Options = Omit<RateLimiterOptions, 'store' | 'clock' | 'prefix'>;

/** The same limiter on each store, at a fixed time, with a prefix of its own. */
const stores: readonly [string, (options: Options) => RateLimiter][] = [
  [
    'memory',
    (options) => {
      const clock = new ManualClock();
      return createRateLimiter({ ...options, store: new MemoryStore({ clock }), clock });
    },
  ],
  [
    'Redis',
    (options) => {
      const clock = new ManualClock();
      run++;
      return createRateLimiter({
        denyCache: false,
        timeoutMs: 10_000, // not a timeout test: a loaded machine must not turn decisions into fail-opens
        ...options,
        store: new RedisStore({ client, time: clock }),
        clock,
        prefix: `${redis.prefix}keys${String(run)}`,
      });
    },
  ],
];

const oneEach: Options = {
  limits: { a: fixedWindow({ limit: 1, windowMs: 3_600_000 }), b: tokenBucket({ capacity: 5, refillPerSecond: 1 }) },
  poolLimits: { team: fixedWindow({ limit: 100, windowMs: 3_600_000 }) },
};

describe.each(stores)('keys on the %s store', (_name, make) => {
  test.prop([keySteps], { numRuns: 60 })(
    'hostile keys and pools reach exactly their own counters (model: strings compared as JavaScript does)',
    async (steps) => {
      await checkModel(make(modelPolicy), steps);
    },
  );

  test("a short key equal to a long key's former hashed form has its own counter", async () => {
    const limiter = make(oneEach);
    const long = 'k'.repeat(300);
    const hashed = `h:${createHash('sha256').update(long).digest('base64url')}`;
    expect((await limiter.limit(long)).allowed).toBe(true);
    expect((await limiter.limit(hashed)).allowed).toBe(true);
    expect((await limiter.limit(long)).allowed).toBe(false);
  });

  test('long keys that differ only in a lone surrogate have their own counters', async () => {
    const limiter = make(oneEach);
    const long = 'k'.repeat(250);
    expect((await limiter.limit(`${long}\uD800`)).allowed).toBe(true);
    expect((await limiter.limit(`${long}\uDFFF`)).allowed).toBe(true);
    expect((await limiter.limit(`${long}\uFFFD`)).allowed).toBe(true);
    expect((await limiter.limit(`${long}\uD800`)).allowed).toBe(false);
  });

  test("'\\uD800', '\\uDFFF' and '\\uFFFD' are three keys", async () => {
    const limiter = make(oneEach);
    for (const key of ['\uD800', '\uDFFF', '\uFFFD', 'a\uD800b', 'a\uFFFDb']) {
      expect((await limiter.limit(key)).allowed).toBe(true);
      expect((await limiter.limit(key)).allowed).toBe(false);
    }
  });

  test('a pooled user does not share the plain key of the same name', async () => {
    const limiter = make(oneEach);
    expect((await limiter.limit('alice')).allowed).toBe(true);
    expect((await limiter.limit('alice', { pool: 'alice' })).allowed).toBe(true);
    expect((await limiter.limit('alice', { pool: 'alice' })).allowed).toBe(false);
  });

  test('keys that look like escapes, hash tags or hashed keys are keys like any other', async () => {
    const limiter = make(oneEach);
    for (const key of ['%', '%25', '%7D', '}', '%7B', '{', '{}', '%uD800', '\uD800', '%h', 'h:x', '%%']) {
      expect({ key, allowed: (await limiter.limit(key)).allowed }).toEqual({ key, allowed: true });
    }
  });

  test("reset(user, { pool }) forgets the user's own usage and leaves the team's", async () => {
    const limiter = make({
      limits: { own: fixedWindow({ limit: 5, windowMs: 3_600_000 }) },
      poolLimits: { team: fixedWindow({ limit: 10, windowMs: 3_600_000 }) },
    });
    for (let i = 0; i < 4; i++) expect((await limiter.limit('alice', { pool: 'acme' })).allowed).toBe(true);
    for (let i = 0; i < 5; i++) expect((await limiter.limit('bob', { pool: 'acme' })).allowed).toBe(true);
    await limiter.reset('alice', { pool: 'acme' });
    const alice = await limiter.peek('alice', { pool: 'acme' });
    expect(alice.dimensions.map((d) => [d.name, d.scope, d.remaining])).toEqual([
      ['own', 'key', 5],
      ['team', 'pool', 1],
    ]);
    const bob = await limiter.peek('bob', { pool: 'acme' });
    expect(bob.dimensions.map((d) => d.remaining)).toEqual([0, 1]);
  });

  test("resetPool(pool) forgets the team's usage and leaves each member's own", async () => {
    const limiter = make({
      limits: { own: fixedWindow({ limit: 5, windowMs: 3_600_000 }) },
      poolLimits: { team: fixedWindow({ limit: 10, windowMs: 3_600_000 }) },
    });
    for (let i = 0; i < 4; i++) await limiter.limit('alice', { pool: 'acme' });
    for (let i = 0; i < 5; i++) await limiter.limit('bob', { pool: 'acme' });
    for (let i = 0; i < 3; i++) await limiter.limit('carol', { pool: 'other' });
    await limiter.resetPool('acme');
    expect((await limiter.peek('alice', { pool: 'acme' })).dimensions.map((d) => d.remaining)).toEqual([1, 10]);
    expect((await limiter.peek('bob', { pool: 'acme' })).dimensions.map((d) => d.remaining)).toEqual([0, 10]);
    expect((await limiter.peek('carol', { pool: 'other' })).dimensions.map((d) => d.remaining)).toEqual([2, 7]);
  });
});
