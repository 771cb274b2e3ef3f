import { isUtf8 } from 'node:buffer';
import { JwtVerificationError } from '../errors.js';

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * True for unpadded base64url that is the one encoding of its bytes. Decoders ignore the unused
 * low bits of the last character; requiring them to be zero means one signed token has exactly one
 * spelling (a cache hit then implies the very same bytes). Checked without decoding.
 */
export function canonical(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 1 || !SEGMENT.test(segment)) return false;
  if (rest === 0) return true;
  const last = ALPHABET.indexOf(segment.charAt(segment.length - 1));
  // 2 characters carry 1 byte (4 unused bits), 3 characters carry 2 bytes (2 unused bits).
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

// Segments are decoded into one reused buffer (decoding is synchronous) rather than a new one per
// segment; longer ones (only with a raised maxTokenBytes) get their own.
const SCRATCH = Buffer.allocUnsafeSlow(6_144);
const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * Decodes a token segment holding a JSON object: canonical base64url, then strict UTF-8 (as jose
 * decodes: invalid sequences are refused, not replaced), then JSON. Throws a `malformed` error.
 */
export function decodeObject(segment: string, part: 'header' | 'payload'): Readonly<Record<string, unknown>> {
  if (!canonical(segment)) throw malformed(`The token ${part} is not canonical base64url`);
  const fits = segment.length <= (SCRATCH.length / 3) * 4;
  const bytes = fits ? SCRATCH : Buffer.from(segment, 'base64url');
  const size = fits ? SCRATCH.write(segment, 'base64url') : bytes.length;
  const text = bytes.toString('utf8', 0, size);
  // Decoding replaces each invalid sequence with U+FFFD: only a text holding one needs the
  // (slower) check of the bytes, which tells a replacement from a U+FFFD that was sent.
  if (text.includes(REPLACEMENT_CHARACTER) && !isUtf8(bytes.subarray(0, size))) {
    throw malformed(`The token ${part} is not UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw malformed(`The token ${part} is not JSON`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`The token ${part} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** A `malformed` verification error. */
export function malformed(message: string, cause?: unknown): JwtVerificationError {
  return new JwtVerificationError('malformed', message, { cause });
}
