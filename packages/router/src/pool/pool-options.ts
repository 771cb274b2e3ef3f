import type { Clock } from '@portcullis/core';
import type { BreakerOptions } from '@portcullis/circuit-breaker';
import type { HealthCheckOptions } from './active-health-check.js';
import type { BalancerName, PoolBalancerFactory } from './balancer-choice.js';
import type { DiscoveredEndpoint, DiscoverySource } from './discovery/source.js';
import type { OutlierDetectionOptions } from './outlier-detection.js';
import type { UpstreamTlsOptions } from './tls.js';

/**
 * The breaker each endpoint of a pool gets (`@portcullis/circuit-breaker`): when to open, for how
 * long, how to probe. The pool names each breaker `<pool>/<endpoint id>`, gives it the pool's
 * clock, and reports every lease's outcome to it: a 5xx or a failure is a failure, an abort is
 * not counted, anything else is a success.
 *
 * @example
 * ```ts
 * import { consecutiveFailures, failureRate } from '@portcullis/circuit-breaker';
 * import type { EndpointBreakerOptions } from '@portcullis/router';
 *
 * const breaker: EndpointBreakerOptions = {
 *   trip: [consecutiveFailures(5), failureRate({ threshold: 0.5, minimumCalls: 20, window: { durationMs: 10_000 } })],
 *   openDuration: { initialMs: 5_000, maxMs: 60_000 },
 * };
 * ```
 */
export type EndpointBreakerOptions = Pick<BreakerOptions, 'trip' | 'openDuration' | 'halfOpen'>;

/**
 * Slow start for a pool: an endpoint that joins after the first set, becomes healthy again or
 * comes back from an ejection gets a share of its weight that ramps up over `windowMs` (see
 * `createSlowStart`). The pool refreshes the balancer's weights every tenth of the window while
 * a ramp runs.
 *
 * @example
 * ```ts
 * import type { PoolSlowStartOptions } from '@portcullis/router';
 *
 * const slowStart: PoolSlowStartOptions = { windowMs: 30_000, minWeightRatio: 0.1 };
 * ```
 */
export interface PoolSlowStartOptions {
  /** The ramp's length in ms. Finite, > 0. */
  windowMs: number;
  /** How the ramp bends (1: linear; above 1: faster at first). > 0. Default 1. */
  aggression?: number | undefined;
  /** The share of its weight a ramping endpoint gets at least, in (0, 1]. Default 0.1. */
  minWeightRatio?: number | undefined;
}

/**
 * Options of `createUpstreamPool`. Endpoints come from `endpoints` (a fixed list) or `discovery`
 * (followed for the pool's life), not both; with neither, the pool starts empty and
 * `pool.update(...)` fills it.
 *
 * @example
 * ```ts
 * import type { UpstreamPoolOptions } from '@portcullis/router';
 *
 * const options: UpstreamPoolOptions = {
 *   name: 'users',
 *   endpoints: [{ host: '10.0.0.7', port: 8080 }, { host: '10.0.0.8', port: 8080, weight: 2 }],
 *   balancer: 'least-request',
 *   healthCheck: { path: '/health', intervalMs: 5_000 },
 *   outlierDetection: { consecutiveGatewayErrors: 3 },
 * };
 * ```
 */
export interface UpstreamPoolOptions {
  /** Names the pool in events, breakers and errors. 1 to 100 characters. */
  name: string;
  /** A fixed endpoint list (validated here: an invalid one throws `InvalidEndpointsError`). */
  endpoints?: readonly DiscoveredEndpoint[] | undefined;
  /**
   * Where endpoints come from over time. Each complete set it reports is applied atomically; a
   * failed refresh, an invalid set and an **empty set** are reported as `discoveryError` events and
   * the last good set stays (see `EmptyDiscoveryError`). Unsubscribed by `close()`.
   */
  discovery?: DiscoverySource | undefined;
  /**
   * How to pick among the endpoints: a name, or a factory for a balancer with options of its own.
   * Default `'least-request'` (power of two choices: the best default for HTTP).
   */
  balancer?: BalancerName | PoolBalancerFactory | undefined;
  /** Reach the endpoints over TLS (`true`: Node's defaults), for health checks and `pool.tls`. Default: plain HTTP. */
  tls?: boolean | UpstreamTlsOptions | undefined;
  /** Active health checks. Default: none (`false`). */
  healthCheck?: HealthCheckOptions | false | undefined;
  /** Passive outlier detection from lease outcomes. Default: on, with its defaults; `false` turns it off. */
  outlierDetection?: OutlierDetectionOptions | false | undefined;
  /**
   * When fewer than this share of the endpoints (with a weight above 0) are available (healthy,
   * not ejected, breaker not refusing), the pool panics: it picks among all of them regardless of
   * health and ejections (not of breakers: an open breaker is a hard stop), since concentrating all
   * traffic on the few left would take them down too. 0 to 100; 0 never panics. Default 50 (Envoy's).
   */
  panicThresholdPercent?: number | undefined;
  /** One circuit breaker per endpoint. Default: on, with the breaker's defaults (5 failures in a row open it for 30 s); `false` turns it off. */
  breaker?: EndpointBreakerOptions | false | undefined;
  /** Ramp new and recovered endpoints up. Default: none. */
  slowStart?: PoolSlowStartOptions | false | undefined;
  /** The time source for ejections, breakers, checks and slow start. Default: the system clock. */
  clock?: Clock | undefined;
  /** Uniform numbers in [0, 1), for the balancer, check jitter and fallbacks. Default: an internal generator. */
  random?: (() => number) | undefined;
}
