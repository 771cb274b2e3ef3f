import { createHash } from 'node:crypto';
import { InvalidKeyError } from './errors.js';

/**
 * Longest encoded key (see {@link normaliseKey}) kept as it is, in UTF-16 code units; a key whose
 * encoded form is longer is replaced by its hash, so client-chosen keys cannot grow memory or Redis
 * key size.
 */
export const MAX_RAW_KEY_LENGTH = 200;

/** Any character the encoding rewrites: the escape itself, hash-tag braces, any surrogate. */
const SPECIAL = /[%{}\uD800-\uDFFF]/;
/** A surrogate that is not half of a pair: not a character, and UTF-8 has no encoding for it. */
export const LONE_SURROGATE: RegExp = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** What is rewritten: `%`, `{`, `}` and lone surrogates (a surrogate pair is a character: kept). */
const ESCAPED = new RegExp(`[%{}]|${LONE_SURROGATE.source}`, 'g');

function escape(unit: string): string {
  if (unit === '%') return '%25';
  if (unit === '{') return '%7B';
  if (unit === '}') return '%7D';
  return `%u${unit.charCodeAt(0).toString(16).toUpperCase()}`;
}

/**
 * Validates a client key (or pool id) and encodes it as the identity both stores keep its state
 * under. The encoding is injective (distinct keys never share a counter) and its result is safe in a
 * Redis key: it never contains `{` or `}` (so it cannot change the Cluster hash tag), it is
 * well-formed UTF-16 (so its UTF-8 bytes on Redis are as distinct as the strings are in memory), and
 * it is at most {@link MAX_RAW_KEY_LENGTH} characters long:
 *
 * - `%`, `{`, `}` become `%25`, `%7B`, `%7D`, and a lone surrogate becomes `%u` + its 4 hex digits
 *   (`'\uD800'` → `%uD800`); every other character is kept. Most keys come out unchanged.
 * - when that is longer than 200 characters, the result is `%h` + the SHA-256 (base64url) of the
 *   key's UTF-16 code units, which no encoded key can equal (an encoded `%` is always followed by
 *   `25`, `7B`, `7D` or `u`).
 *
 * @throws InvalidKeyError when the key is not a string or is empty.
 *
 * @example
 * ```ts
 * normaliseKey('user:42'); // 'user:42'
 * normaliseKey('}evil'); // '%7Devil'
 * ```
 */
export function normaliseKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string') throw new InvalidKeyError(`The rate-limit ${what} must be a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(`The rate-limit ${what} must not be empty`);
  if (key.length <= MAX_RAW_KEY_LENGTH) {
    if (!SPECIAL.test(key)) return key;
    const encoded = key.replace(ESCAPED, escape);
    if (encoded.length <= MAX_RAW_KEY_LENGTH) return encoded;
  }
  // UTF-16 code units rather than UTF-8: UTF-8 turns every lone surrogate into U+FFFD.
  return `%h${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('base64url')}`;
}
