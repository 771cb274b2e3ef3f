/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns
 * the wait in ms from `now` (0 for a date in the past), or `undefined` when the value is neither.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from '@portcullis/circuit-breaker';
 *
 * parseRetryAfter('120', Date.now()); // 120000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')); // 60000
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The default way a retry learns the wait an upstream asked for, from an error or a result: a
 * finite `retryAfterMs` >= 0 property, or a `Retry-After` header on its `headers` or
 * `response.headers` (a `Headers` or a plain object), as a fetch `Response`, or most HTTP client
 * errors, carry it.
 */
export function defaultRetryAfter(value: unknown, now: number): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const direct = (value as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof direct === 'number' && Number.isFinite(direct) && direct >= 0) return direct;
  const holder = value as { headers?: unknown; response?: { headers?: unknown } | null };
  return headerValue(holder.headers, now) ?? headerValue(holder.response?.headers, now);
}

function headerValue(headers: unknown, now: number): number | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') {
    const header: unknown = get.call(headers, 'retry-after');
    return typeof header === 'string' ? parseRetryAfter(header, now) : undefined;
  }
  const header = (headers as Record<string, unknown>)['retry-after'];
  return typeof header === 'string' ? parseRetryAfter(header, now) : undefined;
}
