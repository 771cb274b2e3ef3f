import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import type { ClusterOptions } from 'ioredis';
import { migrateSlot, type MigrateSlotOptions, type SlotMigration } from './cluster-migrate.js';
import { TestkitError } from './errors.js';
import { findRedisBinary } from './find-binary.js';
import { freeClusterPort } from './free-port.js';
import { removeScratchDir, trackScratchDir } from './process-registry.js';
import { parseInfo, sleep, withProbe } from './redis-probe.js';
import { isAddressInUse, spawnRedisProcess } from './redis-process.js';
import type { RedisProcess } from './redis-process.js';

const execFileAsync = promisify(execFile);

/**
 * Options for {@link startRedisCluster}.
 *
 * @example
 * ```ts
 * const options: StartRedisClusterOptions = { masters: 3, startTimeoutMs: 30_000 };
 * ```
 */
export interface StartRedisClusterOptions {
  /** Number of master nodes. Redis Cluster needs at least 3. Default is 3. */
  masters?: number;
  /**
   * Replicas per master (0 to 2). With replicas, `nodes` lists the masters first, then the
   * replicas; killing a master makes one of its replicas take over its slots after the node
   * timeout (2 s here). Default is 0.
   */
  replicas?: number;
  /** Path of the `redis-server` executable. Default: looked up on `PATH` at call time. */
  redisServerPath?: string;
  /** Path of the `redis-cli` executable. Default: looked up on `PATH` at call time. */
  redisCliPath?: string;
  /** Extra `redis-server` arguments for every node. Default is none. */
  args?: readonly string[];
  /** How long to wait for the nodes to start and for the cluster to become healthy, in ms. Default is 20000. */
  startTimeoutMs?: number;
}

/**
 * Where a cluster node listens.
 *
 * @example
 * ```ts
 * for (const { host, port } of cluster.nodes) console.log(`node at ${host}:${port}`);
 * ```
 */
export interface RedisClusterNode {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** The client port; the cluster bus is on `port + 10000`. */
  readonly port: number;
}

/**
 * A throwaway Redis Cluster spawned by the testkit: masters, and their replicas when asked for.
 *
 * @example
 * ```ts
 * await using cluster = await startRedisCluster();
 * await cluster.killNode(0);
 * await cluster.restartNode(0);
 * ```
 */
export interface RedisCluster extends AsyncDisposable {
  /** The nodes, in creation order (indexes for {@link RedisCluster.killNode}). */
  readonly nodes: readonly RedisClusterNode[];
  /** A new ioredis `Cluster` client seeded with every node; closed by {@link RedisCluster.stop}. */
  createClient(options?: ClusterOptions): Cluster;
  /**
   * SIGKILLs node `index`. A master's slots become unavailable until one of its replicas is
   * promoted (after the 2 s node timeout), or for good without replicas.
   */
  killNode(index: number): Promise<void>;
  /**
   * Starts node `index` again on the same port with the same `nodes.conf`, so it rejoins with its
   * slots (its data is gone: persistence is off). When every node then runs, waits until they all
   * report `cluster_state:ok`.
   */
  restartNode(index: number): Promise<void>;
  /**
   * Moves `slot` to another master as `redis-cli --cluster reshard` does (IMPORTING, MIGRATING,
   * MIGRATE of its keys a few at a time, SETSLOT NODE on every master), for testing clients through
   * a resharding: see {@link MigrateSlotOptions}. Every node must be running.
   */
  migrateSlot(slot: number, options?: MigrateSlotOptions): Promise<SlotMigration>;
  /** FLUSHALL on every running node. */
  flushAll(): Promise<void>;
  /** Closes every client, kills every node and deletes the scratch dirs. Safe to call twice. */
  stop(): Promise<void>;
}

const CLUSTER_ARGS = [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-node-timeout',
  '2000',
];
const TOTAL_SLOTS = 16_384;
const PORT_ATTEMPTS = 5;

interface NodeState {
  readonly port: number;
  readonly dir: string;
  redis: RedisProcess;
}

