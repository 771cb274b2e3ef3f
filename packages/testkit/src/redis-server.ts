import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { TestkitError } from './errors.js';
import { findRedisBinary } from './find-binary.js';
import { freePort } from './free-port.js';
import { removeScratchDir, trackScratchDir } from './process-registry.js';
import { withProbe } from './redis-probe.js';
import { isAddressInUse, spawnRedisProcess } from './redis-process.js';
import type { RedisProcess } from './redis-process.js';

/**
 * Options for {@link startRedis}.
 *
 * @example
 * ```ts
 * const options: StartRedisOptions = { ignoreRedisUrl: true, args: ['--maxmemory', '10mb'] };
 * ```
 */
export interface StartRedisOptions {
  /** Path of the `redis-server` executable. Default: looked up on `PATH` when `startRedis` runs. */
  redisServerPath?: string;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. Default is none. */
  args?: readonly string[];
  /**
   * Spawn a server even when `REDIS_URL` is set, for tests that need {@link RedisServer.kill} or
   * {@link RedisServer.restart}. Default is false.
   */
  ignoreRedisUrl?: boolean;
  /** How long to wait for the server to answer PING, in ms. Default is 10000. */
  startTimeoutMs?: number;
}

/**
 * A Redis server for a test: spawned by the testkit, or the one `REDIS_URL` points at.
 *
 * @example
 * ```ts
 * await using redis = await startRedis({ ignoreRedisUrl: true });
 * await redis.kill(); // clients now fail
 * await redis.restart(); // same port, clients reconnect
 * ```
 */
