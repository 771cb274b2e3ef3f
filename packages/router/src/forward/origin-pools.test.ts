import { fc, test } from '@fast-check/vitest';
import type { Dispatcher } from 'undici';
import { describe, expect } from 'vitest';
import { OriginPools } from './origin-pools.js';

/** A stand-in dispatcher that only records being closed (the pools never dispatch here). */
function fakePool(origin: string, closed: string[]): Dispatcher {
  return {
    close: () => {
      closed.push(origin);
      return Promise.resolve();
    },
  } as unknown as Dispatcher;
}

describe('origin pools', () => {
  test.prop([fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 })], {
    numRuns: 300,
  })('hold at most max pools, one per origin, closing the oldest to make room', (max, uses) => {
    const created: string[] = [];
    const closed: string[] = [];
    const pools = new OriginPools(max, (origin) => {
      created.push(origin);
      return fakePool(origin, closed);
    });
    for (const use of uses) {
      const origin = `http://10.0.0.${String(use)}:80`;
      expect(pools.get(origin)).toBe(pools.get(origin));
      expect(pools.size).toBeLessThanOrEqual(max);
    }
    // Every pool made is either still held or was closed.
    expect(created.length - closed.length).toBe(pools.size);
  });

  test('close() closes every pool and refuses new ones', async () => {
    const closed: string[] = [];
    const pools = new OriginPools(4, (origin) => fakePool(origin, closed));
    pools.get('http://a:1');
    pools.get('http://b:1');
    await pools.close();
    expect(closed.sort()).toEqual(['http://a:1', 'http://b:1']);
    expect(pools.get('http://c:1')).toBeUndefined();
  });
});
