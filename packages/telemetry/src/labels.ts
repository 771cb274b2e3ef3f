/**
 * A response status as a bounded label: its class, `'1xx'` to `'5xx'`, or `'other'` outside 100–599.
 *
 * @example
 * ```ts
 * import type { StatusClass } from '@portcullis/telemetry';
 *
 * const serverError: StatusClass = '5xx';
 * ```
 */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'other';

/** The classes by hundreds: no string built per response. */
const CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/**
 * The class of an HTTP status, for a label with five values instead of hundreds.
 *
 * @example
 * ```ts
 * import { statusClass } from '@portcullis/telemetry';
 *
 * statusClass(429); // '4xx'
 * statusClass(0); // 'other'
 * ```
 */
export function statusClass(status: number): StatusClass {
  if (!Number.isInteger(status) || status < 100 || status > 599) return 'other';
  return CLASSES[Math.floor(status / 100) - 1] as StatusClass;
}

/** The methods of RFC 9110 and PATCH (RFC 5789): OpenTelemetry's list of known methods. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

/**
 * The request method as a bounded label: a known method as it is, anything else `'_OTHER'` (the
 * OpenTelemetry convention), so a client inventing methods cannot create series. Case-sensitive,
 * as the methods are: `'get'` is `'_OTHER'`.
 *
 * @example
 * ```ts
 * import { methodLabel } from '@portcullis/telemetry';
 *
 * methodLabel('GET'); // 'GET'
 * methodLabel('PROPFIND'); // '_OTHER'
 * ```
 */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}
