import { createHash } from 'node:crypto';
import { InvalidKeyError } from './errors.js';

/** Keys longer than this are hashed, so client-chosen keys cannot grow memory or Redis key size. */
export const MAX_RAW_KEY_LENGTH = 200;

/**
 * Validates a client key and bounds its length: keys up to 200 characters are used as they are;
 * longer ones are replaced by `h:` + their SHA-256 (base64url), still unique per key.
 */
export function normaliseKey(key: unknown, what = 'key'): string {
  if (typeof key !== 'string') throw new InvalidKeyError(`The rate-limit ${what} must be a string, got ${typeof key}`);
  if (key.length === 0) throw new InvalidKeyError(`The rate-limit ${what} must not be empty`);
  if (key.length <= MAX_RAW_KEY_LENGTH) return key;
  return `h:${createHash('sha256').update(key).digest('base64url')}`;
}
