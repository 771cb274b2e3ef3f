import { startRedis, type RedisServer } from '@portcullis/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createRateLimiter,
  fixedWindow,
  isStoreTimeoutError,
  isStoreUnavailableError,
  RedisStore,
  type Decision,
} from '../src/index.js';

let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  // Always a server of our own: these tests kill it.
  redis = await startRedis({ ignoreRedisUrl: true });
  // ioredis defaults, as a user would have them: an offline queue and 20 retries per command.
  client = redis.createClient();
  client.on('error', () => undefined); // connection errors are expected here
  await client.ping();
});

afterAll(async () => {
  await redis.stop();
});

function offlineQueueLength(): number {
  return (client as unknown as { offlineQueue: { length: number } }).offlineQueue.length;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a Redis outage', () => {
  test.each(['open', 'closed'] as const)(
    'decisions keep coming (fail %s) while Redis is down, and recover after restart',
    async (failMode) => {
      const limiter = createRateLimiter({
        store: new RedisStore({ client }),
        limits: { a: fixedWindow({ limit: 1_000, windowMs: 3_600_000 }) },
        prefix: `${redis.prefix}${failMode}`,
        failMode,
        timeoutMs: 50,
      });
      const errors: unknown[] = [];
      limiter.events.on('storeError', (e) => errors.push(e.error));
      expect((await limiter.limit('k')).source).toBe('store');

      await redis.kill();
      // Commands already on the wire when the server died are ioredis's to resend; what matters is
      // that, once the outage is known, nothing more is queued behind it.
      await until(() => Promise.resolve(client.status !== 'ready'), 'ioredis to notice the outage');
      const queuedAtFailure = offlineQueueLength();
      // Every call settles, none throws, none waits on the dead connection.
      const during: Decision[] = await Promise.all(
        Array.from({ length: 1_000 }, () => Promise.resolve(limiter.limit('k'))),
      );
      expect(during.every((d) => d.source === `fail-${failMode}` && d.allowed === (failMode === 'open'))).toBe(true);
      expect(errors.length).toBe(1_000);
      expect(errors.every((e) => isStoreUnavailableError(e) || isStoreTimeoutError(e) || e instanceof Error)).toBe(
        true,
      );
      // Nothing piled up in ioredis's offline queue while it was down.
      expect(offlineQueueLength()).toBe(queuedAtFailure);

      await redis.restart();
      await until(async () => (await limiter.limit('k')).source === 'store', 'decisions from the store again');
      const after = await limiter.limit('k');
      expect(after).toMatchObject({ source: 'store', allowed: true });
    },
  );

  test('a stalled server (CLIENT PAUSE) is bounded by the timeout', async () => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: { a: fixedWindow({ limit: 10, windowMs: 60_000 }) },
      prefix: `${redis.prefix}pause`,
      timeoutMs: 30,
    });
    await until(() => Promise.resolve(client.status === 'ready'), 'the client to be ready');
    const admin = redis.createClient();
    await admin.client('PAUSE', 400, 'ALL');
    const errors: unknown[] = [];
    limiter.events.on('storeError', (e) => errors.push(e.error));
    const d = await limiter.limit('k');
    expect(d.source).toBe('fail-open');
    expect(isStoreTimeoutError(errors[0])).toBe(true);
    await admin.client('UNPAUSE');
    await admin.quit();
  });
});
