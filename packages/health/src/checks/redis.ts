import { assertRedisRepliesSettle, InvalidOptionError } from '@portcullis/core';
import { timerMs } from '../check.js';
import type { CheckOptions, CheckOutcome } from '../check.js';
import { builtIn, elapsedMs, type BuiltInCheckOptions } from './options.js';

/**
 * What the Redis check needs of a client: an ioredis `Redis` fits (the package does not depend on
 * ioredis: bring your own client).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisPingable } from '@portcullis/health';
 *
 * const client: RedisPingable = new Redis();
 * ```
 */
export interface RedisPingable {
  /** Sends `PING` (ioredis' `ping()`). */
  ping(): Promise<unknown>;
  /**
   * ioredis' connection state: `reconnecting`, `close` and `end` fail the check at once, without a
   * command queued behind a reconnect; otherwise (`ready`, or `wait` / `connecting` before the
   * first connection) PING runs, bounded by the check's timeout.
   */
  readonly status?: string;
  /** ioredis' options, for naming a failing cluster node. */
  readonly options?: { readonly host?: string | undefined; readonly port?: number | undefined };
}

/**
 * What the Redis check needs of a cluster client: an ioredis `Cluster` fits.
 *
 * @example
 * ```ts
 * import { Cluster } from 'ioredis';
 * import type { RedisClusterPingable } from '@portcullis/health';
 *
 * const cluster: RedisClusterPingable = new Cluster([{ host: '10.0.0.1', port: 6379 }]);
 * ```
 */
export interface RedisClusterPingable {
  /** The connections to the cluster's masters (ioredis: `cluster.nodes('master')`). */
  nodes(role: 'master'): readonly RedisPingable[];
  /**
   * The slot map (ioredis: `cluster.slots`, each slot's `host:port` owners, master first). A master
   * that owns slots but has no connection (ioredis drops the connection of a node that went away)
   * fails the check.
   */
  readonly slots?: readonly (readonly string[] | undefined)[];
  /** ioredis' cluster state. */
  readonly status?: string;
  /**
   * Re-reads the slot map and reconnects to the masters it names (ioredis: `refreshSlotsCache`).
   * Called when a master in the slot map has no connection: ioredis drops the connection of a
   * node that went away and, without traffic that hits it, never reconnects when it is back.
   */
  refreshSlotsCache?(callback?: (error?: Error | null) => void): void;
}

/**
 * Options of {@link redisCheck}.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisCheckOptions } from '@portcullis/health';
 *
 * const options: RedisCheckOptions = { client: new Redis(), warnLatencyMs: 50, critical: true };
 * ```
 */
export interface RedisCheckOptions extends BuiltInCheckOptions {
  /** An existing client (ioredis `Redis` or `Cluster`); never closed by the check. */
  client: RedisPingable | RedisClusterPingable;
  /** Warn when PING takes longer (the slowest master's, for a cluster). Default: never. */
  warnLatencyMs?: number | undefined;
}

/**
 * Checks Redis with `PING` through a client you already have. A client that lost its connection
 * (`status` `reconnecting`, `close` or `end`) fails at once, without queueing a command behind a
 * reconnect; otherwise the check's timeout bounds the PING. For a cluster, every master is pinged: one that
 * does not answer fails the check (its slots cannot be served). Observed value: the PING's latency
 * (the slowest master's) in ms. Defaults: name `redis`, component type `datastore`.
 *
 * @param options - See {@link RedisCheckOptions} and {@link BuiltInCheckOptions}.
 * @throws InvalidOptionError when `client` has no `ping` / `nodes`, or is set to forget a command whose
 * reply a dropped connection lost (`autoResendUnfulfilledCommands: false` without `commandTimeout`):
 * such a PING never settles, and every later run would fail as `busy`, Redis back or not.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createHealth, redisCheck } from '@portcullis/health';
 *
 * const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
 * const health = createHealth({ checks: [redisCheck({ client: redis, intervalMs: 5_000 })] });
 * ```
 */
