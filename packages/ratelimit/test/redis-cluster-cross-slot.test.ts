import type { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { admins, client, cluster, useRedisCluster } from './redis-cluster-fixture.js';
import { createRateLimiter, fixedWindow, RedisStore, tokenBucket, type RateLimiter } from '../src/index.js';
import { redisKeyPart } from '../src/key.js';
import { limitScript } from '../src/stores/redis/script.js';
import { tagSlot } from '../src/stores/redis/slot.js';

useRedisCluster();

/** Per master (`host:port`), the calls of `command` since the last `CONFIG RESETSTAT`. */
async function calls(command: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [name, admin] of admins) {
    const stats = await admin.info('commandstats');
    counts.set(name, Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0));
  }
  return counts;
}

async function resetStats(): Promise<void> {
  for (const admin of admins.values()) await admin.config('RESETSTAT');
}

/** Per master (`host:port`), how many of `ids` it serves, as the Cluster client sees the slots. */
function perMaster(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of admins.keys()) counts.set(name, 0);
  for (const id of ids) {
    const node = client.slots[tagSlot(redisKeyPart(id))]?.[0] ?? 'none';
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return counts;
}

const limiterOn = (store: RedisStore, prefix: string, limit: number): RateLimiter =>
  createRateLimiter({
    store,
    limits: {
      window: fixedWindow({ limit, windowMs: 1_000 * 86_400_000 }),
      bucket: tokenBucket({ capacity: 1_000, refillPerSecond: 0.001 }),
    },
    prefix,
    denyCache: false,
    timeoutMs: 10_000, // a loaded machine must not turn these into fail-opens
  });

/** Every id decided once, all in one tick. */
const tick = (limiter: RateLimiter, ids: readonly string[]): Promise<boolean[]> =>
  Promise.all(ids.map(async (id) => (await limiter.limit(id)).allowed));

