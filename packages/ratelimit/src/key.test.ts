import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { hostileKey, lookalikes } from '../test/hostile-keys.js';
import { isInvalidKeyError } from './errors.js';
import { LONE_SURROGATE, MAX_RAW_KEY_LENGTH, normaliseKey, redisKeyPart } from './key.js';

/** What a key becomes in a Redis key. */
const inRedis = (key: string): string => redisKeyPart(normaliseKey(key));

describe('key encoding', () => {
  test.prop([fc.uniqueArray(hostileKey, { minLength: 1, maxLength: 6 })], { numRuns: 500 })(
    'is injective in memory and in Redis keys, also on keys built to look like ids, escapes, hashes or UTF-8-mangled keys',
    (keys) => {
      const all = [...new Set([...keys, ...keys.flatMap(lookalikes)])];
      for (const encode of [normaliseKey, inRedis]) {
        const owner = new Map<string, string>();
        for (const key of all) {
          const id = encode(key);
          expect({ key, sharesWith: owner.get(id) }).toEqual({ key, sharesWith: undefined });
          owner.set(id, key);
        }
      }
    },
  );

  test.prop([hostileKey], { numRuns: 1_000 })(
    'gives a bounded, non-empty id, the same on every call; in a Redis key, brace-free and well-formed',
    (key) => {
      const id = normaliseKey(key);
      expect(id.length).toBeGreaterThan(0);
      expect(id.length).toBeLessThanOrEqual(MAX_RAW_KEY_LENGTH + 1);
      expect(normaliseKey(key)).toBe(id);
      const text = redisKeyPart(id);
      expect(text).not.toMatch(/[{}]/);
      expect(LONE_SURROGATE.test(text)).toBe(false);
      // UTF-8 (what Redis stores) round-trips it: Redis tells ids apart as well as memory does.
      expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
    },
  );

  test('keeps ordinary keys as they are, in memory and in Redis keys', () => {
    for (const key of ['user:42', '203.0.113.7', '2001:db8::/56', 'k'.repeat(MAX_RAW_KEY_LENGTH), 'ключ', '🔑']) {
      expect([normaliseKey(key), inRedis(key)]).toEqual([key, key]);
    }
  });

  test('tells lone surrogates and U+FFFD apart in Redis keys (UTF-8 would make them one)', () => {
    const texts = ['\uD800', '\uDFFF', '\uFFFD', '\uD800\uDC00', '\uDC00\uD800'].map(inRedis);
    expect(new Set(texts.map((t) => Buffer.from(t, 'utf8').toString('hex'))).size).toBe(5);
  });

  test.each([[''], [undefined], [42], [null]])('refuses %j with an InvalidKeyError', (key) => {
    let thrown: unknown;
    try {
      normaliseKey(key);
    } catch (error) {
      thrown = error;
    }
    expect(isInvalidKeyError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ code: 'ERR_PORTCULLIS_RATELIMIT_INVALID_KEY' });
  });
});
