import { finiteNumber } from '@portcullis/core';
import { accessorsOf, endpointSet, initialEndpoints, type Accessors } from './endpoint-set.js';
import { randomOption, uniform } from './uniform.js';
import { InFlight, type Counter } from './in-flight.js';
import { keyHash } from './key-hash.js';
import { fittedTableSize, maglevTable, tableSizeOption } from './maglev-table.js';
import type { BalancerOptions, LoadAwareBalancer, RandomOption } from './types.js';

/** Options of {@link createBoundedLoad}. `random` is used for picks without a key. */
export interface BoundedLoadOptions<E> extends BalancerOptions<E>, RandomOption {
  /**
   * `c`, the balance factor: no endpoint takes more than `c` times its share of the requests in
   * flight (HAProxy's `hash-balance-factor` / 100, Envoy's `hash_balance_factor` / 100). At least 1;
   * closer to 1 balances more and keeps fewer keys on their first choice. Must not be NaN. Default
   * is 1.25.
   */
  balanceFactor?: number | undefined;
  /** The lookup table's size, a prime (as `createMaglev`'s). Default is 65,537. */
  tableSize?: number | undefined;
}

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2018; HAProxy's
 * `hash-balance-factor`, Envoy's `hash_balance_factor`): a key goes to its consistent-hash endpoint
 * unless that one already has its cap of requests in flight, in which case it goes on to the next
 * endpoint along the table, and so on. With `m` requests in flight on the set, endpoint `i`'s cap
 * is `⌈c × (m + 1) × weight_i / Σ weights⌉` (with equal weights, `⌈c × (m + 1) / n⌉`): no endpoint
 * ever holds more. Keys stay on their endpoint while it is not overloaded, so a hot key spills over
 * instead of sinking its endpoint.
 *
 * The "ring" is a Maglev table (`createMaglev`'s, with its balance and cross-gateway agreement):
 * O(1) to the first choice, then one slot per full endpoint passed (few with `c` = 1.25: the paper
 * bounds the expected walk by O(1/(c - 1)²) endpoints). The pick counts the request in flight;
 * `release` uncounts it.
 *
 * @example
 * ```ts
 * import { createBoundedLoad, stickyKey } from '@portcullis/router';
 *
 * const key = stickyKey({ header: 'x-tenant' });
 * const balancer = createBoundedLoad({ endpoints: ['a:80', 'b:80', 'c:80'], balanceFactor: 1.25 });
 * const endpoint = balancer.pick(key(req)); // the tenant's endpoint, unless it holds its cap
 * // ... when the response ends:
 * if (endpoint !== undefined) balancer.release(endpoint);
 * ```
 */
export function createBoundedLoad<E>(options: BoundedLoadOptions<E> = {}): LoadAwareBalancer<E> {
  const accessors: Accessors<E> = accessorsOf(options);
  const random = randomOption(options.random);
  const c = finiteNumber(options.balanceFactor ?? 1.25, 'balanceFactor', { min: 1, max: 1_000 });
  let size = tableSizeOption(options.tableSize);
  const inFlight = new InFlight(accessors);
  let state = build(initialEndpoints(options), accessors, size, inFlight);
  size = state.table.length;
  return {
    pick: function pickBoundedLoad(key?: string): E | undefined {
      const { table, endpoints, counters, weights, totalWeight } = state;
      if (totalWeight === 0) return undefined;
      const size = table.length;
      const start = key === undefined ? Math.floor(uniform(random) * size) : keyHash(key) % size;
      // cap_i = ⌈perWeight × w_i⌉; the epsilon keeps float noise from lifting an exact integer by one.
      const perWeight = (c * (inFlight.total + 1)) / totalWeight;
      for (let step = 0, slot = start; step < size; step++, slot = slot + 1 === size ? 0 : slot + 1) {
        const i = table[slot] as number;
        const counter = counters[i] as Counter;
        if (counter.count < Math.ceil(perWeight * (weights[i] as number) - 1e-9)) {
          inFlight.acquire(counter);
          return endpoints[i];
        }
      }
      // Unreachable: the caps add up to more than the requests in flight, so one has room.
      const i = table[start] as number;
      inFlight.acquire(counters[i] as Counter);
      return endpoints[i];
    },
    release: function release(endpoint: E): void {
      inFlight.release(endpoint);
    },
    update: function update(endpoints: readonly E[]): void {
      state = build(endpoints, accessors, size, inFlight);
      size = state.table.length;
    },
    inFlight: function count(endpoint: E): number {
      return inFlight.of(endpoint);
    },
    get totalInFlight(): number {
      return inFlight.total;
    },
    get endpoints(): readonly E[] {
      return state.endpoints;
    },
  };
}

interface State<E> {
  readonly endpoints: readonly E[];
  /** Slot → index into `endpoints`. */
  readonly table: Int32Array;
  readonly counters: readonly Counter[];
  readonly weights: Float64Array;
  readonly totalWeight: number;
}

function build<E>(endpoints: readonly E[], accessors: Accessors<E>, size: number, inFlight: InFlight<E>): State<E> {
  const set = endpointSet(endpoints, accessors);
  const table = maglevTable(set, fittedTableSize(set.live.length, size));
  const counters = inFlight.countersFor(set);
  inFlight.commit(set, counters);
  return { endpoints: set.endpoints, table, counters, weights: set.weights, totalWeight: set.totalWeight };
}
