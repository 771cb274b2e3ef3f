import { InvalidOptionError, oneOf } from '@portcullis/core';
import { createBoundedLoad } from '../balancers/bounded-load.js';
import { createLeastRequest } from '../balancers/least-request.js';
import { createMaglev } from '../balancers/maglev.js';
import { createRendezvous } from '../balancers/rendezvous.js';
import { createRoundRobin } from '../balancers/round-robin.js';
import { createSmoothWeightedRoundRobin } from '../balancers/smooth-weighted-round-robin.js';
import type { Balancer, BalancerOptions, RandomOption } from '../balancers/types.js';
import { createWeightedRandom } from '../balancers/weighted-random.js';
import type { UpstreamEndpoint } from './endpoint.js';

/** The balancers a pool can be given by name (see the guide's "Which one"). */
export type BalancerName =
  'round-robin' | 'weighted-round-robin' | 'least-request' | 'random' | 'rendezvous' | 'maglev' | 'bounded-load';

/**
 * Builds a pool's balancer. The pool passes the accessors (`id`, and a `weight` that is 0 for an
 * endpoint it keeps out of picks) and its `random`; any balancer factory of this package fits
 * as is, or wrapped to set its own options.
 *
 * @example
 * ```ts
 * import { createMaglev, createUpstreamPool, type PoolBalancerFactory } from '@portcullis/router';
 *
 * const balancer: PoolBalancerFactory = (options) => createMaglev({ ...options, tableSize: 5_003 });
 * const pool = createUpstreamPool({ name: 'sessions', endpoints, balancer });
 * ```
 */
export type PoolBalancerFactory = (
  options: BalancerOptions<UpstreamEndpoint> & RandomOption,
) => Balancer<UpstreamEndpoint>;

const FACTORIES: Readonly<Record<BalancerName, PoolBalancerFactory>> = {
  'round-robin': createRoundRobin,
  'weighted-round-robin': createSmoothWeightedRoundRobin,
  'least-request': createLeastRequest,
  random: createWeightedRandom,
  rendezvous: createRendezvous,
  maglev: createMaglev,
  'bounded-load': createBoundedLoad,
};

/** Validates the `balancer` option (a name or a factory). Default `'least-request'`. */
export function balancerFactoryOption(balancer: BalancerName | PoolBalancerFactory | undefined): PoolBalancerFactory {
  if (typeof balancer === 'function') return balancer;
  return FACTORIES[oneOf(balancer ?? 'least-request', Object.keys(FACTORIES) as BalancerName[], 'balancer')];
}

/** Checks that a factory returned something shaped like a {@link Balancer}. */
export function checkedBalancer(balancer: unknown): Balancer<UpstreamEndpoint> {
  const candidate = balancer as Partial<Balancer<UpstreamEndpoint>> | null | undefined;
  if (
    typeof candidate?.pick !== 'function' ||
    typeof candidate.release !== 'function' ||
    typeof candidate.update !== 'function'
  ) {
    throw new InvalidOptionError('balancer', balancer, 'a factory returning a Balancer (pick, release, update)');
  }
  return candidate as Balancer<UpstreamEndpoint>;
}
