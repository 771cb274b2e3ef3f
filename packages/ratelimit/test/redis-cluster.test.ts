import { fc, test as propertyTest } from '@fast-check/vitest';
import { startRedisCluster, type RedisCluster } from '@portcullis/testkit';
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  RedisStore,
  slidingLog,
  tokenBucket,
  type Decision,
  type Policy,
} from '../src/index.js';
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

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

interface Master {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly client: Redis;
}

/**
 * Moves `slot` to another master the way `redis-cli --cluster reshard` does, slowly — a key at a
 * time, `pauseMs` apart — so decisions keep arriving while some of its keys have moved and some
 * have not: IMPORTING on the target, MIGRATING on the source, MIGRATE of each key, then SETSLOT
 * NODE on every master. `onMigrating` runs once both sides are set.
 */
async function migrateSlot(slot: number, pauseMs: number, onMigrating: () => void): Promise<[Master, Master]> {
  const all: Master[] = await Promise.all(
    cluster.nodes.map(async (node) => {
      const direct = new Redis({ host: node.host, port: node.port });
      return { id: await direct.cluster('MYID'), host: node.host, port: node.port, client: direct };
    }),
  );
  try {
    const ranges = await (all[0] as Master).client.cluster('SLOTS');
    const range = ranges.find(([from, to]) => from <= slot && slot <= to);
    const source = all.find((m) => m.port === range?.[2]?.[1]) as Master;
    const target = all.find((m) => m !== source) as Master;
    await target.client.cluster('SETSLOT', slot, 'IMPORTING', source.id);
    await source.client.cluster('SETSLOT', slot, 'MIGRATING', target.id);
    onMigrating();
    for (;;) {
      const keys = await source.client.cluster('GETKEYSINSLOT', slot, 1);
      if (keys.length === 0) break;
      await source.client.migrate(target.host, target.port, '', 0, 5_000, 'KEYS', ...keys);
      await sleep(pauseMs);
    }
    for (const m of all) await m.client.cluster('SETSLOT', slot, 'NODE', target.id);
    return [source, target];
  } finally {
    for (const m of all) m.client.disconnect();
  }
}

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

describe('a slot migration under load (Redis Cluster resharding)', () => {
  test('every decision stays exact while the keys of a slot move to another master (ASK, TRYAGAIN, MOVED)', async () => {
    // Eight identities in one slot, each limited to 40 per hour by a fixed window, and a bucket
    // that does not refill in the test's time: every operation touches two keys of the slot.
    const slot = tagSlot('hot');
    const hot: string[] = [];
    for (let i = 0; hot.length < 8; i++) if (tagSlot(`m${String(i)}`) === slot) hot.push(`m${String(i)}`);
    expect(await Promise.all(hot.map((k) => client.cluster('KEYSLOT', k)))).toEqual(hot.map(() => slot));
    const limit = 40;
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: {
        window: fixedWindow({ limit, windowMs: 3_600_000 }),
        bucket: tokenBucket({ capacity: 1_000, refillPerSecond: 0.001 }),
      },
      prefix: 'move',
      denyCache: false,
      // ioredis waits 100 ms before it retries a TRYAGAIN: not a timeout test.
      timeoutMs: 10_000,
    });
    const decisions = new Map<string, Decision[]>(hot.map((k) => [k, []]));
    const decide = async (key: string): Promise<void> => {
      (decisions.get(key) as Decision[]).push(await limiter.limit(key));
    };
    // Before: half the limit each.
    await Promise.all(hot.flatMap((k) => Array.from({ length: limit / 2 }, () => decide(k))));
    // During: 16 callers over the eight keys until the slot has moved.
    let migrating = false;
    let moved = false;
    let duringMigration = 0;
    const callers = Array.from({ length: 16 }, async (_, c) => {
      for (let i = c; !moved; i++) {
        await decide(hot[i % hot.length] as string);
        if (migrating) duringMigration++;
      }
    });
    const [source, target] = await migrateSlot(slot, 25, () => {
      migrating = true;
    });
    moved = true;
    await Promise.all(callers);
    // After: enough to pass the limit on every key.
    await Promise.all(hot.flatMap((k) => Array.from({ length: limit }, () => decide(k))));

    expect(duringMigration).toBeGreaterThan(0);
    expect(source.port).not.toBe(target.port);
    for (const [key, list] of decisions) {
      expect({ key, sources: [...new Set(list.map((d) => d.source))] }).toEqual({ key, sources: ['store'] });
      expect({ key, admitted: list.filter((d) => d.allowed).length }).toEqual({ key, admitted: limit });
      expect((await limiter.peek(key)).dimensions.map((d) => d.remaining)).toEqual([0, 1_000 - limit]);
    }
    // The slot's keys now live on the target.
    const direct = new Redis({ host: '127.0.0.1', port: target.port });
    expect(await direct.cluster('COUNTKEYSINSLOT', slot)).toBeGreaterThan(0);
    direct.disconnect();
  });
});
