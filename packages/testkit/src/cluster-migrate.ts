import { Redis } from 'ioredis';
import { TestkitError } from './errors.js';
import { sleep } from './redis-probe.js';

/**
 * Options for {@link RedisCluster.migrateSlot}.
 *
 * @example
 * ```ts
 * const options: MigrateSlotOptions = { keysPerStep: 1, pauseMs: 20 };
 * ```
 */
export interface MigrateSlotOptions {
  /**
   * Index (in `cluster.nodes`) of the master that receives the slot. Default: the first master, in
   * node order, that does not serve it now.
   */
  to?: number;
  /** Keys moved by each `MIGRATE`. Default is 1 (the slowest move: most time with keys on both sides). */
  keysPerStep?: number;
  /** Pause after each `MIGRATE`, in ms, so traffic meets a half-moved slot. Default is 0. */
  pauseMs?: number;
  /**
   * Called (and awaited) once the target is `IMPORTING` and the source `MIGRATING`, before any key
   * moves.
   */
  onMigrating?: () => void | Promise<void>;
}

/**
 * What {@link RedisCluster.migrateSlot} did.
 *
 * @example
 * ```ts
 * const { from, to, keysMoved } = await cluster.migrateSlot(866);
 * ```
 */
export interface SlotMigration {
  readonly slot: number;
  /** Index in `cluster.nodes` of the master that served the slot. */
  readonly from: number;
  /** Index in `cluster.nodes` of the master that serves it now. */
  readonly to: number;
  readonly keysMoved: number;
}

interface Node {
  readonly index: number;
  readonly host: string;
  readonly port: number;
  readonly id: string;
  readonly client: Redis;
}

const TOTAL_SLOTS = 16_384;

/**
 * Moves `slot` to another master the way `redis-cli --cluster reshard` does: `CLUSTER SETSLOT …
 * IMPORTING` on the target, `MIGRATING` on the source, `MIGRATE` of its keys a few at a time, then
 * `SETSLOT … NODE` on the target, the source and every other master. While it runs, a command for
 * a key already moved meets `ASK`, a multi-key command over keys on both sides `TRYAGAIN`, and
 * once it is done a client with the old slot map meets `MOVED`.
 */
export async function migrateSlot(
  nodes: readonly { readonly host: string; readonly port: number }[],
  slot: number,
  options: MigrateSlotOptions = {},
): Promise<SlotMigration> {
  const { keysPerStep = 1, pauseMs = 0, onMigrating } = options;
  if (!Number.isInteger(slot) || slot < 0 || slot >= TOTAL_SLOTS) {
    throw new TestkitError(
      'ERR_TESTKIT_INVALID_OPTION',
      `RedisCluster.migrateSlot: slot must be an integer in [0, 16383], got ${String(slot)}`,
    );
  }
  if (!Number.isInteger(keysPerStep) || keysPerStep < 1) {
    throw new TestkitError(
      'ERR_TESTKIT_INVALID_OPTION',
      `RedisCluster.migrateSlot: option "keysPerStep" must be an integer >= 1, got ${String(keysPerStep)}`,
    );
  }
  const clients = nodes.map((node) => new Redis({ host: node.host, port: node.port, lazyConnect: true }));
  try {
    const all: Node[] = await Promise.all(
      nodes.map(async (node, index) => {
        const client = clients[index] as Redis;
        return { index, host: node.host, port: node.port, id: await client.cluster('MYID'), client };
      }),
    );
    const masters: Node[] = [];
    for (const node of all) if ((await node.client.role())[0] === 'master') masters.push(node);
    const ranges = await (masters[0] as Node).client.cluster('SLOTS');
    const owner = ranges.find(([first, last]) => first <= slot && slot <= last)?.[2]?.[1];
    const source = masters.find((m) => m.port === owner);
    const target =
      options.to === undefined ? masters.find((m) => m !== source) : masters.find((m) => m.index === options.to);
    if (source === undefined || target === undefined || target === source) {
      throw new TestkitError(
        'ERR_TESTKIT_INVALID_OPTION',
        `RedisCluster.migrateSlot: no master to move slot ${String(slot)} to (to: ${String(options.to)})`,
      );
    }
    await target.client.cluster('SETSLOT', slot, 'IMPORTING', source.id);
    await source.client.cluster('SETSLOT', slot, 'MIGRATING', target.id);
    await onMigrating?.();
    let keysMoved = 0;
    for (;;) {
      const keys = await source.client.cluster('GETKEYSINSLOT', slot, keysPerStep);
      if (keys.length === 0) break;
      await source.client.migrate(target.host, target.port, '', 0, 5_000, 'KEYS', ...keys);
      keysMoved += keys.length;
      if (pauseMs > 0) await sleep(pauseMs);
    }
    // The target first, so that it serves the slot before the source starts sending MOVED there.
    for (const m of [target, source, ...masters.filter((x) => x !== target && x !== source)]) {
      await m.client.cluster('SETSLOT', slot, 'NODE', target.id);
    }
    return { slot, from: source.index, to: target.index, keysMoved };
  } finally {
    for (const client of clients) client.disconnect();
  }
}
