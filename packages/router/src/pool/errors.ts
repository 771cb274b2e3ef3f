import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * A discovery source reported an empty endpoint set. The pool does not apply it: an empty answer
 * is far more often a broken source (a DNS name with no records for a moment, a registry that lost
 * its data) than an upstream really scaled to zero, and applying it would fail every request. The
 * pool keeps its last good set and emits this in a `discoveryError` event. To drain a pool on
 * purpose, call `pool.update([])`.
 *
 * @example
 * ```ts
 * import { createUpstreamPool, isEmptyDiscoveryError } from '@portcullis/router';
 *
 * const pool = createUpstreamPool({ name: 'users', discovery });
 * pool.events.on('discoveryError', ({ error }) => {
 *   if (isEmptyDiscoveryError(error)) console.warn('users: discovery answered no endpoint; keeping the last set');
 * });
 * ```
 */
export class EmptyDiscoveryError extends PortcullisError {
  /** Brand checked by {@link isEmptyDiscoveryError}. */
  readonly isEmptyDiscoveryError = true as const;
  /** The pool's name. */
  readonly pool: string;
  constructor(pool: string) {
    super(
      'ERR_PORTCULLIS_ROUTER_EMPTY_DISCOVERY',
      `Discovery for pool ${JSON.stringify(pool)} reported no endpoint; the last good set is kept`,
    );
    this.pool = pool;
  }
}

/**
 * True when `value` is an {@link EmptyDiscoveryError}.
 *
 * @example
 * ```ts
 * import { isEmptyDiscoveryError } from '@portcullis/router';
 *
 * isEmptyDiscoveryError(new Error('x')); // false
 * ```
 */
export function isEmptyDiscoveryError(value: unknown): value is EmptyDiscoveryError {
  return hasBrand(value, 'isEmptyDiscoveryError');
}
