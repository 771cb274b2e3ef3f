import { createHash } from 'node:crypto';
import { InvalidKeyError } from './errors.js';

/** Keys longer than this are hashed, so client-chosen keys cannot grow memory or Redis key size. */
export const MAX_RAW_KEY_LENGTH = 200;

/** `%`: the first character of every id that is not the key itself. */
const ESCAPE = 37;

/**
 * Validates a client key (or pool id) and bounds its length, giving the id both stores keep its
 * state under. Distinct keys always get distinct ids (as JavaScript compares strings, code unit by
 * code unit, lone surrogates included):
 *
 * - a key of up to 200 characters is its own id, except that a leading `%` is doubled;
 * - a longer key's id is `%h` + the SHA-256 (base64url) of its UTF-16 code units.
 *
 * So an id that starts with `%%` is a short key that starts with `%`, one that starts with `%h` is a
 * long key, and any other id is a short key as given. What a Redis key needs beyond that (no
 * braces, whole characters) is {@link redisKeyPart}'s concern.
 *
 * @throws InvalidKeyError when the key is not a string or is empty.
 *
 * @example
 * ```ts
 * normaliseKey('user:42'); // 'user:42'
 * normaliseKey('%7D'); // '%%7D'
 * ```
 */
export function normaliseKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string') throw new InvalidKeyError(`The rate-limit ${what} must be a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(`The rate-limit ${what} must not be empty`);
  // One comparison per decision: the memory store's whole decision costs ~1,700 instructions (callgrind),
  // and escaping here (a regular expression test) added ~250 of them.
  if (key.length <= MAX_RAW_KEY_LENGTH) return key.charCodeAt(0) === ESCAPE ? `%${key}` : key;
  // UTF-16 code units rather than UTF-8: UTF-8 turns every lone surrogate into U+FFFD.
  return `%h${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('base64url')}`;
}

/** A surrogate that is not half of a pair: not a character, and UTF-8 has no encoding for it. */
export const LONE_SURROGATE: RegExp = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Any character {@link redisKeyPart} may rewrite: the escape itself, hash-tag braces, surrogates. */
const SPECIAL = /[%{}\uD800-\uDFFF]/;
/** What it rewrites: `%`, `{`, `}` and lone surrogates (a surrogate pair is a character: kept). */
const ESCAPED = new RegExp(`[%{}]|${LONE_SURROGATE.source}`, 'g');

function escape(unit: string): string {
  if (unit === '%') return '%25';
  if (unit === '{') return '%7B';
  if (unit === '}') return '%7D';
  return `%u${unit.charCodeAt(0).toString(16).toUpperCase()}`;
}

/**
 * An id (see {@link normaliseKey}) as it appears in a Redis key: `%`, `{` and `}` become `%25`,
 * `%7B` and `%7D`, a lone surrogate becomes `%u` + its hex digits (`'\uD800'` → `%uD800`), every
 * other character is kept. Injective, like the ids; never contains a brace, so an id cannot end,
 * empty or move a Cluster hash tag; and well-formed UTF-16, so its UTF-8 bytes on Redis are as
 * distinct as the ids are in memory (UTF-8 would store every lone surrogate as U+FFFD).
 *
 * @example
 * ```ts
 * redisKeyPart('}evil'); // '%7Devil'
 * ```
 */
export function redisKeyPart(id: string): string {
  return SPECIAL.test(id) ? id.replace(ESCAPED, escape) : id;
}
