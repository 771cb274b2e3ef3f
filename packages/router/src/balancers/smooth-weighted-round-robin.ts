import { accessorsOf, endpointSet, initialEndpoints, type Accessors, type EndpointSet } from './endpoint-set.js';
import type { Balancer, BalancerOptions } from './types.js';

/** Options of {@link createSmoothWeightedRoundRobin}. */
export type SmoothWeightedRoundRobinOptions<E> = BalancerOptions<E>;

/**
 * The longest schedule built, in picks; and the most work a rebuild may do (schedule length ×
 * endpoints). Together they keep an update under a few milliseconds at any size.
 */
const MAX_PERIOD = 65_536;
const MAX_BUILD_STEPS = 1 << 22;

/**
 * nginx's smooth weighted round robin: every endpoint gets `weight` picks out of every Σ weights
 * picks, spread out rather than in runs (weights {5, 1, 1} give `a a b a c a a`, then again).
 *
 * nginx walks every endpoint on every pick (O(n)); here the sequence nginx would produce is
 * computed once per update (it repeats every Σ w / gcd(w) picks) and a pick reads the next entry:
 * O(1). Weights that are integers with Σ w / gcd ≤ 65,536 (and ≤ 2²² / n) are followed exactly;
 * other weights (fractions, as `createSlowStart` produces, or very large sums) are first scaled to
 * integers summing to about that bound, which keeps every share within a fraction of a percent
 * (an endpoint with a weight above 0 always keeps at least one pick per period). An update keeps
 * the position, scaled to the new period. O(n × period) per update.
 *
 * @example
 * ```ts
 * import { createSmoothWeightedRoundRobin } from '@portcullis/router';
 *
 * const weights: Record<string, number> = { a: 5, b: 1, c: 1 };
 * const balancer = createSmoothWeightedRoundRobin({ endpoints: ['a', 'b', 'c'], weight: (e) => weights[e] ?? 1 });
 * Array.from({ length: 7 }, () => balancer.pick()).join(' '); // 'a a b a c a a'
 * ```
 */
export function createSmoothWeightedRoundRobin<E>(options: SmoothWeightedRoundRobinOptions<E> = {}): Balancer<E> {
  const accessors: Accessors<E> = accessorsOf(options);
  let state = build(endpointSet(initialEndpoints(options), accessors));
  let position = 0;
  return {
    pick: function pickSmoothWeighted(): E | undefined {
      const { schedule, endpoints } = state;
      if (schedule.length === 0) return undefined;
      if (position >= schedule.length) position = 0;
      return endpoints[schedule[position++] as number];
    },
    release: function release(): void {
      // Round robin counts nothing in flight.
    },
    update: function update(endpoints: readonly E[]): void {
      const next = build(endpointSet(endpoints, accessors));
      position =
        state.schedule.length === 0 ? 0 : Math.floor((position * next.schedule.length) / state.schedule.length);
      state = next;
    },
    get endpoints(): readonly E[] {
      return state.endpoints;
    },
  };
}

interface State<E> {
  readonly endpoints: readonly E[];
  /** One period of nginx's sequence, as indexes into `endpoints`. */
  readonly schedule: Int32Array;
}

function build<E>(set: EndpointSet<E>): State<E> {
  const { live } = set;
  // nginx with equal weights is plain round robin in list order.
  if (set.uniform) return { endpoints: set.endpoints, schedule: live };
  const budget = Math.max(live.length, Math.min(MAX_PERIOD, Math.floor(MAX_BUILD_STEPS / live.length)));
  const weights = integerWeights(set, budget);
  return { endpoints: set.endpoints, schedule: nginxSequence(weights, live) };
}

/** The live endpoints' weights as small integers in the same proportions (exactly, when possible). */
function integerWeights(set: EndpointSet<unknown>, budget: number): Float64Array {
  const { live } = set;
  let weights = Float64Array.from(live, (i) => set.weights[i] as number);
  if (!weights.every(Number.isInteger) || sum(reduced(weights)) > budget) {
    const total = sum(weights);
    weights = weights.map((w) => Math.max(1, Math.round((w / total) * budget)));
  }
  return reduced(weights);
}

/** Weights divided by their greatest common divisor: the same sequence, a shorter period. */
function reduced(weights: Float64Array): Float64Array {
  let divisor = 0;
  for (const w of weights) divisor = gcd(divisor, w);
  return divisor <= 1 ? weights : weights.map((w) => w / divisor);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function sum(values: Float64Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/**
 * One period of nginx's `ngx_http_upstream_get_peer` (`current += weight` for each, the largest
 * current wins, first in list order on a tie, the winner's current drops by the total), run on
 * integer weights so it is exact and repeats after Σ weights picks.
 */
function nginxSequence(weights: Float64Array, live: Int32Array): Int32Array {
  const period = sum(weights);
  const current = new Float64Array(weights.length);
  const schedule = new Int32Array(period);
  for (let t = 0; t < period; t++) {
    let best = 0;
    for (let j = 0; j < weights.length; j++) {
      current[j] = (current[j] as number) + (weights[j] as number);
      if ((current[j] as number) > (current[best] as number)) best = j;
    }
    current[best] = (current[best] as number) - period;
    schedule[t] = live[best] as number;
  }
  return schedule;
}