/**
 * Starts a Redis Cluster of `masters` local nodes: spawns one `redis-server` per node (each on a
 * free port whose bus port is free too, in its own temp dir), joins them with
 * `redis-cli --cluster create`, and resolves once every node reports `cluster_state:ok` with all
 * 16384 slots assigned. If anything fails, every node started so far is killed.
 *
 * @example
 * ```ts
 * import { startRedisCluster } from '@portcullis/testkit';
 *
 * await using cluster = await startRedisCluster();
 * const client = cluster.createClient();
 * await client.set('user:42', 'v');
 * ```
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const { masters = 3, replicas = 0, redisServerPath, redisCliPath, args = [], startTimeoutMs = 20_000 } = options;
  if (!Number.isInteger(masters) || masters < 3) {
    throw new TestkitError(
      'ERR_TESTKIT_INVALID_OPTION',
      `startRedisCluster: option "masters" must be an integer >= 3 (Redis Cluster needs 3 masters), got ${String(masters)}`,
    );
  }
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 2) {
    throw new TestkitError(
      'ERR_TESTKIT_INVALID_OPTION',
      `startRedisCluster: option "replicas" must be an integer from 0 to 2, got ${String(replicas)}`,
    );
  }
  if (!Number.isFinite(startTimeoutMs) || startTimeoutMs <= 0) {
    throw new TestkitError(
      'ERR_TESTKIT_INVALID_OPTION',
      `startRedisCluster: option "startTimeoutMs" must be a finite number > 0, got ${String(startTimeoutMs)}`,
    );
  }
  // Both binaries are checked before anything is spawned, so a missing one leaves nothing behind.
  const serverBinary = findRedisBinary('redis-server', redisServerPath, { mentionRedisUrl: false });
  const cliBinary = findRedisBinary('redis-cli', redisCliPath, { mentionRedisUrl: false });
  // Replicas sync at once (Redis waits 5 s for more replicas to join a diskless sync by default).
  const nodeArgs = [...CLUSTER_ARGS, ...(replicas > 0 ? ['--repl-diskless-sync-delay', '0'] : []), ...args];

  const states: NodeState[] = [];
  const dirs: string[] = [];
  const spawnNode = async (port: number, dir: string): Promise<RedisProcess> =>
    spawnRedisProcess({ binary: serverBinary, port, dir, args: nodeArgs, startTimeoutMs });

  try {
    const taken = new Set<number>();
    for (let index = 0; index < masters * (1 + replicas); index++) {
      const dir = mkdtempSync(join(tmpdir(), `portcullis-cluster-${index}-`));
      trackScratchDir(dir);
      dirs.push(dir);
      for (let attempt = 1; ; attempt++) {
        const port = await freeClusterPort(taken);
        try {
          states.push({ port, dir, redis: await spawnNode(port, dir) });
          taken.add(port).add(port + 10_000);
          break;
        } catch (error) {
          // The port (or its bus port) was taken before redis-server bound it: draw another.
          if (!isAddressInUse(error) || attempt >= PORT_ATTEMPTS) throw error;
        }
      }
    }
    await createCluster(
      cliBinary,
      states.map((state) => state.port),
      replicas,
      startTimeoutMs,
    );
    await waitUntilHealthy(
      states.map((state) => state.port),
      startTimeoutMs,
    );
    // A replica that never synced would not take over its master: wait for every link.
    if (replicas > 0) await waitUntilReplicasSynced(states.slice(masters), startTimeoutMs);
  } catch (error) {
    await Promise.all(states.map(async (state) => state.redis.kill()));
    for (const dir of dirs) removeScratchDir(dir);
    throw error;
  }
  return clusterHandle(states, spawnNode, startTimeoutMs);
}

function clusterHandle(
  states: NodeState[],
  spawnNode: (port: number, dir: string) => Promise<RedisProcess>,
  startTimeoutMs: number,
): RedisCluster {
  const nodes: readonly RedisClusterNode[] = states.map((state) => ({ host: '127.0.0.1', port: state.port }));
  const clients = new Set<Cluster>();
  let stopping: Promise<void> | undefined;

  const assertRunning = (operation: string): void => {
    if (stopping) throw new TestkitError('ERR_TESTKIT_STOPPED', `RedisCluster.${operation}: the cluster was stopped`);
  };
  const nodeAt = (index: number, operation: string): NodeState => {
    const state = Number.isInteger(index) ? states[index] : undefined;
    if (state === undefined) {
      throw new TestkitError(
        'ERR_TESTKIT_INVALID_OPTION',
        `RedisCluster.${operation}: node index must be an integer in [0, ${states.length - 1}], got ${String(index)}`,
      );
    }
    return state;
  };
  const stop = async function stop(): Promise<void> {
    stopping ??= (async () => {
      const closing = [...clients].map(async (client) => closeCluster(client));
      clients.clear();
      await Promise.all([...closing, ...states.map(async (state) => state.redis.kill())]);
      for (const state of states) removeScratchDir(state.dir);
    })();
    return stopping;
  };

  return {
    nodes,
    createClient: function createClient(options: ClusterOptions = {}): Cluster {
      assertRunning('createClient');
      const client = new Cluster(
        nodes.map((node) => ({ host: node.host, port: node.port })),
        options,
      );
      clients.add(client);
      client.once('end', () => clients.delete(client));
      return client;
    },
    killNode: async function killNode(index: number): Promise<void> {
      assertRunning('killNode');
      await nodeAt(index, 'killNode').redis.kill();
    },
    restartNode: async function restartNode(index: number): Promise<void> {
      assertRunning('restartNode');
      const state = nodeAt(index, 'restartNode');
      await state.redis.kill();
      state.redis = await spawnNode(state.port, state.dir);
      if (states.every((other) => !other.redis.exited)) {
        await waitUntilHealthy(
          states.map((other) => other.port),
          startTimeoutMs,
        );
      }
    },
    migrateSlot: async function migrateSlotOf(slot: number, options?: MigrateSlotOptions): Promise<SlotMigration> {
      assertRunning('migrateSlot');
      if (states.some((state) => state.redis.exited)) {
        throw new TestkitError('ERR_TESTKIT_INVALID_OPTION', 'RedisCluster.migrateSlot: every node must be running');
      }
      return migrateSlot(nodes, slot, options);
    },
    flushAll: async function flushAll(): Promise<void> {
      assertRunning('flushAll');
      const running = states.filter((state) => !state.redis.exited);
      await Promise.all(
        running.map(async (state) => withProbe(`redis://127.0.0.1:${state.port}`, async (client) => client.flushall())),
      );
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A Cluster client reaches `end` a moment after disconnect(); wait for it, but never hang stop(). */
async function closeCluster(client: Cluster): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => client.once('end', resolve));
  client.disconnect();
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 2_000);
  });
  await Promise.race([ended, cap]);
  clearTimeout(timer);
}

