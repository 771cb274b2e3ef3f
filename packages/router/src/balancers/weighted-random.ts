import { aliasDraw, aliasTable, type AliasTable } from './alias-table.js';
import { accessorsOf, endpointSet, initialEndpoints, type Accessors } from './endpoint-set.js';
import { randomOption, uniform } from './uniform.js';
import type { Balancer, BalancerOptions, RandomOption } from './types.js';

/** Options of {@link createWeightedRandom}. */
export interface WeightedRandomOptions<E> extends BalancerOptions<E>, RandomOption {}

/**
 * Weighted random: each pick is an independent draw, endpoint `i` with probability
 * `weight_i / Σ weights` (Walker's alias method: O(1) per pick from one random number, O(n) per
 * update). No state is shared between picks, so gateways need not coordinate, at the price of
 * more variance over short runs than round robin.
 *
 * @example
 * ```ts
 * import { createWeightedRandom } from '@portcullis/router';
 *
 * const weights: Record<string, number> = { big: 3, small: 1 };
 * const balancer = createWeightedRandom({ endpoints: ['big', 'small'], weight: (e) => weights[e] ?? 1 });
 * balancer.pick(); // 'big' three times in four, on average
 * ```
 */
export function createWeightedRandom<E>(options: WeightedRandomOptions<E> = {}): Balancer<E> {
  const accessors: Accessors<E> = accessorsOf(options);
  const random = randomOption(options.random);
  let state = build(initialEndpoints(options), accessors);
  return {
    pick: function pickWeightedRandom(): E | undefined {
      const { table, live } = state;
      return table === undefined ? undefined : live[aliasDraw(table, uniform(random))];
    },
    release: function release(): void {
      // Random draws count nothing in flight.
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
  readonly live: readonly E[];
  readonly table: AliasTable | undefined;
}

function build<E>(endpoints: readonly E[], accessors: Accessors<E>): State<E> {
  const set = endpointSet(endpoints, accessors);
  return {
    endpoints: set.endpoints,
    live: Array.from(set.live, (i) => set.endpoints[i] as E),
    table: set.live.length === 0 ? undefined : aliasTable(Array.from(set.live, (i) => set.weights[i] as number)),
  };
}
