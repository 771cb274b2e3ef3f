import { clientsByReplySettings, ManualClock, startRedis, type RedisServer } from '@portcullis/testkit';
import { isInvalidOptionError } from '@portcullis/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CanaryDecision } from '../src/canary/controller.js';
import { createRedisCanary, type RedisCanary, type RedisCanarySyncError } from '../src/canary/redis-canary.js';
import { createSplit, type Split } from '../src/split/split.js';

let redis: RedisServer;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis.stop();
});

const INTERVAL = 60_000;
const POLL = 1_000;
const START = 1_700_000_000_000;

interface Instance {
  canary: RedisCanary;
  split: Split;
  decisions: CanaryDecision[];
}

/** Three gateway processes' controllers: each its own client, split and events, one Redis, one clock. */
function gateways(name: string, clock: ManualClock, count = 3): Instance[] {
  return Array.from({ length: count }, () => {
    const client = redis.createClient();
    clients.push(client);
    const split = createSplit({ name, variants: [{ name: 'stable', weight: 100 }, { name: 'canary' }] });
    const canary = createRedisCanary({
      redis: client,
      name,
      split,
      clock,
      intervalMs: INTERVAL,
      pollMs: POLL,
      minRequests: 100,
      failureThreshold: 2,
    });
    const decisions: CanaryDecision[] = [];
    canary.events.on('decision', (d) => decisions.push(d));
    return { canary, split, decisions };
  });
}

/** `n` outcomes with durations spread over 20–120 ms and one error every `errorEvery` (0: none). */
function send(canary: RedisCanary, variant: string, n: number, errorEvery: number): void {
  for (let i = 0; i < n; i++) {
    const status = errorEvery > 0 && i % errorEvery === 0 ? 500 : 200;
    canary.record(variant, { status, durationMs: 20 + ((i * 37) % 101) });
  }
}

async function syncAll(all: Instance[]): Promise<void> {
  for (const g of all) await g.canary.sync();
}

/**
 * One interval: every instance records its own traffic, then time moves to the interval's end (the
 * epoch is the clock's start) and on through the settle time in poll steps, every instance syncing
 * at each poll, as their timers would.
 */
async function interval(clock: ManualClock, all: Instance[], traffic: (i: number, g: Instance) => void): Promise<void> {
  all.forEach((g, i) => {
    traffic(i, g);
  });
  const epoch = START;
  const nextEnd = epoch + (Math.floor((clock.now() - epoch) / INTERVAL) + 1) * INTERVAL;
  clock.set(nextEnd);
  for (let t = 0; t <= 2 * POLL; t += POLL) {
    await syncAll(all);
    clock.advance(POLL);
  }
}

describe('a canary shared by three instances through Redis', () => {
  test("merges every instance's figures, decides each step once, and all apply the same share within one poll", async () => {
    const clock = new ManualClock(START);
    const all = gateways('orders-healthy', clock);
    await syncAll(all);
    expect(all.map((g) => g.canary.percent())).toEqual([5, 5, 5]);
    const shares: number[][] = [];
    for (let step = 0; step < 4; step++) {
      // 40 + 40 + 40 canary requests: no instance alone reaches minRequests (100); together they do.
      await interval(clock, all, (i, g) => {
        send(g.canary, 'stable', 300 + 100 * i, 20);
        send(g.canary, 'canary', 40, 20);
      });
      shares.push(all.map((g) => g.canary.percent()));
    }
    expect(shares).toEqual([
      [10, 10, 10],
      [25, 25, 25],
      [50, 50, 50],
      [100, 100, 100],
    ]);
    const decisions = all.flatMap((g) => g.decisions);
    expect(decisions.map((d) => d.action)).toEqual(
      expect.arrayContaining(['promote', 'promote', 'promote', 'complete']),
    );
    expect(decisions).toHaveLength(4); // one decision per step, across the three instances
    expect(decisions[0]!.checks.find((c) => c.name === 'error-rate')?.figures).toMatchObject({
      canaryRequests: 120,
      baselineRequests: 1_200,
    });
    expect(all.map((g) => g.split.weights())).toEqual(Array(3).fill({ stable: 0, canary: 100 }));
  });

  test("a rollback triggered by one instance's failures is applied by all", async () => {
    const clock = new ManualClock(START);
    const all = gateways('orders-bad', clock);
    await syncAll(all);
    for (let step = 0; step < 2; step++) {
      await interval(clock, all, (i, g) => {
        send(g.canary, 'stable', 400, 20); // 5 % errors everywhere
        send(g.canary, 'canary', 100, i === 2 ? 2 : 20); // only the third instance's canary fails (50 %)
      });
    }
    expect(all.map((g) => g.canary.percent())).toEqual([0, 0, 0]);
    expect(all.map((g) => g.split.weights())).toEqual(Array(3).fill({ stable: 100, canary: 0 }));
    const decisions = all.flatMap((g) => g.decisions);
    expect(decisions.map((d) => d.action)).toEqual(['fail', 'rollback']);
    expect(decisions[1]!.checks.find((c) => c.name === 'error-rate')).toMatchObject({
      status: 'fail',
      figures: { canaryErrorRate: (5 + 5 + 50) / 300, baselineErrorRate: 0.05 },
    });
  });

  test('a manual rollback on one instance wins over the schedule on all', async () => {
    const clock = new ManualClock(START);
    const all = gateways('orders-manual', clock);
    await syncAll(all);
    await interval(clock, all, (_, g) => {
      send(g.canary, 'stable', 400, 20);
      send(g.canary, 'canary', 100, 20);
    });
    expect(all.map((g) => g.canary.percent())).toEqual([10, 10, 10]);
    await all[1]!.canary.rollback('operator');
    for (let step = 0; step < 3; step++) {
      await interval(clock, all, (_, g) => {
        send(g.canary, 'stable', 400, 20);
        send(g.canary, 'canary', 100, 20);
      });
    }
    expect(all.map((g) => g.canary.percent())).toEqual([0, 0, 0]);
    expect(all.flatMap((g) => g.decisions).map((d) => `${d.trigger}:${d.action}`)).toEqual([
      'schedule:promote',
      'manual:rollback',
    ]);
  });
});

