import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTestkitError, startRedisCluster } from '../src/index.js';
import type { RedisCluster } from '../src/index.js';
import { findRedisBinary } from '../src/find-binary.js';
import { liveProcessCount } from '../src/process-registry.js';
import { probePort, rejectionOf, withEnv } from './connectivity.js';

describe('startRedisCluster', () => {
  let cluster: RedisCluster;
  const direct = new Map<number, Redis>();
  /** A plain (non-cluster) client straight to one node, which answers MOVED for slots it does not own. */
  const nodeClient = (port: number): Redis => {
    let client = direct.get(port);
    if (!client) {
      client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      client.on('error', () => undefined);
      direct.set(port, client);
    }
    return client;
  };
  const ownerOf = async (key: string): Promise<{ slot: number; port: number }> => {
    const any = nodeClient(cluster.nodes[0]!.port);
    const slot = await any.cluster('KEYSLOT', key);
    // Rows are [start, end, [host, port, id], ...replicas]; the first node is the master.
    const ranges = await any.cluster('SLOTS');
    const port = ranges.find(([start, end]) => start <= slot && slot <= end)?.[2]?.[1];
    if (port === undefined) throw new Error(`no node owns slot ${slot}`);
    return { slot, port };
  };

  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    for (const client of direct.values()) client.disconnect();
    await cluster.stop();
  });

  test('starts 3 masters on distinct ports that together serve all 16384 slots', async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(new Set(cluster.nodes.map((node) => node.port)).size).toBe(3);
    for (const node of cluster.nodes) {
      expect(node.host).toBe('127.0.0.1');
      const info = await nodeClient(node.port).cluster('INFO');
      expect(info).toContain('cluster_state:ok');
      expect(info).toContain('cluster_slots_assigned:16384');
      expect(info).toContain('cluster_known_nodes:3');
    }
  });

  test('a key written through ioredis Cluster lives on the node that owns its slot', async () => {
    const client = cluster.createClient();
    const keys = Array.from({ length: 12 }, (_, i) => `user:${i}`);
    const owners = new Set<number>();
    for (const key of keys) {
      await client.set(key, `value of ${key}`);
      const { slot, port } = await ownerOf(key);
      owners.add(port);
      expect(await nodeClient(port).get(key)).toBe(`value of ${key}`);
      for (const other of cluster.nodes.filter((node) => node.port !== port)) {
        await expect(nodeClient(other.port).get(key)).rejects.toThrow(`MOVED ${slot} 127.0.0.1:${port}`);
      }
    }
    // The keys spread over the cluster, so this checked more than one node's ownership.
    expect(owners.size).toBeGreaterThan(1);
  });

  test('killNode() takes a node down; restartNode() brings it back on its port with its slots', async () => {
    const key = 'fault:{restart}';
    const { port } = await ownerOf(key);
    const index = cluster.nodes.findIndex((node) => node.port === port);

    await cluster.killNode(index);
    expect(await probePort(port)).toBe('refused');

    await cluster.restartNode(index);
    for (const node of cluster.nodes) {
      expect(await nodeClient(node.port).cluster('INFO')).toContain('cluster_state:ok');
    }
    expect((await ownerOf(key)).port).toBe(port);
    const client = cluster.createClient();
    await client.set(key, 'back');
    expect(await client.get(key)).toBe('back');
    expect(await nodeClient(port).get(key)).toBe('back');
  });

  test('flushAll() empties every node', async () => {
    const client = cluster.createClient();
    for (let i = 0; i < 30; i++) await client.set(`flush:${i}`, 'x');
    await cluster.flushAll();
    for (const node of cluster.nodes) expect(await nodeClient(node.port).dbsize()).toBe(0);
  });

  test('migrateSlot() moves a slot and its keys to another master; clients meet ASK during, MOVED after', async () => {
    const client = cluster.createClient();
    const tag = '{move-me}';
    for (let i = 0; i < 5; i++) await client.set(`${tag}:${i}`, String(i));
    const { slot, port: before } = await ownerOf(tag);
    const plain = nodeClient(before);
    let asked: unknown;
    const migration = await cluster.migrateSlot(slot, {
      keysPerStep: 2,
      onMigrating: async () => {
        // A key the source does not hold (any key, once moved): ASK, to the target.
        asked = await rejectionOf(plain.get(`${tag}:absent`));
      },
    });
    expect(String(asked)).toMatch(/^ReplyError: ASK /);
    expect(migration).toMatchObject({ slot, keysMoved: 5 });
    expect(cluster.nodes[migration.from]?.port).toBe(before);
    const after = (await ownerOf(tag)).port;
    expect(after).toBe(cluster.nodes[migration.to]?.port);
    expect(after).not.toBe(before);
    // The old owner now redirects; the Cluster client follows and reads every key where it went.
    expect(String(await rejectionOf(plain.get(`${tag}:0`)))).toMatch(/^ReplyError: MOVED /);
    for (let i = 0; i < 5; i++) expect(await client.get(`${tag}:${i}`)).toBe(String(i));
    expect(await nodeClient(after).cluster('COUNTKEYSINSLOT', slot)).toBe(5);
  });

  test('migrateSlot() of a slot out of range is a TestkitError', async () => {
    const error = await rejectionOf(cluster.migrateSlot(16_384));
    expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_INVALID_OPTION');
  });

  test('an out-of-range node index is a TestkitError', async () => {
    const error = await rejectionOf(cluster.killNode(3));
    expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_INVALID_OPTION');
  });

  test('stop() leaves no node listening and can be called again', async () => {
    const client = cluster.createClient();
    await client.set('k', 'v');
    let ended = false;
    client.once('end', () => {
      ended = true;
    });
    await cluster.stop();
    await cluster.stop();
    for (const node of cluster.nodes) expect(await probePort(node.port)).toBe('refused');
    // Checked through the event: ioredis Cluster's status flips back to "close" as node sockets drain.
    expect(ended).toBe(true);
  });
});

