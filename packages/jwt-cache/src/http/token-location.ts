import type { GatewayRequest } from '@portcullis/core';

/**
 * Where the guard reads the token:
 *
 * - `'bearer'`: `Authorization: Bearer <token>` (RFC 6750 §2.1).
 * - `{ header, scheme? }`: another header, holding the bare token, or `<scheme> <token>` when
 *   `scheme` is given.
 * - `{ cookie }`: a cookie's value.
 *
 * A location holding more than one credential — the header sent twice, the cookie sent twice — is
 * refused (`400 invalid_request`), whichever copy holds a valid token: an upstream or another
 * proxy may read the other copy.
 * - a function of the request (return `undefined` when it has no token).
 *
 * @example
 * ```ts
 * import type { TokenLocation } from '@portcullis/jwt-cache';
 *
 * // Browsers send the session cookie; API clients the Authorization header.
 * const token: TokenLocation[] = ['bearer', { cookie: '__Host-access_token' }];
 * ```
 */
export type TokenLocation =
  | 'bearer'
  | { readonly header: string; readonly scheme?: string | undefined }
  | { readonly cookie: string }
  | ((req: GatewayRequest) => string | undefined);

/** What a request carries: a token, nothing, or a credential that is not a well-formed token. */
export type Found = { readonly token: string } | { readonly missing: true } | { readonly invalid: string };

export const MISSING: Found = Object.freeze({ missing: true as const });

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Reads the token from the first location that has a credential. */
export type TokenReader = (req: GatewayRequest) => Found;

export function tokenReader(locations: readonly TokenLocation[]): TokenReader {
  const readers = locations.map(readerFor);
  if (readers.length === 1) return readers[0] as TokenReader;
  return function readToken(req) {
    for (const read of readers) {
      const found = read(req);
      if (!('missing' in found)) return found;
    }
    return MISSING;
  };
}

function readerFor(location: TokenLocation): TokenReader {
  if (typeof location === 'function') {
    return (req) => {
      const token = location(req);
      if (token === undefined || token === '') return MISSING;
      return B64TOKEN.test(token) ? { token } : { invalid: 'The access token is not a token68 string' };
    };
  }
  if (location === 'bearer') return schemeReader('authorization', 'bearer');
  if ('cookie' in location) {
    const name = location.cookie;
    return (req) => {
      const value = cookieValue(req.header('cookie'), name);
      if (value === undefined || value === '') return MISSING;
      if (value === SENT_TWICE) return { invalid: `The ${name} cookie is sent more than once` };
      return B64TOKEN.test(value) ? { token: value } : { invalid: `The ${name} cookie does not hold a token` };
    };
  }
  const header = location.header.toLowerCase();
  if (location.scheme !== undefined) return schemeReader(header, location.scheme.toLowerCase());
  return (req) => {
    const value = req.header(header)?.trim();
    if (value === undefined || value === '') return MISSING;
    return B64TOKEN.test(value) ? { token: value } : { invalid: `The ${header} header does not hold a single token` };
  };
}

/**
 * `<scheme> <token>`; another scheme counts as no token (it is someone else's credential).
 * Repeated headers arrive joined with `", "` (every adapter joins every copy, `Authorization`
 * included): never one token68, so refused rather than guessed at, and so is our scheme after a
 * comma behind another credential (`Basic …, Bearer …`).
 */
function schemeReader(header: string, scheme: string): TokenReader {
  const invalid: Found = { invalid: `The ${header} header does not hold a single ${scheme} token` };
  const again = new RegExp(`,\\s*${escapeRegExp(scheme)}(?:\\s|$)`, 'i');
  return function readScheme(req) {
    const value = req.header(header);
    if (value === undefined) return MISSING;
    const trimmed = value.trim();
    const space = trimmed.indexOf(' ');
    const given = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
    if (given !== scheme) return again.test(trimmed) ? invalid : MISSING;
    const token = space === -1 ? '' : trimmed.slice(space + 1).trim();
    return B64TOKEN.test(token) ? { token } : invalid;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What {@link cookieValue} answers when the cookie is sent more than once. */
const SENT_TWICE: unique symbol = Symbol('sent twice');

/**
 * The value of the cookie `name`, or {@link SENT_TWICE}: browsers send two cookies of one name
 * (other paths or domains, or one planted by a sibling subdomain) in an order servers must not
 * rely on (RFC 6265 §5.4), and an upstream may pick the other one, so neither is guessed at.
 */
function cookieValue(header: string | undefined, name: string): string | typeof SENT_TWICE | undefined {
  if (header === undefined) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return SENT_TWICE;
    const value = part.slice(eq + 1).trim();
    found = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return found;
}
