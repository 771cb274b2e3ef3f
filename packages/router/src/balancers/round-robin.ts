import { accessorsOf, endpointSet, initialEndpoints, type Accessors } from './endpoint-set.js';
import { randomOption, uniform } from './uniform.js';
import type { Balancer, BalancerOptions, RandomOption } from './types.js';

/** Options of {@link createRoundRobin}. Weights only matter as far as 0 (never picked) goes. */
export interface RoundRobinOptions<E> extends BalancerOptions<E>, RandomOption {}

/**
 * Plain round robin: each endpoint whose weight is above 0 in turn, in list order, whatever the
 * weights (use {@link createSmoothWeightedRoundRobin} for weights). The first turn starts at a
 * random endpoint, so that many gateways started together do not all begin with the first one; an
 * update keeps the position. O(1) per pick.
 *
 * @example
 * ```ts
 * import { createRoundRobin } from '@portcullis/router';
 *
 * const balancer = createRoundRobin({ endpoints: ['a:80', 'b:80', 'c:80'], random: () => 0 });
 * [balancer.pick(), balancer.pick(), balancer.pick(), balancer.pick()]; // ['a:80', 'b:80', 'c:80', 'a:80']
 * ```
 */
export function createRoundRobin<E>(options: RoundRobinOptions<E> = {}): Balancer<E> {
  const accessors: Accessors<E> = accessorsOf(options);
  const random = randomOption(options.random);
  let state = build(initialEndpoints(options), accessors);
  let next = Math.floor(uniform(random) * state.order.length);
  return {
    pick: function pickRoundRobin(): E | undefined {
      const { order } = state;
      if (order.length === 0) return undefined;
      if (next >= order.length) next = 0;
      return order[next++];
    },
    release: function release(): void {
      // Round robin counts nothing in flight.
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
  /** The endpoints to turn through (weight above 0), in list order. */
  readonly order: readonly E[];
}

function build<E>(endpoints: readonly E[], accessors: Accessors<E>): State<E> {
  const set = endpointSet(endpoints, accessors);
  return { endpoints: set.endpoints, order: Array.from(set.live, (i) => set.endpoints[i] as E) };
}
