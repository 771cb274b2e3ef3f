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
 * Values are sent as text: strings as they are, numbers and booleans in decimal, arrays joined
 * with the separator (`,` by default), objects as JSON. A value with characters outside printable
 * ASCII is percent-encoded (`encodeURIComponent`). A missing claim sends no header (and any copy the
 * client sent is still removed).
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

/** A claim value as header text, or `undefined` for no header. */
export function headerValue(value: unknown, separator: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = Array.isArray(value) ? value.map(scalar).join(separator) : scalar(value);
  return /^[\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text);
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // JSON.stringify answers undefined for functions and symbols, whatever its type says.
  const json = JSON.stringify(value) as string | undefined;
  return json ?? '';
}
