import { JwtVerificationError } from '../errors.js';
import type { HeaderMemo } from './header-memo.js';
import type { TokenHeader } from './header.js';
import { canonical, decodeObject, malformed } from './segment.js';

/**
 * What is read from a token before any key is looked up. Nothing here is trusted until the
 * signature over `jws` has verified; then `header` and `payload` are what it covers (each segment
 * is canonical base64url, which has one decoding, and strict UTF-8 JSON).
 */
export interface ParsedToken extends TokenHeader {
  readonly payload: Readonly<Record<string, unknown>>;
  /** The three segments, as jose's `flattenedVerify` takes them. */
  readonly jws: { readonly protected: string; readonly payload: string; readonly signature: string };
}

/**
 * Splits and decodes a compact JWS, refusing what must never reach key lookup or crypto: anything
 * over `maxBytes` (checked first, before any parsing), JWE and other shapes, a header `readHeader`
 * refuses, a signature that is not canonical base64url and a payload that is not a JSON object.
 */
export function parseToken(token: unknown, maxBytes: number, headers: HeaderMemo): ParsedToken {
  if (typeof token !== 'string') throw malformed('The token is not a string');
  if (token.length > maxBytes) {
    throw new JwtVerificationError('too_large', `The token is longer than ${maxBytes} bytes`);
  }
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) {
    throw malformed('The token is not a compact JWS (three dot-separated parts)');
  }
  const encodedHeader = token.slice(0, first);
  const { header, alg, kid, crit } = headers.read(encodedHeader);
  const signature = token.slice(second + 1);
  if (!canonical(signature)) throw malformed('The token signature is not canonical base64url');
  const encodedPayload = token.slice(first + 1, second);
  const payload = decodeObject(encodedPayload, 'payload');
  return { header, alg, kid, crit, payload, jws: { protected: encodedHeader, payload: encodedPayload, signature } };
}