describe('startRedisCluster: failures', () => {
  test('without redis-cli on PATH it throws a TestkitError with an install hint and spawns nothing', async () => {
    const before = liveProcessCount();
    const onlyServer = mkdtempSync(join(tmpdir(), 'portcullis-no-cli-'));
    symlinkSync(
      findRedisBinary('redis-server', undefined, { mentionRedisUrl: false }),
      join(onlyServer, 'redis-server'),
    );
    try {
      const error = await withEnv('PATH', onlyServer, async () => rejectionOf(startRedisCluster()));
      expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_BINARY_NOT_FOUND');
      expect((error as Error).message).toContain('redis-cli not found on PATH');
      expect((error as Error).message).toContain('brew install redis');
      expect(liveProcessCount()).toBe(before);
    } finally {
      rmSync(onlyServer, { recursive: true, force: true });
    }
  });

  test('fewer than 3 masters is rejected (Redis Cluster needs 3)', async () => {
    const error = await rejectionOf(startRedisCluster({ masters: 2 }));
    expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_INVALID_OPTION');
    expect((error as Error).message).toContain('masters');
  });
});

describe('startRedisCluster with replicas', () => {
  test('a replica count out of range is rejected', async () => {
    const error = await rejectionOf(startRedisCluster({ replicas: 3 }));
    expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_INVALID_OPTION');
    expect((error as Error).message).toContain('replicas');
  });

  // Budget: 6 nodes start in ~2 s, the failover takes the 2 s node timeout plus an election; 60 s
  // leaves room on a loaded machine.
  test('3 masters + 3 replicas: the masters come first; a killed master is replaced by its replica', async () => {
    await using cluster = await startRedisCluster({ replicas: 1 });
    expect(cluster.nodes).toHaveLength(6);
    const probe = new Redis({ port: cluster.nodes[1]!.port, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    probe.on('error', () => undefined);
    try {
      const roles = async (): Promise<Map<number, string>> => {
        const text: string = await probe.call('CLUSTER', 'NODES').then(String);
        const rows = text
          .trim()
          .split('\n')
          .map((line) => line.split(' '));
        // Row: id host:port@bus flags master-id ...; flags say master or slave (and fail).
        return new Map(
          rows.map(([, address = '', flags = '']): [number, string] => [
            Number(address.split('@')[0]?.split(':')[1]),
            flags.includes('fail') && !flags.includes('fail?')
              ? 'failed'
              : flags.includes('master')
                ? 'master'
                : 'replica',
          ]),
        );
      };
      // Roles reach every node by gossip: poll until node 1 has heard them all.
      const expected = ['master', 'master', 'master', 'replica', 'replica', 'replica'];
      let seen: (string | undefined)[] = [];
      for (const until = Date.now() + 10_000; Date.now() < until;) {
        const known = await roles();
        seen = cluster.nodes.map((n) => known.get(n.port));
        if (seen.join() === expected.join()) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(seen).toEqual(['master', 'master', 'master', 'replica', 'replica', 'replica']);
      const client = cluster.createClient();
      await client.set('{a}k', 'v');
      await cluster.killNode(0);
      const deadline = Date.now() + 30_000;
      let masters = 0;
      while (Date.now() < deadline) {
        const now = await roles();
        masters = cluster.nodes.slice(3).filter((n) => now.get(n.port) === 'master').length;
        if (masters === 1 && (await probe.cluster('INFO')).includes('cluster_state:ok')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(masters).toBe(1);
      // Every slot is served again: a write to each master's slots succeeds.
      for (const key of ['{a}x', '{b}x', '{c}x', '{d}x', '{e}x']) await client.set(key, '1');
    } finally {
      probe.disconnect();
    }
  }, 60_000);
});
