import { startRedis, type RedisServer } from '@portcullis/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** The test file's redis-server (see {@link useRedisServer}); read it inside tests and hooks. */
export let redis: RedisServer;
/** A client of {@link redis}, connected before the file's tests run. */
export let client: Redis;

/**
 * Gives the calling test file its own redis-server (or the `REDIS_URL` server, under a prefix of its
 * own), started before its tests with a connected client, and stopped after them. Call it once, at
 * the top level of the file; `redis` and `client` are live bindings.
 */
export function useRedisServer(): void {
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.createClient();
    await client.ping();
  });
  afterAll(async () => {
    await redis.stop();
  });
}
