import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { hostileKey, lookalikes } from '../test/hostile-keys.js';
import { isInvalidKeyError } from './errors.js';
import { LONE_SURROGATE, MAX_RAW_KEY_LENGTH, normaliseKey } from './key.js';

describe('key encoding', () => {
  test.prop([fc.uniqueArray(hostileKey, { minLength: 1, maxLength: 6 })], { numRuns: 500 })(
    'is injective, also on keys built to look like encoded, hashed or UTF-8-mangled keys',
    (keys) => {
      const all = [...new Set([...keys, ...keys.flatMap(lookalikes)])];
      const encoded = new Map<string, string>();
      for (const key of all) {
        const id = normaliseKey(key);
        expect({ key, sharesWith: encoded.get(id) }).toEqual({ key, sharesWith: undefined });
        encoded.set(id, key);
      }
    },
  );

  test.prop([hostileKey], { numRuns: 1_000 })(
    'gives a bounded, non-empty, brace-free, well-formed id (the same on every call)',
    (key) => {
      const id = normaliseKey(key);
      expect(id.length).toBeGreaterThan(0);
      expect(id.length).toBeLessThanOrEqual(MAX_RAW_KEY_LENGTH);
      expect(id).not.toMatch(/[{}]/);
      expect(LONE_SURROGATE.test(id)).toBe(false);
      // UTF-8 round-trips it: what Redis stores tells ids apart as well as memory does.
      expect(Buffer.from(id, 'utf8').toString('utf8')).toBe(id);
      expect(normaliseKey(key)).toBe(id);
    },
  );

  test('keeps ordinary keys as they are', () => {
    for (const key of ['user:42', '203.0.113.7', '2001:db8::/56', 'k'.repeat(MAX_RAW_KEY_LENGTH), 'ключ', '🔑']) {
      expect(normaliseKey(key)).toBe(key);
    }
  });

  test('tells lone surrogates and U+FFFD apart (UTF-8 would make them one)', () => {
    const ids = ['\uD800', '\uDFFF', '\uFFFD', '\uD800\uDC00', '\uDC00\uD800'].map((k) => normaliseKey(k));
    expect(new Set(ids).size).toBe(5);
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
