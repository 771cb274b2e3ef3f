import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { BoundedMemo } from './memo.js';

describe('BoundedMemo (the default memo)', () => {
  test('never holds more than its bound, keeps exactly the newest keys, and makes room a sixteenth at a time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 80 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 300 }),
        (max, keys) => {
          const memo = new BoundedMemo<number, string>(max);
          // Room is made a sixteenth of the bound (at least one entry) at a time, never more.
          const evictedAtOnce = Math.max(1, max >>> 4);
          /** Every insertion of a key the memo did not hold (a set of a held key does not move it). */
          const insertions: number[] = [];
          for (const key of keys) {
            if (memo.get(key) === undefined) insertions.push(key);
            memo.set(key, `v${String(key)}`);
            expect(memo.size).toBeLessThanOrEqual(max);
            expect(memo.size).toBeGreaterThanOrEqual(Math.min(insertions.length, max - evictedAtOnce + 1));
            expect(memo.get(key)).toBe(`v${String(key)}`);
          }
          // Only the oldest leave: what it holds is exactly the last `size` insertions.
          const newest = insertions.slice(insertions.length - memo.size);
          expect(new Set(newest).size).toBe(memo.size);
          for (const key of newest) expect(memo.get(key)).toBe(`v${String(key)}`);
        },
      ),
      { numRuns: 200 },
    );
  });
});
