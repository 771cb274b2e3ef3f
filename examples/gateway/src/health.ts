import {
  bearerToken,
  createHealth,
  eventLoopDelayCheck,
  heapCheck,
  redisCheck,
  type CheckOptions,
  type Health,
} from '@portcullis/health';
import type { Cluster, Redis } from 'ioredis';
import type { ServicePools } from './pools.js';
import type { OrdersCanary } from './routes.js';
import { SERVICES } from './services.js';

/** The token that shows `/health`'s details (checks, figures) in the demo; anyone else sees the status. */
export const DEMO_HEALTH_TOKEN = 'demo-health-token';

/** Who may see the details: a bearer token (in production, from your secrets; or `fromNetworks`). */
export const healthDetails: ReturnType<typeof bearerToken> = bearerToken(DEMO_HEALTH_TOKEN);

/** What the gateway's health reads. */
export interface GatewayHealthParts {
  readonly pools: ServicePools;
  readonly canary: OrdersCanary;
  /** The limits' Redis, when there is one. */
  readonly redis?: Redis | Cluster | undefined;
}

/**
 * The gateway's health: liveness is the process itself (event-loop delay, heap); readiness is
 * what it depends on, none of it critical, because the gateway keeps answering when they fail
 * (limits fail open without Redis; a service with no instance left gets fast 503s): so they make
 * it `warn` (degraded, still ready, 200), never `fail`. Each service's pool: `pass` with every
 * instance available, `warn` with some out, `warn` too with none (its breakers are open). The
 * orders canary: `warn` once rolled back (a release needs a look).
 *
 * @example
 * ```ts
 * const health = gatewayHealth({ pools, canary: routes.canary });
 * await app.register(healthEndpoints(health, { details: healthDetails }));
 * ```
 */
export function gatewayHealth(parts: GatewayHealthParts): Health {
  const pools: CheckOptions[] = SERVICES.map((service) => ({
    name: `upstream:${service}`,
    componentType: 'component',
    critical: false,
    groups: ['readiness'],
    check: () => {
      const { available, total, panic } = parts.pools.pools[service].snapshot();
      const observed = { observedValue: available, observedUnit: `of ${String(total)} instances available` };
      return available === total
        ? observed
        : { ...observed, status: 'warn' as const, output: panic ? 'panic' : undefined };
    },
  }));
  const canary: CheckOptions = {
    name: 'canary:orders-v2',
    critical: false,
    groups: ['readiness'],
    check: () => {
      const state = parts.canary.state();
      if (state === undefined) return { status: 'warn' as const, output: 'not synced with Redis yet' };
      return {
        observedValue: state.percent,
        observedUnit: '% of customers',
        ...(state.phase === 'rolled-back' ? { status: 'warn' as const, output: 'rolled back' } : {}),
      };
    },
  };
  return createHealth({
    serviceId: 'portcullis-example-gateway',
    description: 'The Portcullis example gateway',
    checks: [
      // Generous: a demo shares its machine with its upstreams and your other work.
      { ...eventLoopDelayCheck({ warnMs: 500, failMs: 5_000 }), groups: ['liveness'] },
      { ...heapCheck(), groups: ['liveness'] },
      ...(parts.redis === undefined
        ? []
        : [{ ...redisCheck({ client: parts.redis }), critical: false, groups: ['readiness'] }]),
      ...pools,
      canary,
    ],
  });
}
