import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * A request whose framing is ambiguous (the classic request-smuggling shapes): both
 * `Content-Length` and `Transfer-Encoding`, several `Content-Length` or `Transfer-Encoding`
 * headers, a length that is not digits, a transfer coding other than `chunked`, chunked on
 * HTTP/1.0, or a header name that is not a token. Answered `400 Bad Request` with
 * `Connection: close`; the request never reaches an upstream. `reason` says which rule.
 *
 * @example
 * ```ts
 * import { createRouteTable, isRequestFramingError, type RouterGuardOptions } from '@portcullis/router';
 *
 * // The `router` of createForwardHandler: its onComplete hears how each request ended.
 * const router: RouterGuardOptions = {
 *   table: createRouteTable([{ name: 'api', path: '/api', prefix: true }]),
 *   onComplete: ({ outcome }) => {
 *     if (isRequestFramingError(outcome.error)) console.warn('smuggling attempt:', outcome.error.reason);
 *   },
 * };
 * ```
 */
export class RequestFramingError extends PortcullisError {
  /** Brand checked by {@link isRequestFramingError}. */
  readonly isRequestFramingError = true as const;
  /** Which framing rule the request breaks, for a human. */
  readonly reason: string;
  constructor(reason: string) {
    super('ERR_PORTCULLIS_ROUTER_REQUEST_FRAMING', `Ambiguous request framing: ${reason}`);
    this.reason = reason;
  }
}

/**
 * True when `value` is a {@link RequestFramingError}.
 *
 * @example
 * ```ts
 * import { isRequestFramingError } from '@portcullis/router';
 *
 * isRequestFramingError(new Error('x')); // false
 * ```
 */
export function isRequestFramingError(value: unknown): value is RequestFramingError {
  return hasBrand(value, 'isRequestFramingError');
}

/**
 * The upstream's endpoint picker had no endpoint to offer (an empty or fully ejected pool):
 * answered `503 Service Unavailable`.
 *
 * @example
 * ```ts
 * import { createForwarder, isNoEndpointError } from '@portcullis/router';
 *
 * const forwarder = createForwarder();
 * const empty = { acquire: () => undefined };
 * // forwarder.forward(req, res, { endpoints: empty, path: '/' }, (result) => …) answers 503, and:
 * const onDone = (result: { error?: unknown }) => isNoEndpointError(result.error); // true
 * ```
 */
export class NoEndpointError extends PortcullisError {
  /** Brand checked by {@link isNoEndpointError}. */
  readonly isNoEndpointError = true as const;
  constructor() {
    super('ERR_PORTCULLIS_ROUTER_NO_ENDPOINT', 'The upstream has no endpoint to send the request to');
  }
}

/**
 * True when `value` is a {@link NoEndpointError}.
 *
 * @example
 * ```ts
 * import { isNoEndpointError, NoEndpointError } from '@portcullis/router';
 *
 * isNoEndpointError(new NoEndpointError()); // true
 * ```
 */
export function isNoEndpointError(value: unknown): value is NoEndpointError {
  return hasBrand(value, 'isNoEndpointError');
}

/**
 * Why an exchange with an endpoint failed; see `EndpointOutcome.failure`.
 *
 * @example
 * ```ts
 * import type { UpstreamFailure } from '@portcullis/router';
 *
 * const endpointsFault = (failure: UpstreamFailure) => failure !== 'aborted';
 * ```
 */
export type UpstreamFailure = 'refused' | 'reset' | 'timeout' | 'aborted' | 'other';

/**
 * An exchange with an endpoint failed: it refused the connection (`refused`, answered 502), closed
 * it mid-exchange (`reset`, 502), did not connect, answer or send its body in time (`timeout`,
 * 504), or failed otherwise (`other`, 502); or the client went away (`aborted`). `cause` is
 * undici's or Node's error; `endpoint` the endpoint's id.
 *
 * @example
 * ```ts
 * import { createRouteTable, isUpstreamFailureError, type RouterGuardOptions } from '@portcullis/router';
 *
 * const router: RouterGuardOptions = {
 *   table: createRouteTable([{ name: 'api', path: '/api', prefix: true }]),
 *   onComplete: ({ outcome }) => {
 *     if (isUpstreamFailureError(outcome.error)) console.warn(outcome.error.endpoint, outcome.error.failure);
 *   },
 * };
 * ```
 */
export class UpstreamFailureError extends PortcullisError {
  /** Brand checked by {@link isUpstreamFailureError}. */
  readonly isUpstreamFailureError = true as const;
  /** The kind of failure. */
  readonly failure: UpstreamFailure;
  /** The endpoint's id. */
  readonly endpoint: string;
  constructor(failure: UpstreamFailure, endpoint: string, cause: unknown) {
    super('ERR_PORTCULLIS_ROUTER_UPSTREAM_FAILURE', `Upstream ${endpoint}: ${failure}`, { cause });
    this.failure = failure;
    this.endpoint = endpoint;
  }
}

/**
 * True when `value` is an {@link UpstreamFailureError}.
 *
 * @example
 * ```ts
 * import { isUpstreamFailureError } from '@portcullis/router';
 *
 * isUpstreamFailureError(new Error('x')); // false
 * ```
 */
export function isUpstreamFailureError(value: unknown): value is UpstreamFailureError {
  return hasBrand(value, 'isUpstreamFailureError');
}
