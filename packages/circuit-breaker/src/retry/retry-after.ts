const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const MONTH_INDEX: ReadonlyMap<string, number> = new Map(MONTHS.split('|').map((name, i) => [name, i]));
const DAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

// The three forms of an HTTP-date (RFC 9110 §5.6.7), case-sensitive, single spaces:
/** IMF-fixdate, the preferred one: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTHS}) (\\d{4}) ${TIME} GMT$`);
/** Obsolete RFC 850 form: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTHS})-(\\d{2}) ${TIME} GMT$`,
);
/** Obsolete asctime form: `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space). */
const ASCTIME_DATE = new RegExp(`^(?:${DAY}) (${MONTHS}) (\\d{2}| \\d) ${TIME} (\\d{4})$`);

/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3): delay-seconds (digits only) or an
 * HTTP-date in one of its three forms (§5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime
 * forms), exactly as the grammar has them: case-sensitive, `GMT`, a real calendar date and time.
 * Returns the wait in ms from `now` (0 for a date in the past), or `undefined` for anything else:
 * `Date.parse` would read `'abc 1'` as a date in 2001, ISO 8601, other zones, or a day that does
 * not exist, and a malformed header must not decide how long a retry waits.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from '@portcullis/circuit-breaker';
 *
 * parseRetryAfter('120', Date.now()); // 120000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')); // 60000
 * parseRetryAfter('abc 1', Date.now()); // undefined
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  // Only HTTP's optional whitespace (spaces and tabs) surrounds a field value.
  const text = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = parseHttpDate(text, now);
  return date === undefined ? undefined : Math.max(0, date - now);
}

/** An HTTP-date in any of its three forms, as ms since the epoch; `undefined` when it is not one. */
function parseHttpDate(text: string, now: number): number | undefined {
  let match = IMF_FIXDATE.exec(text);
  if (match !== null) {
    const [, day, month, year, hour, minute, second] = match as unknown as string[];
    return utc(Number(year), month as string, Number(day), Number(hour), Number(minute), Number(second));
  }
  match = RFC850_DATE.exec(text);
  if (match !== null) {
    const [, day, month, yy, hour, minute, second] = match as unknown as string[];
    const year = rfc850Year(Number(yy), new Date(now).getUTCFullYear());
    return utc(year, month as string, Number(day), Number(hour), Number(minute), Number(second));
  }
  match = ASCTIME_DATE.exec(text);
  if (match !== null) {
    const [, month, day, hour, minute, second, year] = match as unknown as string[];
    return utc(Number(year), month as string, Number(day), Number(hour), Number(minute), Number(second));
  }
  return undefined;
}

/**
 * RFC 9110 §5.6.7: a two-digit year that would be more than 50 years in the future is the most
 * recent past year with those digits; so the year is the one within 50 years of now.
 */
function rfc850Year(yy: number, currentYear: number): number {
  const year = currentYear - (currentYear % 100) + yy;
  if (year > currentYear + 50) return year - 100;
  if (year <= currentYear - 50) return year + 100;
  return year;
}

/** The UTC time, or `undefined` for a date or time that does not exist (31 Feb, 24:00:00). */
function utc(
  year: number,
  month: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  const monthIndex = MONTH_INDEX.get(month) as number;
  // 60 is a leap second (RFC 9110: 00:00:00 - 23:59:60).
  if (hour > 23 || minute > 59 || second > 60 || day < 1) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC, which reads the years 0-99 as 1900-1999.
  date.setUTCFullYear(year, monthIndex, day);
  if (date.getUTCMonth() !== monthIndex) return undefined; // 31 Feb rolled over into March
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
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
