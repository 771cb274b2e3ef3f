import type { GatewayRequest } from '@portcullis/core';

/**
 * Where the guard reads the token:
 *
 * - `'bearer'`: `Authorization: Bearer <token>` (RFC 6750 §2.1).
 * - `{ header, scheme? }`: another header, holding the bare token, or `<scheme> <token>` when
 *   `scheme` is given.
 * - `{ cookie }`: a cookie's value.
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

/** `<scheme> <token>`; another scheme counts as no token (it is someone else's credential). */
function schemeReader(header: string, scheme: string): TokenReader {
  return function readScheme(req) {
    const value = req.header(header);
    if (value === undefined) return MISSING;
    const trimmed = value.trim();
    const space = trimmed.indexOf(' ');
    const given = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
    if (given !== scheme) return MISSING;
    const token = space === -1 ? '' : trimmed.slice(space + 1).trim();
    // Repeated headers arrive joined with ", ": never a valid token, so never guessed at.
    return B64TOKEN.test(token) ? { token } : { invalid: `The ${header} header does not hold a single bearer token` };
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}
