import { test } from '@fast-check/vitest';
import { ManualClock, startRedisCluster, type RedisCluster } from '@portcullis/testkit';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  RedisStore,
  storageKey,
  tokenBucket,
  type RateLimitStore,
  type StoreDimension,
  type StoreSubject,
} from '../src/index.js';
import { checkModel, keySteps, modelPolicy } from './hostile-keys.js';

let cluster: RedisCluster;
let client: Cluster;
let run = 0;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  client = cluster.createClient();
  await client.ping();
});

afterAll(async () => {
  await cluster.stop();
});

/** The Redis store, noting the storage keys of every operation on the way. */
function recordingStore(): { store: RateLimitStore; operations: string[][] } {
  const redis = new RedisStore({ client, time: new ManualClock() });
  const operations: string[][] = [];
  const note = (subject: StoreSubject, dimensions: readonly StoreDimension[]): void => {
    operations.push(dimensions.map((d) => storageKey(subject, d)));
  };
  const store: RateLimitStore = {
    consume(subject, dimensions, cost) {
      note(subject, dimensions);
      return redis.consume(subject, dimensions, cost);
    },
    refund(subject, dimensions, amount, chargedAt) {
      note(subject, dimensions);
      return redis.refund(subject, dimensions, amount, chargedAt);
    },
    reset(subject, dimensions) {
      note(subject, dimensions);
      return redis.reset(subject, dimensions);
    },
  };
  return { store, operations };
}

describe('keys on a 3-master Redis Cluster', () => {
  test.each(['}evil', '}', '{', '{}', '}{', '{}}', '%7D', '\uD800'])(
    'the key %j is limited in every dimension like any other key (no CROSSSLOT, no fail-open)',
    async (key) => {
      run++;
      const limiter = createRateLimiter({
        store: new RedisStore({ client }),
        limits: {
          a: fixedWindow({ limit: 3, windowMs: 3_600_000 }),
          b: tokenBucket({ capacity: 3, refillPerSecond: 0.001 }),
        },
        poolLimits: { team: fixedWindow({ limit: 2, windowMs: 3_600_000 }) },
        prefix: `hostile${String(run)}`,
        denyCache: false,
        timeoutMs: 5_000,
      });
      const errors: unknown[] = [];
      limiter.events.on('storeError', ({ error }) => errors.push(error));
      const plain = [];
      for (let i = 0; i < 6; i++) plain.push(await limiter.limit(key));
      expect(plain.map((d) => [d.allowed, d.source])).toEqual([
        ...Array.from({ length: 3 }, () => [true, 'store']),
        ...Array.from({ length: 3 }, () => [false, 'store']),
      ]);
      await limiter.reset(key);
      expect((await limiter.limit(key)).allowed).toBe(true);

      const pooled = [];
      for (let i = 0; i < 4; i++) pooled.push(await limiter.limit('member', { pool: key }));
      expect(pooled.map((d) => [d.allowed, d.source])).toEqual([
        [true, 'store'],
        [true, 'store'],
        [false, 'store'],
        [false, 'store'],
      ]);
      await limiter.resetPool(key);
      expect((await limiter.limit('member', { pool: key })).allowed).toBe(true);
      expect(errors).toEqual([]);
    },
  );

  test.prop([keySteps], { numRuns: 40 })(
    'hostile keys and pools reach exactly their own counters, and every operation stays in one slot',
    async (steps) => {
      run++;
      const { store, operations } = recordingStore();
      const limiter = createRateLimiter({
        ...modelPolicy,
        store,
        clock: new ManualClock(),
        prefix: `model${String(run)}`,
        denyCache: false,
        timeoutMs: 5_000,
      });
      await checkModel(limiter, steps);
      // The slot Redis itself computes for each key.
      const slots = await Promise.all(
        operations.map((keys) => Promise.all(keys.map((k) => client.cluster('KEYSLOT', k)))),
      );
      for (const [i, keys] of operations.entries()) {
        expect({ keys, slots: new Set(slots[i]).size }).toEqual({ keys, slots: 1 });
      }
    },
  );
});
