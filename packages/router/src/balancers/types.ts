/**
 * How a balancer reads the endpoints a pool hands it. The endpoint type is the pool's own (an
 * object with an address, a zone, a health state...): the balancer only needs an id and a weight.
 */
export interface EndpointAccessors<E> {
  /**
   * A stable id, unique within the set (e.g. `10.0.0.7:8080`). Hashing balancers place keys by it,
   * so two gateways with the same ids agree on every key whatever the order of the list; in-flight
   * counts follow it across updates. Read when the set is updated, and by `release`. Default: the
   * endpoint itself, which must then be a string.
   */
  id?: ((endpoint: E) => string) | undefined;
  /**
   * The endpoint's weight: a finite number >= 0, where 0 means "never picked". Read only when the
   * set is updated, never on a pick (wrap it in `createSlowStart` to ramp new endpoints up).
   * Default: 1 for every endpoint.
   */
  weight?: ((endpoint: E) => number) | undefined;
}

/** What every balancer factory takes: the accessors and, optionally, the first endpoint set. */
export interface BalancerOptions<E> extends EndpointAccessors<E> {
  /** The first endpoint set; `update` replaces it. Default: none (every pick answers `undefined`). */
  endpoints?: readonly E[] | undefined;
}

/** Balancers that draw at random take the source of randomness, so tests can replay a run. */
export interface RandomOption {
  /** Uniform numbers in [0, 1). Default is `Math.random`. */
  random?: (() => number) | undefined;
}

/**
 * A picker over a set of endpoints, driven by a pool. Every balancer of this folder implements it:
 *
 * - `pick(key)` chooses an endpoint in O(1) or O(log n) (rendezvous: O(n)), allocating nothing.
 *   Hashing balancers map `key` (from `stickyKey`, a header, the client IP...) to an endpoint and
 *   pick at random when it is `undefined`; the others ignore it. `undefined` back means no
 *   endpoint has a weight above 0.
 * - `release(endpoint)` is called once per pick when that request ends (whatever its outcome), so
 *   the balancers that count requests in flight (least request, bounded load) know. A no-op for
 *   the others; always call it.
 * - `update(endpoints)` replaces the set: the new state is built aside and swapped in by one
 *   assignment, so a pick sees the old set or the new, never a mix; an invalid set throws an
 *   `InvalidEndpointsError` and leaves the old one in place. Requests in flight on an endpoint that
 *   stays keep being counted.
 *
 * @example
 * ```ts
 * import { createSmoothWeightedRoundRobin, type Balancer } from '@portcullis/router';
 *
 * const balancer: Balancer<string> = createSmoothWeightedRoundRobin({ endpoints: ['a:80', 'b:80'] });
 * const endpoint = balancer.pick(); // 'a:80'
 * // ... forward the request to it, then:
 * if (endpoint !== undefined) balancer.release(endpoint);
 * ```
 */
export interface Balancer<E> {
  /** Chooses an endpoint for a request, by `key` for the hashing balancers. */
  pick(key?: string): E | undefined;
  /** Tells the balancer that a request `pick` sent to `endpoint` has ended. */
  release(endpoint: E): void;
  /** Replaces the endpoint set (validated, built aside, swapped in at once). */
  update(endpoints: readonly E[]): void;
  /** The current endpoint set, as last given (a frozen copy). */
  readonly endpoints: readonly E[];
}

/**
 * A balancer that counts requests in flight (least request, bounded load), and tells them.
 *
 * @example
 * ```ts
 * import { createLeastRequest } from '@portcullis/router';
 *
 * const balancer = createLeastRequest({ endpoints: ['a:80', 'b:80'] });
 * const endpoint = balancer.pick();
 * balancer.totalInFlight; // 1
 * if (endpoint !== undefined) balancer.release(endpoint);
 * balancer.totalInFlight; // 0
 * ```
 */
export interface LoadAwareBalancer<E> extends Balancer<E> {
  /** Requests picked for `endpoint` and not released yet (0 for an unknown endpoint). */
  inFlight(endpoint: E): number;
  /** Requests in flight on the endpoints of the current set (not on removed ones still draining). */
  readonly totalInFlight: number;
}
