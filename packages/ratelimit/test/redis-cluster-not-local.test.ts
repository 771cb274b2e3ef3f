import type { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { admins, client, cluster, useRedisCluster } from './redis-cluster-fixture.js';
import {
  createRateLimiter,
  fixedWindow,
  gcra,
  RedisStore,
  tokenBucket,
  type Algorithm,
  type RateLimiter,
} from '../src/index.js';
import { tagSlot } from '../src/stores/redis/slot.js';

useRedisCluster();

const ownerOf = (slot: number): string => client.slots[slot]?.[0] ?? 'none';

/** Redirections every master answered since the last `CONFIG RESETSTAT` (`INFO errorstats`). */
async function redirections(): Promise<number> {
  let n = 0;
  for (const admin of admins.values()) {
    const stats = await admin.info('errorstats');
    for (const name of ['ASK', 'MOVED', 'TRYAGAIN'])
      n += Number(new RegExp(`^errorstat_${name}:count=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
  }
  return n;
}

const CAPACITY = 1_000;
const bucket = (): Algorithm => tokenBucket({ capacity: CAPACITY, refillPerSecond: 0.001 });
// A window of 1,000 days: it cannot roll over while the test runs.
const window = (): Algorithm => fixedWindow({ limit: CAPACITY, windowMs: 1_000 * 86_400_000 });
const cell = (): Algorithm => gcra({ limit: CAPACITY, periodMs: 1_000 * 86_400_000 });

/**
 * Policy shapes by the first command each decision of a cross-slot call runs on its keys: a read
 * (the bucket's, the cell's GET), a lone window's INCRBY, or an explicit check of windows' counters
 * written before anything else reads them. `move`: the dimension whose key has left the master.
 */
const cases: { name: string; limits: Record<string, Algorithm>; move: string }[] = [
  { name: 'one bucket', limits: { a: bucket() }, move: 'a' },
  { name: 'one window', limits: { a: window() }, move: 'a' },
  { name: 'a bucket, then a cell whose key moved', limits: { a: bucket(), b: cell() }, move: 'b' },
  { name: 'a window, then a bucket whose key moved', limits: { a: window(), b: bucket() }, move: 'b' },
  { name: 'a bucket, then a window whose key moved', limits: { a: bucket(), b: window() }, move: 'b' },
];

describe('a cross-slot call meets a decision whose keys its master does not (all) hold', () => {
  const used = new Set<number>();

  test.each(cases)('$name: nothing of it is written there, it is sent again, exact', async ({ name, limits, move }) => {
    const prefix = `nl${String(cases.findIndex((c) => c.name === name))}`;
    // The mover: an identity alone in its slot; the stayers: identities of other slots of its
    // master, so that the store sends all of them in one cross-slot call to that master.
    let mover = '';
    for (let i = 0; mover === '' || used.has(tagSlot(mover)); i++) mover = `${prefix}-m${String(i)}`;
    const slot = tagSlot(mover);
    used.add(slot);
    const source = ownerOf(slot);
    const stayers: string[] = [];
    for (let i = 0; stayers.length < 4; i++) {
      const id = `${prefix}-s${String(i)}`;
      const s = tagSlot(id);
      if (s !== slot && ownerOf(s) === source && !used.has(s)) stayers.push(id);
    }
    const admin = admins.get(source) as Redis;
    const to = cluster.nodes.findIndex((n) => `${n.host}:${String(n.port)}` !== source);
    const target = cluster.nodes[to] as { host: string; port: number };

    const store = new RedisStore({ client, batchSize: 64 });
    const limiter: RateLimiter = createRateLimiter({
      store,
      limits,
      prefix,
      denyCache: false,
      timeoutMs: 10_000, // a loaded machine must not turn these into fail-opens
    });
    const errors: unknown[] = [];
    limiter.events.on('storeError', (e) => errors.push(e.error));
    const ids = [mover, ...stayers];
    // Three ticks: the store's probe answered, the script loaded, every key on its master.
    for (let t = 0; t < 3; t++) await Promise.all(ids.map((id) => Promise.resolve(limiter.limit(id))));

    let moverDecision: ReturnType<RateLimiter['limit']> | undefined;
    let redirected = 0;
    const migration = await cluster.migrateSlot(slot, {
      to,
      onMigrating: async () => {
        // The slot is MIGRATING: one of the mover's keys goes now; a command on it meets ASK here.
        const keys = await admin.cluster('GETKEYSINSLOT', slot, 10);
        const moved = keys.filter((k) => k.includes(`}:${move}:`));
        const kept = keys.filter((k) => !moved.includes(k));
        expect(moved).toHaveLength(1);
        expect(kept).toHaveLength(Object.keys(limits).length - 1);
        await admin.migrate(target.host, target.port, '', 0, 5_000, 'KEYS', ...moved);
        const before = await Promise.all(kept.map((k) => admin.getBuffer(k)));
        for (const each of admins.values()) await each.config('RESETSTAT');

        // One tick: the mover and the stayers together.
        moverDecision = limiter.limit(mover);
        const settled = Promise.all(stayers.map((id) => Promise.resolve(limiter.limit(id))));
        for (const d of await settled)
          expect({ allowed: d.allowed, source: d.source }).toEqual({ allowed: true, source: 'store' });
        // The call has been answered: the mover's keys on this master are as they were.
        expect(await Promise.all(kept.map((k) => admin.getBuffer(k)))).toEqual(before);
        expect(await admin.cluster('COUNTKEYSINSLOT', slot)).toBe(kept.length);
        redirected = await redirections();
        // Returning lets the slot's move finish: a decision met TRYAGAIN (keys on both sides) until then.
      },
    });
    expect(migration.keysMoved).toBe(Object.keys(limits).length - 1);
    const decision = await (moverDecision as ReturnType<RateLimiter['limit']>);

    expect(errors).toEqual([]);
    expect({ allowed: decision.allowed, source: decision.source }).toEqual({ allowed: true, source: 'store' });
    // Sent again through the Cluster client, which met a redirection on the way.
    expect(redirected).toBeGreaterThan(0);
    // Exact: every identity charged once per decision (three ticks, then this one), the mover
    // charged on the master it moved to, once.
    for (const id of ids) {
      expect({ id, remaining: (await limiter.peek(id)).dimensions.map((d) => d.remaining) }).toEqual({
        id,
        remaining: Object.keys(limits).map(() => CAPACITY - 4),
      });
    }
    expect(store.inFlight).toBe(0);
  });
});
