import {
  finiteNumber,
  InvalidOptionError,
  isFunctionOption,
  positiveNumber,
  systemClock,
  type Clock,
} from '@portcullis/core';

/** Options of {@link createSlowStart}. */
export interface SlowStartOptions<E> {
  /** How long an endpoint takes to reach its full weight, in ms. Must be > 0. */
  windowMs: number;
  /**
   * When `endpoint` became ready (joined the set, or came back healthy), in ms on `clock`;
   * `undefined` for an endpoint that needs no ramp (e.g. those present at start-up). The pool keeps
   * this, not the balancer.
   */
  readySince: (endpoint: E) => number | undefined;
  /** The endpoint's full weight. Default: 1 for every endpoint. */
  weight?: ((endpoint: E) => number) | undefined;
  /**
   * How the ramp bends: the weight grows as `(elapsed / window)^(1 / aggression)`. 1 is linear;
   * above 1 ramps faster at first. Must be > 0. Default is 1 (Envoy's `aggression`).
   */
  aggression?: number | undefined;
  /**
   * The share of the full weight a ramping endpoint gets at least, in (0, 1], so a fresh endpoint
   * still sees some traffic. Default is 0.1 (Envoy's `min_weight_percent` of 10).
   */
  minWeightRatio?: number | undefined;
  /** The time source. Default is the system clock. */
  clock?: Clock | undefined;
}

/** A weight function that ramps new endpoints up, for the weighted balancers. */
export interface SlowStart<E> {
  /** `endpoint`'s weight now: its full weight × {@link SlowStart.factor}. Pass it as a balancer's `weight`. */
  readonly weight: (endpoint: E) => number;
  /** The share of its full weight `endpoint` has now, in [minWeightRatio, 1]; 1 once its window is over. */
  readonly factor: (endpoint: E) => number;
  /**
   * When the last ramp among `endpoints` ends (ms on the clock), or `undefined` when none is
   * ramping. A balancer reads weights only on `update`, so until then the pool calls
   * `balancer.update(endpoints)` every so often (a tenth of the window is smooth enough).
   */
  rampsUntil(endpoints: readonly E[]): number | undefined;
}

/**
 * Slow start (Envoy's `slow_start_config`, HAProxy's `slowstart`): an endpoint that just joined or
 * recovered gets a share of its weight that grows with time, from `minWeightRatio` to all of it
 * at the end of `windowMs`, so a cold instance (empty caches, JIT not warmed) is not handed its
 * full share at once. The factor is `max(minWeightRatio, (elapsed / windowMs)^(1 / aggression))`,
 * non-decreasing in time, and exactly 1 from the end of the window on.
 *
 * It is a weight function: give `slowStart.weight` to any weighted balancer (smooth weighted round
 * robin, weighted random, least request, rendezvous, Maglev, bounded load), and update the
 * balancer while {@link SlowStart.rampsUntil} is in the future.
 *
 * @example
 * ```ts
 * import { createSlowStart, createSmoothWeightedRoundRobin } from '@portcullis/router';
 *
 * interface Upstream { address: string; weight: number; readySince?: number }
 * const upstreams: Upstream[] = [{ address: 'a:80', weight: 10 }, { address: 'b:80', weight: 10, readySince: Date.now() }];
 * const ramp = createSlowStart<Upstream>({ windowMs: 30_000, readySince: (u) => u.readySince, weight: (u) => u.weight });
 * const balancer = createSmoothWeightedRoundRobin({ endpoints: upstreams, id: (u) => u.address, weight: ramp.weight });
 * // b starts at 1 (10 % of 10) and reaches 10 after 30 s, as long as the pool calls
 * // balancer.update(upstreams) every few seconds while ramp.rampsUntil(upstreams) is ahead.
 * ```
 */
export function createSlowStart<E>(options: SlowStartOptions<E>): SlowStart<E> {
  const windowMs = positiveNumber(options.windowMs, 'windowMs');
  const readySince = isFunctionOption(options.readySince, 'readySince');
  const fullWeight = options.weight === undefined ? undefined : isFunctionOption(options.weight, 'weight');
  const exponent = 1 / positiveNumber(options.aggression ?? 1, 'aggression');
  const minRatio = finiteNumber(options.minWeightRatio ?? 0.1, 'minWeightRatio', {
    min: 0,
    minExclusive: true,
    max: 1,
  });
  const clock = options.clock ?? systemClock;
  if (typeof (clock as Partial<Clock> | null)?.now !== 'function') {
    throw new InvalidOptionError('clock', clock, 'a Clock ({ now(): number })');
  }

  function factor(endpoint: E): number {
    const since = readySince(endpoint);
    if (since === undefined) return 1;
    const elapsed = clock.now() - since;
    if (!(elapsed < windowMs)) return 1; // also NaN: a broken timestamp must not starve the endpoint
    if (elapsed <= 0) return minRatio;
    return Math.max(minRatio, (elapsed / windowMs) ** exponent);
  }
  return {
    weight: function slowStartWeight(endpoint: E): number {
      const f = factor(endpoint);
      const full = fullWeight === undefined ? 1 : fullWeight(endpoint);
      return f === 1 ? full : full * f;
    },
    factor,
    rampsUntil: function rampsUntil(endpoints: readonly E[]): number | undefined {
      const now = clock.now();
      let until: number | undefined;
      for (const endpoint of endpoints) {
        const since = readySince(endpoint);
        if (since === undefined || !(now - since < windowMs)) continue;
        until = Math.max(until ?? -Infinity, since + windowMs);
      }
      return until;
    },
  };
}
