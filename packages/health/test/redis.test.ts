import {
  clientsByReplySettings,
  startRedis,
  startRedisCluster,
  type RedisCluster,
  type RedisServer,
} from '@portcullis/testkit';
import { isInvalidOptionError } from '@portcullis/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHealth, redisCheck, type Health, type HealthReport } from '../src/index.js';

// Against real redis-servers from the testkit: killed, the check fails (at once, without a PING
// queued behind ioredis' reconnects); restarted, it passes again.

async function until(what: string, read: () => Promise<HealthReport>, want: string): Promise<HealthReport> {
  let last: HealthReport | undefined;
  for (let i = 0; i < 200; i++) {
    last = await read();
    if (last.status === want) return last;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${what}: still ${String(last?.status)} (${JSON.stringify(last?.checks[0]?.outcome)})`);
}

describe('the Redis check on a single server', () => {
  let redis: RedisServer;
  let client: Redis;
  let health: Health;

  beforeAll(async () => {
    // Our own server: this test kills it.
    redis = await startRedis({ ignoreRedisUrl: true });
    client = redis.createClient();
    client.on('error', () => undefined); // reconnect errors are expected here
    await client.ping();
    health = createHealth({ checks: [redisCheck({ client, ttlMs: 0, timeoutMs: 500 })] });
  });
  afterAll(async () => {
    health.dispose();
    await redis.stop();
  });

  test('pass with the PING latency; fail when the server is killed; pass after it restarts', async () => {
    const up = await health.run('readiness');
    expect(up.status).toBe('pass');
    expect(up.checks[0]).toMatchObject({ name: 'redis', componentType: 'datastore' });
    expect(up.checks[0]?.outcome).toMatchObject({ observedUnit: 'ms' });
    expect(typeof up.checks[0]?.outcome.observedValue).toBe('number');

    await redis.kill();
    const down = await until('after kill', () => health.run('readiness'), 'fail');
    expect(down.checks[0]?.reason).not.toBe('deadline');

    await redis.restart();
    await until('after restart', () => health.run('readiness'), 'pass');
  });
});

describe('the Redis check on a cluster', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  test('every master is pinged; one killed fails the check, naming it only in the output; restarted, it passes', async () => {
    const client = cluster.createClient();
    client.on('error', () => undefined);
    await client.set('k', 'v');
    const health = createHealth({ checks: [redisCheck({ client, ttlMs: 0, timeoutMs: 500, name: 'redis:cluster' })] });
    expect((await health.run()).status).toBe('pass');
    await cluster.killNode(1);
    const down = await until('after killing a master', () => health.run(), 'fail');
    expect(down.checks[0]?.outcome.output).toMatch(/1 of 3 masters failed|not connected/);
    await cluster.restartNode(1);
    await until('after restarting the master', () => health.run(), 'pass');
    health.dispose();
    client.disconnect();
  });
});

describe('the Redis check refuses', () => {
  test('a client that would never settle a PING whose reply a dropped connection lost', () => {
    const clients = clientsByReplySettings();
    for (const client of clients.forgetful) {
      let thrown: unknown;
      try {
        redisCheck({ client });
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown)).toBe(true);
      expect(thrown).toMatchObject({ option: 'client' });
      expect(String(thrown)).not.toMatch(/hunter2/);
    }
    for (const client of clients.settling) expect(redisCheck({ client }).name).toBe('redis');
    clients.disconnect();
  });
});
