import { aliasDraw, aliasTable, type AliasTable } from './alias-table.js';
import { accessorsOf, endpointSet, initialEndpoints, type Accessors } from './endpoint-set.js';
import { randomOption, uniform } from './uniform.js';
import { mix32 } from '../split/hash.js';
import { idHash, keyHash } from './key-hash.js';
import type { Balancer, BalancerOptions, RandomOption } from './types.js';

/** Options of {@link createRendezvous}. `random` is used for picks without a key. */
export interface RendezvousOptions<E> extends BalancerOptions<E>, RandomOption {}

/** 2^32: maps a 32-bit hash into (0, 1). */
const TWO_POW_32 = 4_294_967_296;

/**
 * Rendezvous (highest random weight) hashing, weighted: every endpoint scores the key, as
 * `-weight / ln(u)` where `u` in (0, 1) comes from the key's and the endpoint id's hashes, and the
 * best score wins (with equal weights, the largest `u`). An endpoint wins a share of keys equal to
 * its share of the weight, and its score for a key depends on nothing else, so:
 *
 * - removing an endpoint moves only the keys it had (to the runners-up), and adding one moves
 *   keys only to it: the fewest moves possible;
 * - every gateway with the same ids and weights picks the same endpoint for a key, whatever the
 *   order of its list.
 *
 * The price: a pick scores every endpoint, O(n) (the key is hashed once, then one 32-bit mix per
 * endpoint, and a logarithm when weights differ; measured about 0.4 µs per pick at 16 endpoints and
 * 1.6 µs at 128 with equal weights, on a busy machine: see bench/results/balancers.md). For large
 * sets prefer {@link createMaglev}: O(1), and nearly as few moves. A pick without a key is a
 * weighted random draw.
 *
 * @example
 * ```ts
 * import { createRendezvous, stickyKey } from '@portcullis/router';
 *
 * const key = stickyKey({ header: 'x-user-id' });
 * const balancer = createRendezvous({ endpoints: ['a:80', 'b:80', 'c:80'] });
 * balancer.pick(key(req)); // the same endpoint for this user as long as it is in the set
 * ```
 */
export function createRendezvous<E>(options: RendezvousOptions<E> = {}): Balancer<E> {
  const accessors: Accessors<E> = accessorsOf(options);
  const random = randomOption(options.random);
  let state = build(initialEndpoints(options), accessors);
  return {
    pick: function pickRendezvous(key?: string): E | undefined {
      const { live, seeds, weights, table } = state;
      if (table === undefined) return undefined;
      if (key === undefined) return live[aliasDraw(table, uniform(random))];
      const h = keyHash(key);
      let best = 0;
      if (state.uniform) {
        let bestU = -1;
        for (let i = 0; i < seeds.length; i++) {
          const u = mix32(seeds[i] as number, h);
          // A tie (the same 32 bits) goes to the larger id hash, so it does not depend on list order.
          if (u > bestU || (u === bestU && (seeds[i] as number) > (seeds[best] as number))) {
            bestU = u;
            best = i;
          }
        }
      } else {
        let bestScore = -Infinity;
        for (let i = 0; i < seeds.length; i++) {
          // (u + 0.5) / 2^32 is in (0, 1): ln < 0, so the score is finite and > 0.
          const score = -(weights[i] as number) / Math.log((mix32(seeds[i] as number, h) + 0.5) / TWO_POW_32);
          if (score > bestScore) {
            bestScore = score;
            best = i;
          }
        }
      }
      return live[best];
    },
    release: function release(): void {
      // Hashing counts nothing in flight.
    },
    update: function update(endpoints: readonly E[]): void {
      state = build(endpoints, accessors);
    },
    get endpoints(): readonly E[] {
      return state.endpoints;
    },
  };
}

interface State<E> {
  readonly endpoints: readonly E[];
  /** The live endpoints (weight above 0); `seeds` and `weights` are aligned with it. */
  readonly live: readonly E[];
  /** Each live endpoint's id hash. */
  readonly seeds: Uint32Array;
  readonly weights: Float64Array;
  readonly uniform: boolean;
  /** For picks without a key; `undefined` when no endpoint is live. */
  readonly table: AliasTable | undefined;
}

function build<E>(endpoints: readonly E[], accessors: Accessors<E>): State<E> {
  const set = endpointSet(endpoints, accessors);
  const weights = Float64Array.from(set.live, (i) => set.weights[i] as number);
  return {
    endpoints: set.endpoints,
    live: Array.from(set.live, (i) => set.endpoints[i] as E),
    seeds: Uint32Array.from(set.live, (i) => idHash(set.ids[i] as string, 'rendezvous')),
    weights,
    uniform: set.uniform,
    table: set.live.length === 0 ? undefined : aliasTable(weights),
  };
}
