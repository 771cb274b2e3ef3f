import { startRedisCluster, type RedisCluster } from '@portcullis/testkit';
import { Redis, type Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** The test file's 3-master Redis Cluster (see {@link useRedisCluster}); read it inside tests and hooks. */
export let cluster: RedisCluster;
/** A `Cluster` client of {@link cluster}, connected before the file's tests run. */
export let client: Cluster;
/** A connection of its own per master, by `host:port` (for INFO, CONFIG RESETSTAT, slot migrations). */
export let admins: Map<string, Redis>;

/**
 * Gives the calling test file its own 3-master Redis Cluster from the testkit, with a connected
 * `Cluster` client and a connection per master, stopped after its tests. Call it once, at the top
 * level of the file; `cluster`, `client` and `admins` are live bindings.
 */
export function useRedisCluster(): void {
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    client = cluster.createClient();
    await client.ping();
    admins = new Map(
      cluster.nodes.map((node) => [`${node.host}:${String(node.port)}`, new Redis(node.port, node.host)]),
    );
  });
  afterAll(async () => {
    for (const admin of admins.values()) admin.disconnect();
    await cluster.stop();
  });
}