export function redisCheck(options: RedisCheckOptions): CheckOptions {
  const { client, warnLatencyMs, ...rest } = options;
  const warnAt = warnLatencyMs === undefined ? Number.POSITIVE_INFINITY : timerMs(warnLatencyMs, 'warnLatencyMs');
  // A run waits on its PING (ioredis cannot abort one): it must settle for a later run to start.
  assertRedisRepliesSettle(client, 'client');
  if (isCluster(client)) {
    return builtIn({ name: 'redis', componentType: 'datastore' }, rest, function redisClusterCheck() {
      return pingCluster(client, warnAt);
    });
  }
  if (typeof (client as Partial<RedisPingable> | null)?.ping !== 'function') {
    throw new InvalidOptionError('client', client, 'an ioredis Redis or Cluster client');
  }
  return builtIn({ name: 'redis', componentType: 'datastore' }, rest, function redisPingCheck() {
    return ping(client, warnAt);
  });
}

/** ioredis states in which a command would wait for a reconnect (or never run). */
const DISCONNECTED: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);

function isCluster(client: unknown): client is RedisClusterPingable {
  return typeof (client as Partial<RedisClusterPingable> | null)?.nodes === 'function';
}

async function ping(client: RedisPingable, warnAt: number): Promise<CheckOutcome> {
  if (client.status !== undefined && DISCONNECTED.has(client.status)) {
    return { status: 'fail', output: `the client is not connected (${client.status})` };
  }
  const start = performance.now();
  await client.ping();
  const latency = elapsedMs(start);
  return { status: latency > warnAt ? 'warn' : 'pass', observedValue: latency, observedUnit: 'ms' };
}

async function pingCluster(cluster: RedisClusterPingable, warnAt: number): Promise<CheckOutcome> {
  if (cluster.status !== undefined && DISCONNECTED.has(cluster.status)) {
    return { status: 'fail', output: `the cluster client is not connected (${cluster.status})` };
  }
  const masters = cluster.nodes('master');
  const connected = new Set(masters.map(nodeName));
  const unreachable = [...slotOwners(cluster)].filter((owner) => !connected.has(owner));
  // This run reports what it found; the next one sees a master that is back.
  if (unreachable.length > 0) refreshSlots(cluster);
  if (masters.length === 0 && unreachable.length === 0) return { status: 'fail', output: 'no master is known' };
  const outcomes: CheckOutcome[] = await Promise.all(
    masters.map((node) =>
      ping(node, warnAt).catch((error: unknown): CheckOutcome => ({
        status: 'fail',
        output: error instanceof Error ? error.message : String(error),
      })),
    ),
  );
  const failed = [...unreachable, ...masters.filter((_, i) => outcomes[i]?.status === 'fail').map(nodeName)];
  const slowest = Math.max(0, ...outcomes.map((o) => (typeof o.observedValue === 'number' ? o.observedValue : 0)));
  if (failed.length > 0) {
    const total = masters.length + unreachable.length;
    return {
      status: 'fail',
      observedValue: slowest,
      observedUnit: 'ms',
      output: `${String(failed.length)} of ${String(total)} masters failed: ${failed.join(', ')}`,
    };
  }
  return { status: slowest > warnAt ? 'warn' : 'pass', observedValue: slowest, observedUnit: 'ms' };
}

function refreshSlots(cluster: RedisClusterPingable): void {
  try {
    cluster.refreshSlotsCache?.(() => undefined);
  } catch {
    // A client that cannot refresh: the check still reports the master as failed.
  }
}

/** The masters the slot map names (each slot's first owner). */
function slotOwners(cluster: RedisClusterPingable): Set<string> {
  const owners = new Set<string>();
  const slots = cluster.slots;
  if (!Array.isArray(slots)) return owners;
  for (const slot of slots as readonly (readonly string[] | undefined)[]) {
    const owner = slot?.[0];
    if (owner !== undefined) owners.add(owner);
  }
  return owners;
}

function nodeName(node: RedisPingable): string {
  const host = node.options?.host ?? '?';
  const port = node.options?.port;
  return port === undefined ? host : `${host}:${String(port)}`;
}
