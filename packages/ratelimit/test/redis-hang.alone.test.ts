import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startRedis, type RedisServer } from '@portcullis/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  isStoreSaturatedError,
  isStoreTimeoutError,
  RedisStore,
  type Decision,
  type DecisionSource,
} from '../src/index.js';

// A full collection before each heap reading, so the readings compare what is live, not garbage.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  // Always a server of our own: these tests freeze it.
  redis = await startRedis({ ignoreRedisUrl: true });
  client = redis.createClient();
  await client.ping();
});

afterAll(async () => {
  await redis.thaw();
  await redis.stop();
});

/** Commands ioredis has written and waits answers for (its `commandQueue`). */
function commandsAwaitingReply(): number {
  return (client as unknown as { commandQueue: { length: number } }).commandQueue.length;
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a hung Redis (SIGSTOP): backpressure', () => {
  test.each([
    [{ maxInFlight: 0 }, 'maxInFlight'],
    [{ maxInFlight: 2.5 }, 'maxInFlight'],
    [{ maxInFlight: Infinity }, 'maxInFlight'],
    [{ maxInFlight: Number.NaN }, 'maxInFlight'],
    [{ maxInFlight: 1_000_001 }, 'maxInFlight'],
    // A batch bounds how long one script call holds Redis: a bound no larger than that.
    [{ batchSize: 1_025 }, 'batchSize'],
    [{ time: {} }, 'time'],
  ])('store options with no sensible meaning are typed errors naming the option (%o)', (options, option) => {
    expect(() => new RedisStore({ client, ...(options as object) })).toThrow(
      expect.objectContaining({ code: 'ERR_PORTCULLIS_INVALID_OPTION', option }),
    );
  });

  test('past maxInFlight, operations fail at once without being sent, and sending resumes when Redis answers', async () => {
    const store = new RedisStore({ client, maxInFlight: 10 });
    const limiter = createRateLimiter({
      store,
      limits: { a: fixedWindow({ limit: 1_000, windowMs: 3_600_000 }) },
      prefix: `${redis.prefix}cap`,
      // Long enough that loading the script on a loaded machine is not a timeout.
      timeoutMs: 500,
    });
    expect((await limiter.limit('k')).source).toBe('store');
    const errors: unknown[] = [];
    limiter.events.on('storeError', (e) => errors.push(e.error));
    await redis.freeze();
    try {
      const during = await Promise.all(Array.from({ length: 50 }, () => Promise.resolve(limiter.limit('k'))));
      expect(during.every((d) => d.source === 'fail-open')).toBe(true);
      // Ten were sent (and wait on the frozen server); forty were refused before sending.
      expect(store.inFlight).toBe(10);
      expect(errors.filter(isStoreSaturatedError)).toHaveLength(40);
      const waiting = commandsAwaitingReply();
      // And it stays so: nothing more is sent while nothing comes back.
      await Promise.all(Array.from({ length: 50 }, () => Promise.resolve(limiter.limit('k'))));
      expect(store.inFlight).toBe(10);
      expect(errors.filter(isStoreSaturatedError)).toHaveLength(90);
      expect(commandsAwaitingReply()).toBe(waiting);
    } finally {
      await redis.thaw();
    }
    await until(() => Promise.resolve(store.inFlight === 0), 'the answers of the sent operations');
    // The ten sent ones were applied by Redis (late, as the guide says), the refused ones were not.
    expect(await limiter.limit('k')).toMatchObject({ source: 'store', remaining: 1_000 - 12 });
  });

  test('a reset or a refund while Redis hangs is bounded by the timeout, like a decision', async () => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: { a: fixedWindow({ limit: 10, windowMs: 60_000 }) },
      prefix: `${redis.prefix}reset`,
      timeoutMs: 500,
    });
    const charged = await limiter.limit('k');
    expect(charged.source).toBe('store');
    await redis.freeze();
    try {
      const [reset, refund] = await Promise.allSettled([
        Promise.resolve(limiter.reset('k')),
        Promise.resolve(limiter.refund(charged)),
      ]);
      expect(reset.status === 'rejected' && isStoreTimeoutError(reset.reason)).toBe(true);
      expect(refund.status === 'rejected' && isStoreTimeoutError(refund.reason)).toBe(true);
    } finally {
      await redis.thaw();
    }
  });

  test('for 30 s at a high decision rate, with the defaults: commands waiting and heap stay flat, decisions keep coming', async () => {
    const store = new RedisStore({ client });
    const limiter = createRateLimiter({
      store,
      limits: { a: fixedWindow({ limit: 1_000_000, windowMs: 3_600_000 }) },
      prefix: `${redis.prefix}hang`,
    });
    // The script is loaded on first use, which a loaded machine may not do within the 50 ms default.
    await until(async () => (await limiter.limit('k0')).source === 'store', 'a decision from the store');
    const sources = new Map<DecisionSource, number>();
    const count = (d: Decision): void => {
      sources.set(d.source, (sources.get(d.source) ?? 0) + 1);
    };
    // 100 decisions every 10 ms (~10,000/s nominal), without waiting for their answers, as a busy
    // gateway would issue them.
    const load = setInterval(() => {
      for (let i = 0; i < 100; i++) void Promise.resolve(limiter.limit(`k${String(i)}`)).then(count);
    }, 10);
    const samples: { at: number; decisions: number; heap: number; commands: number; inFlight: number }[] = [];
    const sample = (at: number): void => {
      collectGarbage();
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      samples.push({
        at,
        decisions: [...sources.values()].reduce((a, b) => a + b, 0),
        heap: heapUsed + arrayBuffers,
        commands: commandsAwaitingReply(),
        inFlight: store.inFlight,
      });
    };
    await redis.freeze();
    const frozenAt = performance.now();
    try {
      // The first seconds fill the bound (10,000 operations); from then on nothing may grow.
      // Readings every 5 s of the 30 s (on the wall clock, as the hang is real).
      for (let at = 5; at <= 30; at += 5) {
        await sleep(frozenAt + at * 1_000 - performance.now());
        sample(at);
      }
    } finally {
      clearInterval(load);
      await redis.thaw();
    }
    const first = samples[0] as (typeof samples)[number];
    const last = samples[samples.length - 1] as (typeof samples)[number];
    // A high rate really was offered throughout (a loaded machine runs fewer ticks: a loose floor).
    expect(last.decisions - first.decisions).toBeGreaterThan(20_000);
    for (const s of samples) {
      expect(s.inFlight).toBe(10_000);
      expect(s.commands).toBe(first.commands);
    }
    const heaps = samples.map((s) => s.heap);
    // Flat: what a decision leaves behind while Redis hangs is collected (unbounded, the same
    // load grows the heap by hundreds of MB over these 26 s).
    expect(Math.max(...heaps) - Math.min(...heaps)).toBeLessThan(8 * 1024 * 1024);
    expect(sources.get('fail-open') ?? 0).toBeGreaterThan(20_000);

    // Redis answers what was sent, and the limiter decides by the store again.
    await until(() => Promise.resolve(store.inFlight === 0), 'the answers of the sent operations');
    expect(commandsAwaitingReply()).toBe(0);
    await until(async () => (await limiter.limit('k0')).source === 'store', 'decisions from the store again');
  }, 90_000);
});