describe('RedisStore on a Redis 7 Cluster: one call per master per tick (cross-slot script)', () => {
  const ids = Array.from({ length: 90 }, (_, i) => `user-${String(i)}`);
  const slots = new Set(ids.map((id) => tagSlot(redisKeyPart(id))));

  test('a tick of 90 identities is one EVALSHA per master, and every decision stays exact', async () => {
    const store = new RedisStore({ client, batchSize: 64 });
    // Warm-up: the store asks once whether the Cluster runs cross-slot scripts, and each master
    // loads the script (EVAL after NOSCRIPT).
    const warm = limiterOn(store, 'warm', 1_000);
    for (let i = 0; i < 3; i++) await tick(warm, ids);
    const serving = perMaster(ids);
    expect(slots.size).toBe(90);
    expect([...serving.values()].every((n) => n > 1 && n <= 64)).toBe(true);

    const limiter = limiterOn(store, 'exact', 3);
    await resetStats();
    const admitted = new Map<string, number>();
    const ticks = 5;
    for (let t = 0; t < ticks; t++) {
      const allowed = await tick(limiter, ids);
      allowed.forEach((a, i) => {
        if (a) admitted.set(ids[i] as string, (admitted.get(ids[i] as string) ?? 0) + 1);
      });
    }
    // One EVALSHA per master per tick, none through other paths.
    expect(await calls('evalsha')).toEqual(new Map([...serving.keys()].map((name) => [name, ticks])));
    expect([...(await calls('eval')).values()].every((n) => n === 0)).toBe(true);
    // Exact: each identity admitted its limit, charged once per admitted decision.
    for (const id of ids) {
      expect({ id, admitted: admitted.get(id) ?? 0 }).toEqual({ id, admitted: 3 });
      expect({ id, remaining: (await limiter.peek(id)).dimensions.map((d) => d.remaining) }).toEqual({
        id,
        remaining: [0, 1_000 - 3],
      });
    }
    expect(store.inFlight).toBe(0);
  });

  test("a master's connection lost between ticks: its decisions go in calls of their own slots, exact", async () => {
    const store = new RedisStore({ client, batchSize: 64 });
    const warm = limiterOn(store, 'warm-lost', 1_000);
    for (let i = 0; i < 3; i++) await tick(warm, ids);
    const limiter = limiterOn(store, 'lost', 2);
    const errors: unknown[] = [];
    limiter.events.on('storeError', (e) => errors.push(e.error));
    const admitted = new Map<string, number>();
    for (let t = 0; t < 4; t++) {
      // The Cluster client's connection to one master, which the store's pipelines use, is gone
      // (closed between ticks: a call written to a connection that then closes may have run, so it
      // fails rather than being sent again).
      const node = client.nodes('master')[t % 3] as Redis;
      const closed = new Promise((resolve) => node.once('end', resolve));
      node.disconnect();
      await closed;
      const decisions = await Promise.all(ids.map((id) => Promise.resolve(limiter.limit(id))));
      decisions.forEach((d, i) => {
        expect(d.source).toBe('store');
        if (d.allowed) admitted.set(ids[i] as string, (admitted.get(ids[i] as string) ?? 0) + 1);
      });
    }
    expect(errors).toEqual([]);
    for (const id of ids) expect({ id, admitted: admitted.get(id) ?? 0 }).toEqual({ id, admitted: 2 });
    expect(store.inFlight).toBe(0);
  });

  test('hostile keys and pools decided, reset and decided again in shared ticks: exact, no CROSSSLOT', async () => {
    const hostile = ['}evil', '}', '{', '{}', '}{', '{}}', '%7D', '\uD800', ...ids.slice(0, 12)];
    const store = new RedisStore({ client });
    const limiter = createRateLimiter({
      store,
      limits: {
        a: fixedWindow({ limit: 3, windowMs: 3_600_000 }),
        b: tokenBucket({ capacity: 3, refillPerSecond: 0.001 }),
      },
      poolLimits: { team: fixedWindow({ limit: 2, windowMs: 3_600_000 }) },
      prefix: 'hostile-tick',
      denyCache: false,
      timeoutMs: 10_000,
    });
    const errors: unknown[] = [];
    limiter.events.on('storeError', ({ error }) => errors.push(error));
    // Each round one tick: every key on its own, and a member of a pool named after it.
    const round = async (): Promise<{ own: boolean[]; pooled: boolean[] }> => {
      const [own, pooled] = await Promise.all([
        Promise.all(hostile.map(async (key) => (await limiter.limit(key)).allowed)),
        Promise.all(hostile.map(async (key) => (await limiter.limit('member', { pool: key })).allowed)),
      ]);
      return { own, pooled };
    };
    await tick(limiterOn(store, 'warm-hostile', 1_000), ids); // the store's probe
    await resetStats();
    const rounds: { own: boolean[]; pooled: boolean[] }[] = [];
    for (let r = 0; r < 5; r++) rounds.push(await round());
    const evalsha = [...(await calls('evalsha')).values()].reduce((a, b) => a + b, 0);
    // Reset together, in one tick (a reset's keys include the counter of an older version); a
    // member's own usage in a pool stays (2 of 3).
    await Promise.all(hostile.map((key) => Promise.all([limiter.reset(key), limiter.resetPool(key)])));
    const after = await round();
    expect(errors).toEqual([]);
    hostile.forEach((key, k) => {
      expect({ key, own: rounds.filter((r) => r.own[k]).length }).toEqual({ key, own: 3 });
      expect({ key, pooled: rounds.filter((r) => r.pooled[k]).length }).toEqual({ key, pooled: 2 });
    });
    expect(after).toEqual({ own: hostile.map(() => true), pooled: hostile.map(() => true) });
    // Shared calls: far fewer EVALSHAs than the 200 decisions.
    expect(evalsha).toBeLessThanOrEqual(5 * 3 * 2);
  });

  test('batchSize still bounds a call: a master gets one call per batchSize of its operations', async () => {
    const store = new RedisStore({ client, batchSize: 8 });
    const warm = limiterOn(store, 'warm8', 1_000);
    for (let i = 0; i < 3; i++) await tick(warm, ids);
    const limiter = limiterOn(store, 'bounded', 1_000);
    await resetStats();
    expect((await tick(limiter, ids)).every(Boolean)).toBe(true);
    const expected = new Map([...perMaster(ids)].map(([name, n]) => [name, Math.ceil(n / 8)]));
    expect(await calls('evalsha')).toEqual(expected);
  });

  test('a Cluster that refuses the probe gets calls of one slot each, as before Redis 7, exact', async () => {
    // A user who may not run EVAL: the probe's EVAL of the flag line is refused, as a server before
    // 7.0 refuses to compile it. The per-slot scripts are loaded beforehand, so EVALSHA runs them.
    for (const admin of admins.values()) {
      await admin.acl('SETUSER', 'noeval', 'on', '>secret', '~*', '&*', '+@all', '-eval');
      await admin.script('LOAD', limitScript(['fw', 'tb']));
      await admin.script('LOAD', limitScript(['fw', 'tb'], true));
    }
    const restricted = cluster.createClient({ redisOptions: { username: 'noeval', password: 'secret' } });
    await restricted.ping();
    const store = new RedisStore({ client: restricted, batchSize: 64 });
    const warm = limiterOn(store, 'warm-old', 1_000);
    for (let i = 0; i < 3; i++) await tick(warm, ids);
    const limiter = limiterOn(store, 'old', 2);
    await resetStats();
    const admitted = new Map<string, number>();
    for (let t = 0; t < 3; t++) {
      const decisions = await Promise.all(ids.map((id) => Promise.resolve(limiter.limit(id))));
      decisions.forEach((d, i) => {
        expect(d.source).toBe('store');
        if (d.allowed) admitted.set(ids[i] as string, (admitted.get(ids[i] as string) ?? 0) + 1);
      });
    }
    // One EVALSHA per identity per tick (every identity its own slot), none refused.
    expect(await calls('evalsha')).toEqual(new Map([...perMaster(ids)].map(([name, n]) => [name, 3 * n])));
    for (const id of ids) expect({ id, admitted: admitted.get(id) ?? 0 }).toEqual({ id, admitted: 2 });
    restricted.disconnect();
  });
});
