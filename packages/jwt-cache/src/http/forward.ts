import { InvalidOptionError } from '@portcullis/core';
import type { VerifiedJwt } from '../verified.js';

/**
 * Which claim a forwarded header carries:
 *
 * - a claim name (`'sub'`), or a dotted path into nested claims (`'org.id'`); a claim whose own
 *   name contains dots (`'https://example.com/roles'`) is found by its name first;
 * - an array of names, one per level (`['https://example.com/claims', 'tenant']`);
 * - a function of the verified token returning the value.
 *
 * Values are sent as text in one reversible encoding: strings,
 * numbers and booleans (in decimal), objects as JSON, each percent-encoded (RFC 3986: every UTF-8
 * byte outside `A–Z a–z 0–9 - . _ ~`); arrays as their elements so encoded, joined with the
 * separator (`,` by default), which the encoding never leaves in an element. An upstream gets the
 * exact claim back with `decodeURIComponent` (per element, after splitting at the separator, for
 * arrays). A string that is not well-formed Unicode (a lone surrogate, which no UTF-8 can carry)
 * cannot travel: the guard refuses the token (`401`, `ERR_JWT_CACHE_CLAIM`) rather than forward a
 * changed value. A missing claim sends no header (and any copy the client sent is still removed).
 *
 * @example
 * ```ts
 * import type { ClaimPath } from '@portcullis/jwt-cache';
 *
 * const forwardClaims: Record<string, ClaimPath> = {
 *   'x-user-id': 'sub',
 *   'x-tenant-id': 'org.id',
 *   'x-roles': ['https://example.com/claims', 'roles'],
 *   'x-plan': (jwt) => jwt.payload['plan'] ?? 'free',
 * };
 * ```
 */
export type ClaimPath = string | readonly string[] | ((jwt: VerifiedJwt) => unknown);

// Names a forwarded identity must never overwrite: framing, routing and the credentials themselves.
const RESERVED = new Set([
  'authorization',
  'cookie',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-authorization',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** A header name, lower-cased, checked to be a valid and safe name to set. */
export function headerName(value: unknown, option: string): string {
  const name = anyHeaderName(value, option);
  if (RESERVED.has(name)) {
    throw new InvalidOptionError(option, value, 'a header name other than framing or credential headers');
  }
  return name;
}

/** A syntactically valid header name, lower-cased. */
export function anyHeaderName(value: unknown, option: string): string {
  const name = typeof value === 'string' ? value.toLowerCase() : '';
  if (!TOKEN.test(name)) throw new InvalidOptionError(option, value, 'a valid HTTP header name');
  return name;
}

/** A claim's value read along a path, through own properties only. */
export function claimAt(jwt: VerifiedJwt, path: ClaimPath): unknown {
  if (typeof path === 'function') return path(jwt);
  const payload = jwt.payload as Readonly<Record<string, unknown>>;
  if (typeof path === 'string') {
    if (Object.hasOwn(payload, path)) return payload[path];
    return walk(payload, path.split('.'));
  }
  return walk(payload, path);
}

function walk(root: unknown, steps: readonly string[]): unknown {
  let current = root;
  for (const step of steps) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** What {@link headerValue} answers for a value that cannot travel as header text. */
export const UNFORWARDABLE: unique symbol = Symbol('unforwardable');

/**
 * A claim's value as header text, `undefined` for no header, or {@link UNFORWARDABLE} when a string
 * in it is not well-formed Unicode.
 */
export function headerValue(value: unknown, separator: string): string | typeof UNFORWARDABLE | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return encodeHeaderValue(scalar(value)) ?? UNFORWARDABLE;
  const parts: string[] = [];
  for (const item of value as readonly unknown[]) {
    const part = encodeHeaderValue(scalar(item));
    if (part === undefined) return UNFORWARDABLE;
    parts.push(part);
  }
  return parts.join(separator);
}

// RFC 3986 unreserved characters: the only ones sent as they are.
const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
// encodeURIComponent leaves these sub-delimiters as they are; the encoding here does not.
const SUB_DELIMS_KEPT = /[!'()*]/g;
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The one encoding of forwarded values: the UTF-8 bytes of every character outside RFC 3986's
 * unreserved set (`A–Z a–z 0–9 - . _ ~`) as `%XX`, so the value is printable ASCII without spaces
 * (nothing for HTTP to trim, fold or misread), `%` itself is always encoded (so `%61` arrives as
 * `%2561`, never as `a`), and `decodeURIComponent` gives back exactly the original. `undefined`
 * for a string that is not well-formed Unicode (a lone surrogate has no UTF-8 form).
 *
 * @example
 * ```ts
 * encodeHeaderValue(' admin '); // '%20admin%20'
 * encodeHeaderValue('%61dmin'); // '%2561dmin'
 * encodeHeaderValue('Zoë'); // 'Zo%C3%AB'
 * ```
 */
export function encodeHeaderValue(text: string): string | undefined {
  if (UNRESERVED.test(text)) return text;
  if (LONE_SURROGATE.test(text)) return undefined;
  return encodeURIComponent(text).replace(SUB_DELIMS_KEPT, percent);
}

function percent(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
}

/** A separator of forwarded arrays: visible ASCII the encoding never leaves in an element. */
export function arraySeparator(value: unknown, option: string): string {
  if (typeof value === 'string' && /^[!-~]{1,8}$/.test(value) && !/[A-Za-z0-9\-._~%]/.test(value)) return value;
  throw new InvalidOptionError(
    option,
    value,
    'one to eight visible ASCII characters other than letters, digits, "-", ".", "_", "~" and "%"',
  );
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  // JSON.stringify answers undefined for functions and symbols, whatever its type says. It escapes
  // lone surrogates (ES2019), so an object always has a well-formed text.
  const json = JSON.stringify(value) as string | undefined;
  return json ?? '';
}
