import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * An endpoint a discovery source refuses: a host that is neither an IP literal nor a host name, a
 * port outside 1–65535, a weight that is not a finite number >= 0, a zone or metadata that is not
 * made of strings, two endpoints with the same host and port, or more than `MAX_ENDPOINTS` of them.
 * `index` is the position of the offending endpoint (-1 for the list as a whole).
 * `staticDiscovery` throws it; `functionDiscovery` reports it as the `cause` of a `DiscoveryError`
 * and keeps its last good set.
 *
 * @example
 * ```ts
 * import { isInvalidDiscoveredEndpointError, staticDiscovery } from '@portcullis/router';
 *
 * try {
 *   staticDiscovery([{ host: '10.0.0.1', port: 0 }]);
 * } catch (error) {
 *   if (isInvalidDiscoveredEndpointError(error)) console.log(error.index, error.reason); // 0 'port ...'
 * }
 * ```
 */
export class InvalidDiscoveredEndpointError extends PortcullisError {
  /** Brand checked by {@link isInvalidDiscoveredEndpointError}. */
  readonly isInvalidDiscoveredEndpointError = true as const;
  /** Position of the offending endpoint in the list, or -1 when the list as a whole is refused. */
  readonly index: number;
  /** What is wrong, for a human. */
  readonly reason: string;
  constructor(index: number, reason: string) {
    super(
      'ERR_PORTCULLIS_ROUTER_INVALID_DISCOVERED_ENDPOINT',
      index < 0 ? `Invalid endpoint list: ${reason}` : `Invalid endpoint at index ${String(index)}: ${reason}`,
    );
    this.index = index;
    this.reason = reason;
  }
}

/**
 * True when `value` is an {@link InvalidDiscoveredEndpointError}.
 *
 * @example
 * ```ts
 * import { isInvalidDiscoveredEndpointError } from '@portcullis/router';
 *
 * isInvalidDiscoveredEndpointError(new Error('x')); // false
 * ```
 */
export function isInvalidDiscoveredEndpointError(value: unknown): value is InvalidDiscoveredEndpointError {
  return hasBrand(value, 'isInvalidDiscoveredEndpointError');
}

/**
 * Why a refresh of a discovery source failed:
 *
 * - `not-found`: the name does not exist (DNS NXDOMAIN, `ENOTFOUND`).
 * - `empty`: the answer had no usable endpoint (DNS NODATA / `ENODATA`, SRV target `.`, every SRV
 *   target without an address, or a function that returned `[]`).
 * - `lookup-failed`: the DNS servers failed (SERVFAIL, REFUSED, unreachable, a malformed answer).
 * - `timeout`: no answer in time (DNS `ETIMEOUT` after every try, or the function's `timeoutMs`).
 * - `invalid`: the function returned something that is not a valid endpoint list (`cause` is an
 *   `InvalidDiscoveredEndpointError` or the value's description).
 * - `threw`: the function threw or rejected (`cause` is what it threw).
 *
 * @example
 * ```ts
 * import type { DiscoveryFailure } from '@portcullis/router';
 *
 * const page: DiscoveryFailure[] = ['not-found', 'lookup-failed'];
 * ```
 */
export type DiscoveryFailure = 'not-found' | 'empty' | 'lookup-failed' | 'timeout' | 'invalid' | 'threw';

/**
 * A refresh of a discovery source failed; the subscriber keeps its last good set and the source
 * tries again in `retryInMs`. Reported through the listener's `error`, never thrown.
 * `staleForMs` (how long ago the last good answer arrived, `undefined` before the first) is what
 * to alert on: a source that has been failing for minutes routes on an old picture.
 *
 * @example
 * ```ts
 * import { dnsDiscovery, isDiscoveryError } from '@portcullis/router';
 *
 * dnsDiscovery({ name: 'api.internal', port: 8080 }).subscribe({
 *   update: (endpoints) => pool.update(endpoints),
 *   error: (error) => {
 *     if (isDiscoveryError(error) && (error.staleForMs ?? 0) > 300_000) alert(error.message);
 *   },
 * });
 * ```
 */
export class DiscoveryError extends PortcullisError {
  /** Brand checked by {@link isDiscoveryError}. */
  readonly isDiscoveryError = true as const;
  /** The source, as in `dns A api.internal` or `function`. */
  readonly source: string;
  /** Why the refresh failed. */
  readonly failure: DiscoveryFailure;
  /** The `node:dns` error code (`ESERVFAIL`, `ENOTFOUND`, `ETIMEOUT`…) for DNS failures. */
  readonly dnsCode: string | undefined;
  /** Milliseconds since the last good answer (by the source's clock); `undefined` before the first. */
  readonly staleForMs: number | undefined;
  /** When the source tries again, in ms from now. */
  readonly retryInMs: number;
  constructor(
    source: string,
    failure: DiscoveryFailure,
    detail: string,
    details: {
      readonly dnsCode?: string | undefined;
      readonly staleForMs: number | undefined;
      readonly retryInMs: number;
      readonly cause?: unknown;
    },
  ) {
    super(
      'ERR_PORTCULLIS_ROUTER_DISCOVERY',
      `Discovery ${source} failed (${failure}): ${detail}; keeping the last good endpoints, retrying in ${String(details.retryInMs)} ms`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.source = source;
    this.failure = failure;
    this.dnsCode = details.dnsCode;
    this.staleForMs = details.staleForMs;
    this.retryInMs = details.retryInMs;
  }
}

/**
 * True when `value` is a {@link DiscoveryError}.
 *
 * @example
 * ```ts
 * import { isDiscoveryError } from '@portcullis/router';
 *
 * isDiscoveryError(new Error('x')); // false
 * ```
 */
export function isDiscoveryError(value: unknown): value is DiscoveryError {
  return hasBrand(value, 'isDiscoveryError');
}