async function createCluster(
  cliBinary: string,
  ports: readonly number[],
  replicas: number,
  timeoutMs: number,
): Promise<void> {
  const cliArgs = [
    '--cluster',
    'create',
    ...ports.map((port) => `127.0.0.1:${port}`),
    '--cluster-replicas',
    String(replicas),
    '--cluster-yes',
  ];
  try {
    await execFileAsync(cliBinary, cliArgs, { timeout: timeoutMs, killSignal: 'SIGKILL' });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new TestkitError(
      'ERR_TESTKIT_START_FAILED',
      `redis-cli --cluster create failed: ${(error as Error).message}\n${stdout}${stderr}`.trim(),
      { cause: error },
    );
  }
}

/** Every node must agree: state ok, every slot assigned, and it knows every other node. */
async function waitUntilHealthy(ports: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const reports = await Promise.all(ports.map(async (port) => clusterInfo(port)));
    const healthy = reports.every(
      (info) =>
        info?.get('cluster_state') === 'ok' &&
        info.get('cluster_slots_assigned') === String(TOTAL_SLOTS) &&
        info.get('cluster_known_nodes') === String(ports.length),
    );
    if (healthy) return;
    last = reports
      .map((info, i) => `${String(ports[i])}: state=${info?.get('cluster_state') ?? 'unreachable'}`)
      .join(', ');
    if (Date.now() > deadline) {
      throw new TestkitError(
        'ERR_TESTKIT_START_FAILED',
        `Redis Cluster did not become healthy within ${timeoutMs} ms (${last})`,
      );
    }
    await sleep(50);
  }
}

/** Every replica reports its link to its master up (it has synced and would take over). */
async function waitUntilReplicasSynced(replicaStates: readonly NodeState[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reports = await Promise.all(
      replicaStates.map(async (state) => {
        try {
          return parseInfo(
            await withProbe(`redis://127.0.0.1:${state.port}`, async (client) => client.info('replication')),
          );
        } catch {
          return undefined;
        }
      }),
    );
    if (reports.every((info) => info?.get('role') === 'slave' && info.get('master_link_status') === 'up')) return;
    if (Date.now() > deadline) {
      throw new TestkitError('ERR_TESTKIT_START_FAILED', `Redis Cluster replicas did not sync within ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

async function clusterInfo(port: number): Promise<Map<string, string> | undefined> {
  try {
    const text = await withProbe(`redis://127.0.0.1:${port}`, async (client) => client.cluster('INFO'));
    return parseInfo(text);
  } catch {
    return undefined;
  }
}
