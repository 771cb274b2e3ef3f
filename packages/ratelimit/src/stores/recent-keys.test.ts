import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { RecentKeys } from './recent-keys.js';

type Op = { kind: 'set'; key: number; value: number } | { kind: 'get'; key: number } | { kind: 'delete'; key: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.nat(40), value: fc.integer() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('get' as const), key: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(40) }) },
);

describe('RecentKeys', () => {
  test.prop([fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 300 })], { numRuns: 500 })(
    'never holds more than maxKeys, and keeps (with its latest value) every key among the last maxKeys/2 distinct keys used',
    (maxKeys, ops) => {
      const table = new RecentKeys<{ value: number }>(maxKeys);
      const latest = new Map<number, { value: number }>();
      // Keys in order of last use (set, or a get that found it), most recent last.
      const used: number[] = [];
      const touch = (key: number): void => {
        const at = used.indexOf(key);
        if (at !== -1) used.splice(at, 1);
        used.push(key);
      };
      for (const o of ops) {
        const key = `k${String(o.key)}`;
        if (o.kind === 'set') {
          const value = { value: o.value };
          table.set(key, value);
          latest.set(o.key, value);
          touch(o.key);
        } else if (o.kind === 'get') {
          const found = table.get(key);
          if (found !== undefined) {
            // Whatever it returns is the value last set for that key.
            expect(found).toBe(latest.get(o.key));
            touch(o.key);
          }
        } else {
          table.delete(key);
          latest.delete(o.key);
          // The key keeps its place in the order of use: deleting it frees its slot but brings back
          // nothing its use pushed out (so among the last keys used it is expected absent).
          expect(table.get(key)).toBeUndefined();
        }
        expect(table.size).toBeLessThanOrEqual(maxKeys);
      }
      const kept = used.slice(-Math.max(1, Math.floor(maxKeys / 2)));
      for (const key of kept) expect(table.get(`k${String(key)}`)).toBe(latest.get(key));
    },
  );

  test('a stream of new keys is bounded: old keys go, recent ones stay', () => {
    const table = new RecentKeys<number>(1_000);
    for (let i = 0; i < 100_000; i++) table.set(`client-${String(i)}`, i);
    expect(table.size).toBeLessThanOrEqual(1_000);
    expect(table.get('client-0')).toBeUndefined();
    expect(table.get('client-99999')).toBe(99_999);
  });
});
