import { fc, test as propertyTest } from '@fast-check/vitest';
import { startRedisCluster, type RedisCluster } from '@portcullis/testkit';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRateLimiter, fixedWindow, RedisStore, slidingLog, tokenBucket, type Policy } from '../src/index.js';
import { redisKeyPart } from '../src/key.js';
import { tagSlot } from '../src/stores/redis/slot.js';

let cluster: RedisCluster;
let client: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  client = cluster.createClient();
  await client.ping();
});

afterAll(async () => {
  await cluster.stop();
});

async function ready(c: Cluster): Promise<Cluster> {
  await c.ping();
  return c;
}

describe('RedisStore on a 3-master Redis Cluster', () => {
  test('clients racing on one key with limit L admit exactly L', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => ready(cluster.createClient())));
    const limits: Policy = {
      perSecond: tokenBucket({ capacity: 300, refillPerSecond: 0.001 }),
      daily: fixedWindow({ limit: 150, calendar: 'day', timeZone: 'Europe/Paris' }),
    };
    const limiters = clients.map((c) =>
      createRateLimiter({
        store: new RedisStore({ client: c }),
        limits,
        prefix: 'race',
        denyCache: false,
        timeoutMs: 5_000,
      }),
    );
    const decisions = await Promise.all(
      Array.from({ length: 1_200 }, (_, i) =>
        Promise.resolve((limiters[i % limiters.length] as (typeof limiters)[number]).limit('hot')),
      ),
    );
    expect(decisions.every((d) => d.source === 'store')).toBe(true);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(150);
    expect(decisions.filter((d) => !d.allowed).every((d) => d.limitedBy === 'daily')).toBe(true);
    await Promise.all(clients.map((c) => c.quit()));
  });

  test('a pooled, multi-dimensional check stays in one slot and is exact under concurrency', async () => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: {
        own: fixedWindow({ limit: 30, windowMs: 3_600_000 }),
        burst: slidingLog({ limit: 50, windowMs: 60_000 }),
      },
      poolLimits: { team: fixedWindow({ limit: 70, windowMs: 3_600_000 }) },
      prefix: 'pool',
      denyCache: false,
      timeoutMs: 5_000,
    });
    const members = ['ann', 'ben', 'cat'];
    const decisions = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        Promise.resolve(limiter.limit(members[i % 3] as string, { pool: 'team-7' })),
      ),
    );
    expect(decisions.every((d) => d.source === 'store')).toBe(true);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(70);
    for (const member of members) {
      const used = decisions.filter((d, i) => d.allowed && members[i % 3] === member).length;
      expect(used).toBeLessThanOrEqual(30);
      expect((await limiter.peek(member, { pool: 'team-7' })).dimensions[0]?.remaining).toBe(30 - used);
    }
  });

  test('different identities spread over the nodes, each identity in one slot', async () => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: { a: fixedWindow({ limit: 5, windowMs: 60_000 }), b: tokenBucket({ capacity: 5, refillPerSecond: 1 }) },
      prefix: 'spread',
      timeoutMs: 5_000, // a loaded machine must not turn these into fail-opens
    });
    for (let i = 0; i < 30; i++) await limiter.limit(`user-${String(i)}`);
    const slotsPerUser = new Map<string, Set<number>>();
    const nodesUsed = new Set<string>();
    for (const node of client.nodes('master')) {
      const keys = await node.keys('spread:*');
      if (keys.length > 0) nodesUsed.add(String(node.options.port));
      for (const key of keys) {
        const user = key.slice(key.indexOf('{') + 1, key.indexOf('}'));
        const slot = await node.cluster('KEYSLOT', key);
        slotsPerUser.set(user, (slotsPerUser.get(user) ?? new Set()).add(slot));
        // Every key carries its expiry.
        expect(await node.pttl(key)).toBeGreaterThan(0);
      }
    }
    expect(slotsPerUser.size).toBe(30);
    for (const slots of slotsPerUser.values()) expect(slots.size).toBe(1);
    expect(nodesUsed.size).toBeGreaterThan(1);
  });
});

describe('slots', () => {
  propertyTest.prop(
    [
      fc.string({
        unit: fc.oneof(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
          fc.constantFrom('\uD800', '}', '{', '%'),
        ),
        minLength: 1,
        maxLength: 24,
      }),
    ],
    { numRuns: 200 },
  )('the slot the store groups a call by is the one Redis computes for its keys', async (id) => {
    const tag = redisKeyPart(id);
    expect(tagSlot(tag)).toBe(await client.cluster('KEYSLOT', `rl:{${tag}}:daily:fw@0:k:${tag}`));
  });
});
