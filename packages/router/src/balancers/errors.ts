import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * An endpoint set a balancer refuses (from its `endpoints` option or from `update`): an endpoint
 * without a usable id (no `id` accessor and not a string, or an empty id), two endpoints with the
 * same id, a weight that is not a finite number >= 0, or more than `MAX_ENDPOINTS` endpoints.
 * `index` is the position of the offending endpoint in the list (-1 for the list as a whole). The
 * balancer keeps its previous set.
 *
 * @example
 * ```ts
 * import { createRoundRobin, isInvalidEndpointsError } from '@portcullis/router';
 *
 * const balancer = createRoundRobin({ endpoints: ['a:80'] });
 * try {
 *   balancer.update(['a:80', 'a:80']);
 * } catch (error) {
 *   if (isInvalidEndpointsError(error)) console.log(error.index, error.reason); // 1 'duplicate id "a:80"'
 * }
 * balancer.pick(); // 'a:80': the old set stays
 * ```
 */
export class InvalidEndpointsError extends PortcullisError {
  /** Brand checked by {@link isInvalidEndpointsError}. */
  readonly isInvalidEndpointsError = true as const;
  /** Position of the offending endpoint in the list, or -1 when the list as a whole is refused. */
  readonly index: number;
  /** What is wrong, for a human. */
  readonly reason: string;
  constructor(index: number, reason: string, options?: ErrorOptions) {
    super(
      'ERR_PORTCULLIS_ROUTER_INVALID_ENDPOINTS',
      index < 0 ? `Invalid endpoint set: ${reason}` : `Invalid endpoint at index ${String(index)}: ${reason}`,
      options,
    );
    this.index = index;
    this.reason = reason;
  }
}

/**
 * True when `value` is an {@link InvalidEndpointsError}.
 *
 * @example
 * ```ts
 * import { isInvalidEndpointsError } from '@portcullis/router';
 *
 * isInvalidEndpointsError(new Error('x')); // false
 * ```
 */
export function isInvalidEndpointsError(value: unknown): value is InvalidEndpointsError {
  return hasBrand(value, 'isInvalidEndpointsError');
}