export interface RedisServer extends AsyncDisposable {
  /** Host to connect to (`127.0.0.1` for spawned servers). */
  readonly host: string;
  /** Port to connect to. */
  readonly port: number;
  /** `redis://host:port` (or `REDIS_URL` as given, credentials and db included). */
  readonly url: string;
  /**
   * A key prefix unique to this handle, e.g. `t:1a2b3c4d5e6f:`. Tests should put it in front of
   * every key so they can share a `REDIS_URL` server; {@link RedisServer.flushAll} relies on it
   * there. Clients do not apply it for you (it would also rewrite keys inside Lua scripts' view).
   */
  readonly prefix: string;
  /** True when this handle uses `REDIS_URL` instead of a server the testkit spawned. */
  readonly external: boolean;
  /** The server's process id while it runs; undefined for `REDIS_URL` servers or after kill(). */
  readonly pid: number | undefined;
  /**
   * A new ioredis client for this server; closed by {@link RedisServer.stop}. With ioredis's
   * defaults it reconnects after {@link RedisServer.restart}; attach an `error` listener in fault
   * tests, or ioredis logs every failed reconnect.
   */
  createClient(options?: RedisOptions): Redis;
  /** Spawned server: FLUSHALL. `REDIS_URL` server: deletes only keys that start with `prefix`. */
  flushAll(): Promise<void>;
  /** SIGKILLs the server (clients see connection errors). Throws for `REDIS_URL` servers. */
  kill(): Promise<void>;
  /**
   * Freezes the server with `SIGSTOP`: it keeps its connections open but answers nothing (a hung
   * server, unlike {@link RedisServer.kill}'s refused connections) until {@link RedisServer.thaw}.
   * Throws for `REDIS_URL` servers.
   */
  freeze(): Promise<void>;
  /** Lets a frozen server carry on (`SIGCONT`); a no-op when it is not frozen. Throws for `REDIS_URL` servers. */
  thaw(): Promise<void>;
  /** Starts the server again on the same port (killing it first if it runs) and waits until ready. */
  restart(): Promise<void>;
  /** Closes every client, kills the server and deletes its scratch dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Attempts at finding a port that stays free until redis-server binds it. */
const PORT_ATTEMPTS = 5;

/**
 * Starts a throwaway `redis-server` on a free 127.0.0.1 port (no persistence, own temp dir), or,
 * when `REDIS_URL` is set, hands out that server instead. Every spawned server is killed on
 * `stop()`, on `await using` disposal, and when the test process exits.
 *
 * @example
 * ```ts
 * import { startRedis } from '@portcullis/testkit';
 *
 * await using redis = await startRedis();
 * const client = redis.createClient();
 * await client.set(`${redis.prefix}hits`, '1');
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const { redisServerPath, args = [], ignoreRedisUrl = false, startTimeoutMs = 10_000 } = options;
  if (!Number.isFinite(startTimeoutMs) || startTimeoutMs <= 0) {
    throw new TestkitError(
      'ERR_TESTKIT_INVALID_OPTION',
      `startRedis: option "startTimeoutMs" must be a finite number > 0, got ${String(startTimeoutMs)}`,
    );
  }
  const redisUrl = process.env['REDIS_URL'];
  if (!ignoreRedisUrl && redisUrl !== undefined && redisUrl !== '') return externalServer(redisUrl);

  const binary = findRedisBinary('redis-server', redisServerPath, { mentionRedisUrl: true });
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-'));
  trackScratchDir(dir);
  try {
    const { port, redis } = await spawnOnFreePort({ binary, dir, args, startTimeoutMs });
    return spawnedServer({ binary, dir, args, startTimeoutMs, port }, redis);
  } catch (error) {
    removeScratchDir(dir);
    throw error;
  }
}

interface SpawnPlan {
  binary: string;
  dir: string;
  args: readonly string[];
  startTimeoutMs: number;
}

async function spawnOnFreePort(plan: SpawnPlan): Promise<{ port: number; redis: RedisProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, redis: await spawnRedisProcess({ ...plan, port }) };
    } catch (error) {
      // Another process took the port between freePort() and the bind: draw another one.
      if (!isAddressInUse(error) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

function spawnedServer(plan: SpawnPlan & { port: number }, first: RedisProcess): RedisServer {
  const url = `redis://127.0.0.1:${plan.port}`;
  const clients = new Set<Redis>();
  let redis = first;
  let stopping: Promise<void> | undefined;

  const assertRunning = (operation: string): void => {
    if (stopping) throw new TestkitError('ERR_TESTKIT_STOPPED', `RedisServer.${operation}: the server was stopped`);
  };
  const stop = async function stop(): Promise<void> {
    stopping ??= (async () => {
      for (const client of clients) client.disconnect();
      clients.clear();
      await redis.kill();
      removeScratchDir(plan.dir);
    })();
    return stopping;
  };

  return {
    host: '127.0.0.1',
    port: plan.port,
    url,
    prefix: uniquePrefix(),
    external: false,
    get pid() {
      return redis.exited ? undefined : redis.pid;
    },
    createClient: function createClient(options: RedisOptions = {}): Redis {
      assertRunning('createClient');
      return trackClient(clients, new Redis({ ...options, host: '127.0.0.1', port: plan.port }));
    },
    flushAll: async function flushAll(): Promise<void> {
      assertRunning('flushAll');
      await withProbe(url, async (client) => client.flushall());
    },
    kill: async function kill(): Promise<void> {
      assertRunning('kill');
      await redis.kill();
    },
    freeze: async function freeze(): Promise<void> {
      assertRunning('freeze');
      redis.signal('SIGSTOP');
      await Promise.resolve();
    },
    thaw: async function thaw(): Promise<void> {
      assertRunning('thaw');
      redis.signal('SIGCONT');
      await Promise.resolve();
    },
    restart: async function restart(): Promise<void> {
      assertRunning('restart');
      await redis.kill();
      redis = await spawnRedisProcess(plan);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function externalServer(redisUrl: string): RedisServer {
  let parsed: URL;
  try {
    parsed = new URL(redisUrl);
  } catch (error) {
    throw new TestkitError('ERR_TESTKIT_INVALID_OPTION', `REDIS_URL is not a URL: ${JSON.stringify(redisUrl)}`, {
      cause: error,
    });
  }
  const prefix = uniquePrefix();
  const clients = new Set<Redis>();
  let stopped = false;

  const assertRunning = (operation: string): void => {
    if (stopped) throw new TestkitError('ERR_TESTKIT_STOPPED', `RedisServer.${operation}: the handle was stopped`);
  };
  const refuseFault = (operation: string): never => {
    throw new TestkitError(
      'ERR_TESTKIT_EXTERNAL_SERVER',
      `RedisServer.${operation}() needs a server started by the testkit, but this handle uses REDIS_URL ` +
        `(${parsed.host}). Fault tests need a testkit-started server: unset REDIS_URL ` +
        '(or pass { ignoreRedisUrl: true } to startRedis).',
    );
  };
  const stop = async function stop(): Promise<void> {
    stopped = true;
    for (const client of clients) client.disconnect();
    clients.clear();
    await Promise.resolve();
  };

  return {
    host: parsed.hostname,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    url: redisUrl,
    prefix,
    external: true,
    pid: undefined,
    createClient: function createClient(options: RedisOptions = {}): Redis {
      assertRunning('createClient');
      return trackClient(clients, new Redis(redisUrl, options));
    },
    flushAll: async function flushAll(): Promise<void> {
      assertRunning('flushAll');
      // The server is shared: delete only this handle's keys, never FLUSHALL.
      await withProbe(redisUrl, async (client) => deleteByPrefix(client, prefix));
    },
    kill: async function kill(): Promise<void> {
      await Promise.resolve();
      refuseFault('kill');
    },
    freeze: async function freeze(): Promise<void> {
      await Promise.resolve();
      refuseFault('freeze');
    },
    thaw: async function thaw(): Promise<void> {
      await Promise.resolve();
      refuseFault('thaw');
    },
    restart: async function restart(): Promise<void> {
      await Promise.resolve();
      refuseFault('restart');
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function deleteByPrefix(client: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

function trackClient(clients: Set<Redis>, client: Redis): Redis {
  clients.add(client);
  client.once('end', () => clients.delete(client));
  return client;
}

function uniquePrefix(): string {
  return `t:${randomBytes(6).toString('hex')}:`;
}
