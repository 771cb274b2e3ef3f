import { accessorsOf, endpointSet, initialEndpoints, type Accessors } from './endpoint-set.js';
import { randomOption, uniform } from './uniform.js';
import { keyHash } from './key-hash.js';
import { fittedTableSize, maglevTable, tableSizeOption } from './maglev-table.js';
import type { Balancer, BalancerOptions, RandomOption } from './types.js';

/** Options of {@link createMaglev}. `random` is used for picks without a key. */
export interface MaglevOptions<E> extends BalancerOptions<E>, RandomOption {
  /**
   * The lookup table's size: a prime. Must not be NaN. Default is 65,537 (as Envoy's). Whenever
   * the endpoints with a weight above 0 number more than `tableSize / 100`, the table grows to the
   * smallest prime >= max(100 × endpoints, 2 × tableSize): that update moves most keys, so size it
   * for the largest set expected.
   */
  tableSize?: number | undefined;
}

/** A Maglev balancer: a {@link Balancer} that also tells its table's size. */
export interface MaglevBalancer<E> extends Balancer<E> {
  /** The current lookup table's size (a prime, >= 100 × the endpoints with a weight above 0). */
  readonly tableSize: number;
}

/**
 * Maglev consistent hashing (Google's network load balancer, as in Envoy's `MAGLEV`): a lookup
 * table of a prime number of slots, at least 100 per endpoint, filled from each endpoint's own
 * permutation of the slots; a key goes to the endpoint of slot `hash(key) mod size`. O(1) per pick;
 * O(size × log size) per update.
 *
 * - Balance: with equal weights, slot counts differ by at most one, so no endpoint gets more than
 *   1 % above its share of keys (with 100+ slots each). Weights are honoured: an endpoint gets
 *   about `size × weight / Σ weights` slots (the exact bounds are in maglev-table.ts).
 * - Disruption: removing one of n endpoints moves its keys (1/n) and a few of the others' (measured:
 *   up to 4.5 % of all keys with the smallest tables, M ≈ 100 n; under 1 % with 500+ slots per
 *   endpoint, as the default gives up to 131 endpoints). Rendezvous moves none extra, at O(n) a pick.
 * - Every gateway with the same ids and weights builds the same table, whatever the list order.
 *
 * A pick without a key is a random slot (so, weighted).
 *
 * @example
 * ```ts
 * import { createMaglev, stickyKey } from '@portcullis/router';
 *
 * const key = stickyKey({ cookie: 'session' });
 * const balancer = createMaglev({ endpoints: ['a:80', 'b:80', 'c:80'] });
 * balancer.pick(key(req)); // the same endpoint for this session while the set stays
 * balancer.tableSize; // 65537
 * ```
 */
export function createMaglev<E>(options: MaglevOptions<E> = {}): MaglevBalancer<E> {
  const accessors: Accessors<E> = accessorsOf(options);
  const random = randomOption(options.random);
  let size = tableSizeOption(options.tableSize);
  let state = build(initialEndpoints(options), accessors, size);
  size = state.table.length;
  return {
    pick: function pickMaglev(key?: string): E | undefined {
      const { table, endpoints, empty } = state;
      if (empty) return undefined;
      const slot = key === undefined ? Math.floor(uniform(random) * table.length) : keyHash(key) % table.length;
      return endpoints[table[slot] as number];
    },
    release: function release(): void {
      // Hashing counts nothing in flight.
    },
    update: function update(endpoints: readonly E[]): void {
      state = build(endpoints, accessors, size);
      size = state.table.length;
    },
    get endpoints(): readonly E[] {
      return state.endpoints;
    },
    get tableSize(): number {
      return state.table.length;
    },
  };
}

interface State<E> {
  readonly endpoints: readonly E[];
  /** Slot → index into `endpoints`. */
  readonly table: Int32Array;
  readonly empty: boolean;
}

function build<E>(endpoints: readonly E[], accessors: Accessors<E>, size: number): State<E> {
  const set = endpointSet(endpoints, accessors);
  const table = maglevTable(set, fittedTableSize(set.live.length, size));
  return { endpoints: set.endpoints, table, empty: set.live.length === 0 };
}
