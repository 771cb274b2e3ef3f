/** The media type of RFC 9457 problem details. */
export const PROBLEM_JSON = 'application/problem+json';

/** An RFC 9457 problem details object with `type: 'about:blank'`, as Portcullis guards send them. */
export interface ProblemDetails {
  readonly type: 'about:blank';
  /** The status phrase (RFC 9457 §4.2.1: with `about:blank` the title is the status text). */
  readonly title: string;
  readonly status: number;
  /** What went wrong with this request, for a human; never echoes unchecked client input. */
  readonly detail: string;
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * An RFC 9457 problem details body (`about:blank`, the status phrase as title), with extension
 * members (which cannot replace the standard ones). Send it with `content-type: application/problem+json`
 * ({@link PROBLEM_JSON}).
 *
 * @example
 * ```ts
 * import { problemDetails, PROBLEM_JSON, respond } from '@portcullis/core';
 *
 * const verdict = respond(429, problemDetails(429, 'Slow down', { limitedBy: 'perMinute' }), {
 *   'content-type': PROBLEM_JSON,
 * });
 * ```
 */
export function problemDetails(status: number, detail: string): ProblemDetails;
/**
 * The same, with extension members (e.g. `{ limitedBy: 'perMinute' }`).
 *
 * @example
 * ```ts
 * import { problemDetails } from '@portcullis/core';
 *
 * problemDetails(503, 'The orders service is failing', { breaker: 'orders' });
 * ```
 */
export function problemDetails<const Extensions extends Readonly<Record<string, unknown>>>(
  status: number,
  detail: string,
  extensions: Extensions,
): ProblemDetails & Extensions;
export function problemDetails(
  status: number,
  detail: string,
  extensions?: Readonly<Record<string, unknown>>,
): ProblemDetails {
  const body: ProblemDetails = { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail };
  // Standard members first (key order reads well), and they win over extensions of the same name.
  return extensions === undefined ? body : { ...body, ...extensions, ...body };
}
