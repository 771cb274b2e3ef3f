import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { freePort, isTestkitError, startRedis } from '../src/index.js';
import type { RedisServer } from '../src/index.js';
import { detachReaper, killAllSync, liveProcessCount, reaperPid } from '../src/process-registry.js';
import { isAddressInUse, spawnRedisProcess } from '../src/redis-process.js';
import { probePort, processExists, rejectionOf, withEnv } from './connectivity.js';

const ignore = (): void => undefined;
const spawned = { ignoreRedisUrl: true } as const;

describe('startRedis: a spawned server', () => {
  test('answers SET/GET through an ioredis client', async () => {
    const redis = await startRedis(spawned);
    try {
      expect(redis.external).toBe(false);
      expect(redis.host).toBe('127.0.0.1');
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(redis.prefix).toMatch(/^t:[0-9a-f]{12}:$/);
      expect(redis.pid).toBeTypeOf('number');
      const client = redis.createClient();
      await client.set(`${redis.prefix}greeting`, 'hello');
      expect(await client.get(`${redis.prefix}greeting`)).toBe('hello');
    } finally {
      await redis.stop();
    }
  });

  test('kill() makes commands fail; restart() serves the same port again and clients reconnect', async () => {
    const redis = await startRedis(spawned);
    try {
      const { port } = redis;
      const firstPid = redis.pid;
      const client = redis.createClient({ maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      client.on('error', ignore);
      await client.set(`${redis.prefix}k`, 'before');

      await redis.kill();
      expect(redis.pid).toBeUndefined();
      await expect(client.get(`${redis.prefix}k`)).rejects.toThrow();
      expect(await probePort(port)).toBe('refused');

      await redis.restart();
      expect(redis.port).toBe(port);
      expect(redis.pid).toBeTypeOf('number');
      expect(redis.pid).not.toBe(firstPid);
      // The same client object reconnects by itself; the data is gone because persistence is off.
      expect(await client.get(`${redis.prefix}k`)).toBeNull();
      await client.set(`${redis.prefix}k`, 'after');
      expect(await redis.createClient().get(`${redis.prefix}k`)).toBe('after');
    } finally {
      await redis.stop();
    }
  });

  test('freeze() hangs the server with its connections open; thaw() lets it answer what waited', async () => {
    const redis = await startRedis(spawned);
    try {
      const client = redis.createClient();
      await client.ping();
      await redis.freeze();
      const late = client.incr(`${redis.prefix}n`);
      const first = await Promise.race([late, new Promise((resolve) => setTimeout(resolve, 300, 'no answer'))]);
      expect(first).toBe('no answer');
      expect(client.status).toBe('ready'); // hung, not disconnected
      await redis.thaw();
      expect(await late).toBe(1);
    } finally {
      await redis.stop();
    }
  });

  test('stop() kills a frozen server', async () => {
    const redis = await startRedis(spawned);
    const { port, pid } = redis;
    await redis.freeze();
    await redis.stop();
    expect(processExists(pid!)).toBe(false);
    expect(await probePort(port)).toBe('refused');
  });

  test('stop() closes clients, leaves nothing listening and can be called again', async () => {
    const before = liveProcessCount();
    const redis = await startRedis(spawned);
    const { port, pid } = redis;
    const client = redis.createClient();
    await client.ping();
    expect(liveProcessCount()).toBe(before + 1);

    await redis.stop();
    await redis.stop();

    expect(await probePort(port)).toBe('refused');
    expect(processExists(pid!)).toBe(false);
    expect(liveProcessCount()).toBe(before);
    expect(client.status).toBe('end');
    const error = await rejectionOf(Promise.resolve().then(() => redis.createClient()));
    expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_STOPPED');
  });

  test('Symbol.asyncDispose stops the server', async () => {
    const redis = await startRedis(spawned);
    await redis[Symbol.asyncDispose]();
    expect(await probePort(redis.port)).toBe('refused');
  });

  test('flushAll() empties a spawned server', async () => {
    const redis = await startRedis(spawned);
    try {
      const client = redis.createClient();
      await client.mset('a', '1', `${redis.prefix}b`, '2');
      await redis.flushAll();
      expect(await client.dbsize()).toBe(0);
    } finally {
      await redis.stop();
    }
  });

  test('the exit hook kills every tracked server synchronously', async () => {
    const redis = await startRedis(spawned);
    try {
      expect(process.listeners('exit')).toContain(killAllSync);
      killAllSync();
      await vi.waitFor(() => {
        expect(redis.pid).toBeUndefined();
      });
      expect(await probePort(redis.port)).toBe('refused');
    } finally {
      await redis.stop();
    }
  });

  test('the reaper kills every tracked server once its pipe to this process closes (SIGTERM/SIGKILL case)', async () => {
    const redis = await startRedis(spawned);
    try {
      const firstReaper = reaperPid();
      expect(firstReaper).toBeTypeOf('number');
      detachReaper();
      await vi.waitFor(() => {
        expect(redis.pid).toBeUndefined();
      });
      expect(await probePort(redis.port)).toBe('refused');

      // The next server registers with a fresh reaper.
      const next = await startRedis(spawned);
      expect(reaperPid()).not.toBe(firstReaper);
      await next.stop();
    } finally {
      await redis.stop();
    }
  });
});

describe('startRedis: failures', () => {
  test('without redis-server on PATH it throws a TestkitError with an install hint', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'portcullis-empty-path-'));
    try {
      const error = await withEnv('PATH', emptyDir, async () => rejectionOf(startRedis(spawned)));
      expect(isTestkitError(error)).toBe(true);
      expect((error as { code: string }).code).toBe('ERR_TESTKIT_BINARY_NOT_FOUND');
      const { message } = error as Error;
      expect(message).toContain('redis-server not found on PATH');
      expect(message).toContain('apt-get install redis-server');
      expect(message).toContain('brew install redis');
      expect(message).toContain('REDIS_URL=redis://host:port');
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  test('an explicit redisServerPath that is not executable is reported the same way', async () => {
    const error = await rejectionOf(startRedis({ ...spawned, redisServerPath: '/nonexistent/redis-server' }));
    expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_BINARY_NOT_FOUND');
    expect((error as Error).message).toContain('/nonexistent/redis-server');
  });

  test('a server that exits during start-up is reported with its output and leaves no process', async () => {
    const before = liveProcessCount();
    const error = await rejectionOf(startRedis({ ...spawned, args: ['--no-such-directive', 'x'] }));
    expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_START_FAILED');
    expect((error as Error).message).toMatch(/Bad directive/i);
    expect(liveProcessCount()).toBe(before);
  });

  test('a port taken by someone else is recognised as "address in use" (the retry trigger)', async () => {
    const port = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-squat-'));
    try {
      const binary = (await import('../src/find-binary.js')).findRedisBinary('redis-server', undefined, {
        mentionRedisUrl: false,
      });
      const error = await rejectionOf(spawnRedisProcess({ binary, port, dir, args: [], startTimeoutMs: 10_000 }));
      expect(isAddressInUse(error)).toBe(true);
    } finally {
      squatter.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an invalid startTimeoutMs is rejected before anything is spawned', async () => {
    const error = await rejectionOf(startRedis({ ...spawned, startTimeoutMs: -1 }));
    expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_INVALID_OPTION');
  });
});

describe('startRedis with REDIS_URL set', () => {
  let shared: RedisServer;
  beforeAll(async () => {
    shared = await startRedis(spawned);
  });
  afterAll(async () => {
    await shared.stop();
  });

  test('uses that server, refuses fault injection and flushes only its own prefix', async () => {
    const [a, b] = await withEnv('REDIS_URL', shared.url, async () => Promise.all([startRedis(), startRedis()]));
    try {
      expect(a.external).toBe(true);
      expect(a.port).toBe(shared.port);
      expect(a.url).toBe(shared.url);
      expect(a.pid).toBeUndefined();
      expect(a.prefix).not.toBe(b.prefix);

      for (const fault of [a.kill(), a.restart(), a.freeze(), a.thaw()]) {
        const error = await rejectionOf(fault);
        expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_EXTERNAL_SERVER');
        expect((error as Error).message).toMatch(/testkit-started server: unset REDIS_URL/);
      }

      const client = a.createClient();
      // Enough keys that SCAN needs several rounds.
      const pipeline = client.pipeline();
      for (let i = 0; i < 2_500; i++) pipeline.set(`${a.prefix}${i}`, 'x');
      await pipeline.exec();
      await client.mset(`${b.prefix}1`, 'x', `${b.prefix}2`, 'x', 'unprefixed', 'x');

      await a.flushAll();

      expect(await client.keys(`${a.prefix}*`)).toEqual([]);
      expect((await client.keys(`${b.prefix}*`)).sort()).toEqual([`${b.prefix}1`, `${b.prefix}2`]);
      expect(await client.get('unprefixed')).toBe('x');

      await a.stop();
      expect(await shared.createClient().ping()).toBe('PONG');
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test('an empty REDIS_URL is treated as unset', async () => {
    const redis = await withEnv('REDIS_URL', '', async () => startRedis());
    try {
      expect(redis.external).toBe(false);
    } finally {
      await redis.stop();
    }
  });
});
