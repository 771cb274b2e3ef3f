import type { Clock } from '@portcullis/core';
import { consecutiveFailures } from '@portcullis/circuit-breaker';
import { createUpstreamPool, type UpstreamPool, type UpstreamPoolSnapshot } from '@portcullis/router';
import { SERVICES, type ServiceName } from './services.js';

/** How long an endpoint's breaker stays open first, in ms (then one probe decides; doubling to 60 s). */
export const BREAKER_OPEN_MS = 5_000;

/** One upstream pool per service. */
export interface ServicePools {
  readonly pools: Readonly<Record<ServiceName, UpstreamPool>>;
  /** Every pool's state (health, ejections, breakers, in-flight), for `/demo/pools`. */
  snapshot(): Record<ServiceName, UpstreamPoolSnapshot>;
  close(): Promise<void>;
}

/** Options of {@link createServicePools}. */
export interface ServicePoolsOptions {
  /** Time for ejections and breakers (tests steer it). Default: the system clock. */
  clock?: Clock | undefined;
  /** Active health checks (`GET /health` on every instance) this often, in ms; `false`: none. Default 2000. */
  healthCheckIntervalMs?: number | false | undefined;
}

/**
 * The upstream pools of the example: least-request balancing over each service's instances,
 * active health checks on `/health`, outlier detection (3 gateway errors in a row eject an
 * instance for 10 s, growing with each ejection in a row; at most half of a pool out at once) and
 * a breaker per instance (3 failures in a row open it for {@link BREAKER_OPEN_MS}). When every
 * instance's breaker is open, `acquire` answers `undefined` and the gateway answers a fast 503.
 *
 * @example
 * ```ts
 * const pools = createServicePools({ users: ['http://127.0.0.1:9001'], products: [], orders: [], 'orders-v2': [] });
 * const lease = pools.pools.users.acquire();
 * lease?.complete({ status: 200, durationMs: 3 });
 * await pools.close();
 * ```
 */
export function createServicePools(
  origins: Readonly<Record<ServiceName, readonly string[]>>,
  options: ServicePoolsOptions = {},
): ServicePools {
  const interval = options.healthCheckIntervalMs ?? 2_000;
  const pools = Object.fromEntries(
    SERVICES.map((service) => [
      service,
      createUpstreamPool({
        name: service,
        endpoints: origins[service].map((origin) => {
          const url = new URL(origin);
          return { host: url.hostname, port: Number(url.port) };
        }),
        balancer: 'least-request',
        healthCheck: interval === false ? false : { path: '/health', intervalMs: interval, timeoutMs: 1_000 },
        outlierDetection: { consecutiveGatewayErrors: 3, baseEjectionTimeMs: 10_000 },
        breaker: {
          trip: consecutiveFailures(3),
          openDuration: { initialMs: BREAKER_OPEN_MS, multiplier: 2, maxMs: 60_000 },
          halfOpen: { maxProbes: 1, successesToClose: 1 },
        },
        clock: options.clock,
      }),
    ]),
  ) as Record<ServiceName, UpstreamPool>;
  return {
    pools,
    snapshot: () =>
      Object.fromEntries(SERVICES.map((service) => [service, pools[service].snapshot()])) as Record<
        ServiceName,
        UpstreamPoolSnapshot
      >,
    close: async () => {
      await Promise.all(SERVICES.map((service) => pools[service].close()));
    },
  };
}
