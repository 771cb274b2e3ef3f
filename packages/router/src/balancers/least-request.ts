import { aliasTable, type AliasTable } from './alias-table.js';
import { accessorsOf, endpointSet, initialEndpoints, type Accessors } from './endpoint-set.js';
import { randomOption } from './uniform.js';
import { InFlight, type Counter } from './in-flight.js';
import { drawTwo } from './two-choices.js';
import type { BalancerOptions, LoadAwareBalancer, RandomOption } from './types.js';

/** Options of {@link createLeastRequest}. */
export interface LeastRequestOptions<E> extends BalancerOptions<E>, RandomOption {}

/**
 * Weighted least request with the power of two choices (as Envoy's `LEAST_REQUEST`, and
 * Mitzenmacher's result: two random candidates are almost as good as scanning all, without the
 * herd a global minimum causes when many gateways see the same counts). Each pick draws two
 * distinct endpoints in proportion to their weights and takes the one with fewer requests in
 * flight per unit of weight (`inFlight / weight`; the first drawn on a tie, so that idle endpoints
 * share traffic by weight). The pick counts the request in flight; `release` uncounts it. O(1)
 * per pick; O(n) per update.
 *
 * @example
 * ```ts
 * import { createLeastRequest } from '@portcullis/router';
 *
 * const balancer = createLeastRequest({ endpoints: ['a:80', 'b:80'] });
 * const first = balancer.pick(); // either; now 1 request in flight there
 * balancer.pick(); // the other one: fewer in flight
 * if (first !== undefined) balancer.release(first);
 * ```
 */
export function createLeastRequest<E>(options: LeastRequestOptions<E> = {}): LoadAwareBalancer<E> {
  const accessors: Accessors<E> = accessorsOf(options);
  const random = randomOption(options.random);
  const inFlight = new InFlight(accessors);
  let state = build(initialEndpoints(options), accessors, inFlight);
  const pair = new Int32Array(2);
  return {
    pick: function pickLeastRequest(): E | undefined {
      const { table, counters, weights, endpoints } = state;
      if (table === undefined) return undefined;
      drawTwo(table, random, pair);
      const a = pair[0] as number;
      const b = pair[1] as number;
      const ca = counters[a] as Counter;
      const cb = counters[b] as Counter;
      // inFlight_b / w_b < inFlight_a / w_a, without dividing.
      const chosen = cb.count * (weights[a] as number) < ca.count * (weights[b] as number) ? b : a;
      inFlight.acquire(counters[chosen] as Counter);
      return endpoints[chosen];
    },
    release: function release(endpoint: E): void {
      inFlight.release(endpoint);
    },
    update: function update(endpoints: readonly E[]): void {
      state = build(endpoints, accessors, inFlight);
    },
    inFlight: function count(endpoint: E): number {
      return inFlight.of(endpoint);
    },
    get totalInFlight(): number {
      return inFlight.total;
    },
    get endpoints(): readonly E[] {
      return state.all;
    },
  };
}

interface State<E> {
  readonly all: readonly E[];
  /** The live endpoints (weight above 0); the other arrays are aligned with it. */
  readonly endpoints: readonly E[];
  readonly weights: Float64Array;
  readonly counters: readonly Counter[];
  /** `undefined` when no endpoint is live. */
  readonly table: AliasTable | undefined;
}

function build<E>(endpoints: readonly E[], accessors: Accessors<E>, inFlight: InFlight<E>): State<E> {
  const set = endpointSet(endpoints, accessors);
  const counters = inFlight.countersFor(set);
  inFlight.commit(set, counters);
  const weights = Float64Array.from(set.live, (i) => set.weights[i] as number);
  return {
    all: set.endpoints,
    endpoints: Array.from(set.live, (i) => set.endpoints[i] as E),
    weights,
    counters: Array.from(set.live, (i) => counters[i] as Counter),
    table: set.live.length === 0 ? undefined : aliasTable(weights),
  };
}