describe('the client', () => {
  test('one that would never settle a command whose reply was lost is refused (sync rounds wait on it)', () => {
    const split = createSplit({ name: 'refused', variants: [{ name: 'stable', weight: 100 }, { name: 'canary' }] });
    const clients = clientsByReplySettings();
    for (const client of clients.forgetful) {
      let thrown: unknown;
      try {
        createRedisCanary({ redis: client, name: 'refused', split });
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown)).toBe(true);
      expect(thrown).toMatchObject({ option: 'redis' });
    }
    for (const client of clients.settling)
      expect(createRedisCanary({ redis: client, name: 'ok', split }).percent()).toBe(0);
    expect(() =>
      createRedisCanary({ redis: clients.settling[0] as Redis, name: 'ok', split, onSyncError: 'log' as never }),
    ).toThrow(/onSyncError/);
    clients.disconnect();
  });
});

describe('while Redis is down', () => {
  test('rounds fail and are reported, every instance keeps its last share, and rounds resume after a restart', async () => {
    const own = await startRedis({ ignoreRedisUrl: true });
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    const warnings: Error[] = [];
    try {
      // No offline queue: a command sent while the server is down fails at once.
      const client = own.createClient({ enableOfflineQueue: false });
      client.on('error', () => undefined);
      await waitFor(() => client.status === 'ready');
      const clock = new ManualClock(START);
      const split = createSplit({ name: 'down', variants: [{ name: 'stable', weight: 100 }, { name: 'canary' }] });
      const canary = createRedisCanary({ redis: client, name: 'down', split, clock, intervalMs: INTERVAL, pollMs: 20 });
      await canary.sync();
      const share = split.weights();
      expect(canary.percent()).toBeGreaterThan(0);

      await own.kill();
      await waitFor(() => client.status !== 'ready');
      send(canary, 'canary', 50, 2); // recording never needs Redis
      clock.advance(3 * INTERVAL);
      await expect(canary.sync()).rejects.toThrow();
      expect(split.weights()).toEqual(share);
      // The poll timer reports each failed round and carries on: by default as a warning...
      process.on('warning', onWarning);
      canary.start();
      await waitFor(() => warnings.some((w) => (w as { code?: string }).code === 'PORTCULLIS_REDIS_CANARY_DOWN'));
      canary.stop();
      expect(split.weights()).toEqual(share);
      // ...or to onSyncError, which may throw (reported, the timer goes on).
      const told: RedisCanarySyncError[] = [];
      const listening = createRedisCanary({
        redis: client,
        name: 'down',
        split: createSplit({ name: 'down2', variants: [{ name: 'stable', weight: 100 }, { name: 'canary' }] }),
        clock,
        intervalMs: INTERVAL,
        pollMs: 20,
        onSyncError: (event) => {
          told.push(event);
          throw new Error('listener broke');
        },
      });
      listening.start();
      await waitFor(() => told.length >= 2);
      listening.stop();
      expect(told[0]).toMatchObject({ name: 'down' });
      expect(told[0]?.error).toBeInstanceOf(Error);
      expect(
        warnings.filter((w) => (w as { code?: string }).code === 'PORTCULLIS_REDIS_CANARY_ONSYNCERROR').length,
      ).toBeGreaterThanOrEqual(1);

      await own.restart();
      await waitFor(() => client.status === 'ready');
      await canary.sync();
      expect(canary.state()).toBeDefined();
      // What was recorded while Redis was down reached it with the first round that succeeded.
      const reader = own.createClient();
      expect(await reader.hgetall(`{portcullis:canary:down}:m:${String(START)}:0`)).toMatchObject({
        cr: '50',
        ce: '25',
      });
    } finally {
      process.off('warning', onWarning);
      await own.stop();
    }
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}
