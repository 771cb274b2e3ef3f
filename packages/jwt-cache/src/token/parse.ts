import { isUtf8 } from 'node:buffer';
import { JwtVerificationError } from '../errors.js';

/**
 * What is read from a token before any key is looked up. Nothing here is trusted until the
 * signature over `jws` has verified; then `header` and `payload` are what it covers (each segment
 * is canonical base64url, which has one decoding, and strict UTF-8 JSON).
 */
export interface ParsedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly alg: string;
  readonly kid: string | undefined;
  readonly crit: readonly string[] | undefined;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The three segments, as jose's `flattenedVerify` takes them. */
  readonly jws: { readonly protected: string; readonly payload: string; readonly signature: string };
}

/** What to do with header parameters that carry a key or say where to fetch one. */
export type KeyHeaderPolicy = 'reject' | 'ignore';

// Header parameters that carry a key or point at one; keys only ever come from the configuration.
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Splits and decodes a compact JWS, refusing what must never reach key lookup or crypto: anything
 * over `maxBytes` (checked first, before any parsing), JWE and other shapes, `alg: none`, embedded
 * or remote keys (unless ignored), unencoded payloads and malformed `crit`.
 */
export function parseToken(token: unknown, maxBytes: number, keyHeaders: KeyHeaderPolicy): ParsedToken {
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
  const header = decodeObject(encodedHeader, 'header');
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg === '') throw malformed('The token header has no "alg"');
  if (alg.toLowerCase() === 'none') {
    throw new JwtVerificationError('algorithm', 'Unsecured tokens (alg "none") are never accepted');
  }
  if (keyHeaders === 'reject') {
    for (const name of KEY_HEADERS) {
      if (header[name] !== undefined) {
        throw new JwtVerificationError(
          'forbidden_header',
          `The token header carries "${name}"; keys are only taken from the configured key sets`,
        );
      }
    }
  }
  const b64 = header['b64'];
  if (b64 !== undefined && b64 !== true) {
    throw new JwtVerificationError('forbidden_header', 'Unencoded payloads ("b64": false) are not accepted');
  }
  const kid = header['kid'];
  if (kid !== undefined && typeof kid !== 'string') throw malformed('The token header "kid" is not a string');
  const crit = checkCrit(header);
  const signature = token.slice(second + 1);
  if (!canonical(signature)) throw malformed('The token signature is not canonical base64url');
  const encodedPayload = token.slice(first + 1, second);
  const payload = decodeObject(encodedPayload, 'payload');
  return { header, alg, kid, crit, payload, jws: { protected: encodedHeader, payload: encodedPayload, signature } };
}

function checkCrit(header: Readonly<Record<string, unknown>>): readonly string[] | undefined {
  const crit = header['crit'];
  if (crit === undefined) return undefined;
  if (
    !Array.isArray(crit) ||
    crit.length === 0 ||
    !crit.every((name) => typeof name === 'string' && name !== '' && Object.hasOwn(header, name)) ||
    new Set(crit).size !== crit.length
  ) {
    throw malformed('The token header "crit" must list distinct parameters present in the header');
  }
  return crit as string[];
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * True for unpadded base64url that is the one encoding of its bytes. Decoders ignore the unused
 * low bits of the last character; requiring them to be zero means one signed token has exactly one
 * spelling (a cache hit then implies the very same bytes). Checked without decoding.
 */
function canonical(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 1 || !SEGMENT.test(segment)) return false;
  if (rest === 0) return true;
  const last = ALPHABET.indexOf(segment.charAt(segment.length - 1));
  // 2 characters carry 1 byte (4 unused bits), 3 characters carry 2 bytes (2 unused bits).
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

function decodeObject(segment: string, part: 'header' | 'payload'): Readonly<Record<string, unknown>> {
  if (!canonical(segment)) throw malformed(`The token ${part} is not canonical base64url`);
  const bytes = Buffer.from(segment, 'base64url');
  // Strict, as jose decodes: invalid UTF-8 is refused, not replaced with U+FFFD.
  if (!isUtf8(bytes)) throw malformed(`The token ${part} is not UTF-8`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw malformed(`The token ${part} is not JSON`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`The token ${part} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function malformed(message: string, cause?: unknown): JwtVerificationError {
  return new JwtVerificationError('malformed', message, { cause });
}
