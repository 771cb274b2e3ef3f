import { startRedisCluster, type RedisCluster } from '@portcullis/testkit';
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRateLimiter, fixedWindow, RedisStore, tokenBucket, type RateLimiter } from '../src/index.js';
import { tagSlot } from '../src/stores/redis/slot.js';

let cluster: RedisCluster;
let client: Cluster;
let admins: Redis[];

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  client = cluster.createClient();
  await client.ping();
  admins = cluster.nodes.map((node) => new Redis({ host: node.host, port: node.port }));
});

afterAll(async () => {
  for (const admin of admins) admin.disconnect();
  await cluster.stop();
});

/** `host:port` of the master serving `slot`, as the Cluster client sees it. */
const ownerOf = (slot: number): string => client.slots[slot]?.[0] ?? 'none';

/** `count` ids whose tag hashes to `slot`. */
function idsIn(slot: number, count: number, prefix: string): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++)
    if (tagSlot(`${prefix}${String(i)}`) === slot) ids.push(`${prefix}${String(i)}`);
  return ids;
}

/** Redirections the masters answered since the last `CONFIG RESETSTAT`, from `INFO errorstats`. */
async function redirections(): Promise<{ ASK: number; MOVED: number; TRYAGAIN: number }> {
  const counts = { ASK: 0, MOVED: 0, TRYAGAIN: 0 };
  for (const admin of admins) {
    const stats = await admin.info('errorstats');
    for (const name of ['ASK', 'MOVED', 'TRYAGAIN'] as const) {
      counts[name] += Number(new RegExp(`^errorstat_${name}:count=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
    }
  }
  return counts;
}

describe('a slot migration under load (Redis Cluster resharding)', () => {
  test('100 callers stay exact while two slots move: admitted = min(limit, attempts), no decision fails', async () => {
    // Two slots on different masters, each holding six identities that move with it; six more
    // identities elsewhere share the nodes' pipelines with them, so a pipeline holds calls that run
    // next to calls that meet ASK or TRYAGAIN.
    const slotA = tagSlot('hot');
    let slotB = slotA;
    for (let i = 0; ownerOf(slotB) === ownerOf(slotA); i++) slotB = tagSlot(`other${String(i)}`);
    const moving = [...idsIn(slotA, 6, 'a'), ...idsIn(slotB, 6, 'b')];
    const bystanders: string[] = [];
    for (let i = 0; bystanders.length < 6; i++) {
      const slot = tagSlot(`c${String(i)}`);
      if (slot !== slotA && slot !== slotB) bystanders.push(`c${String(i)}`);
    }
    const ids = [...moving, ...bystanders];
    // Two limiters on one store, so one call can hold both; each decision writes two keys of its
    // identity's slot (a window and a bucket), which meet TRYAGAIN when one has moved and the other
    // not. "tight" is exceeded, "loose" never is: its admitted count must equal its attempts.
    const store = new RedisStore({ client });
    const bucket = tokenBucket({ capacity: 100_000, refillPerSecond: 0.001 });
    const make = (prefix: string, limit: number): RateLimiter =>
      createRateLimiter({
        store,
        // A window of 1,000 days: it cannot roll over while the test runs.
        limits: { window: fixedWindow({ limit, windowMs: 1_000 * 86_400_000 }), bucket },
        prefix,
        denyCache: false,
        // ioredis waits 100 ms before it retries a TRYAGAIN, and the machine is shared.
        timeoutMs: 10_000,
      });
    const limiters = [
      { limiter: make('tight', 40), limit: 40 },
      { limiter: make('loose', 1_000_000), limit: 1_000_000 },
    ];
    const errors: unknown[] = [];
    for (const { limiter } of limiters) limiter.events.on('storeError', (e) => errors.push(e.error));
    const attempts = new Map<string, number>();
    const admitted = new Map<string, number>();
    const sources = new Set<string>();
    const decide = async (l: number, id: string): Promise<void> => {
      const name = `${String(l)}:${id}`;
      attempts.set(name, (attempts.get(name) ?? 0) + 1);
      const d = await (limiters[l] as (typeof limiters)[number]).limiter.limit(id);
      sources.add(d.source);
      if (d.allowed) admitted.set(name, (admitted.get(name) ?? 0) + 1);
    };
    const everyPair = (times: number): Promise<void>[] =>
      ids.flatMap((id) => [0, 1].flatMap((l) => Array.from({ length: times }, () => decide(l, id))));

    // Before: every key exists on its slot's first master.
    await Promise.all(everyPair(10));
    for (const admin of admins) await admin.config('RESETSTAT');
    const before = [ownerOf(slotA), ownerOf(slotB)];
    const keysIn = async (slot: number): Promise<number> => {
      let n = 0;
      for (const admin of admins) n += await admin.cluster('COUNTKEYSINSLOT', slot);
      return n;
    };
    const keysBefore = [await keysIn(slotA), await keysIn(slotB)];

    // During: 100 callers over every identity until both slots have moved, a key at a time.
    let moved = false;
    let duringMigration = 0;
    const callers = Array.from({ length: 100 }, async (_, c) => {
      for (let i = c; !moved; i += 7) {
        await decide(i % 2, ids[i % ids.length] as string);
        duringMigration++;
      }
    });
    const migrations = await Promise.all(
      [slotA, slotB].map((slot) => cluster.migrateSlot(slot, { keysPerStep: 1, pauseMs: 10 })),
    );
    moved = true;
    await Promise.all(callers);
    // After: the old slot map meets MOVED; every "tight" key passes its limit.
    await Promise.all(everyPair(50));

    const met = await redirections();
    expect(errors).toEqual([]);
    expect([...sources]).toEqual(['store']);
    expect(store.inFlight).toBe(0);
    // The test is not vacuous: keys moved while decisions ran, and redirections were answered.
    expect(migrations.map((m) => m.keysMoved)).toEqual(keysBefore);
    expect(Math.min(...keysBefore)).toBeGreaterThan(6);
    expect(duringMigration).toBeGreaterThan(100);
    expect(met.ASK).toBeGreaterThan(0);
    expect(met.MOVED).toBeGreaterThan(0);
    expect([ownerOf(slotA), ownerOf(slotB)]).not.toEqual(before);
    for (const id of ids) {
      for (const [l, { limiter, limit }] of limiters.entries()) {
        const name = `${String(l)}:${id}`;
        const tried = attempts.get(name) ?? 0;
        const expected = Math.min(limit, tried);
        // Exact: no call charged twice (a re-sent call that had run), none lost.
        expect({ name, admitted: admitted.get(name) ?? 0 }).toEqual({ name, admitted: expected });
        expect({ name, remaining: (await limiter.peek(id)).dimensions.map((d) => d.remaining) }).toEqual({
          name,
          remaining: [limit - expected, 100_000 - expected],
        });
      }
    }
  });
});
