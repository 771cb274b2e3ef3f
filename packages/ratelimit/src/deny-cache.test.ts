import { describe, expect, test } from 'vitest';
import type { Decision } from './decision.js';
import { DenyCache } from './deny-cache.js';

/** A store's denial decided at `at`, retry in `retryAfterMs`. */
function denial(at: number, retryAfterMs: number): Decision {
  return {
    allowed: false,
    cost: 1,
    reportedBy: 'daily',
    remaining: 0,
    limit: 2,
    windowMs: 86_400_000,
    resetAt: at + retryAfterMs,
    retryAfterMs,
    limitedBy: 'daily',
    overLimit: false,
    dimensions: [
      {
        name: 'daily',
        scope: 'key',
        allowed: false,
        limit: 2,
        windowMs: 86_400_000,
        remaining: 0,
        overage: 0,
        resetAt: at + retryAfterMs,
        retryAfterMs,
      },
    ],
    decidedAt: at,
    source: 'store',
  };
}

const HOUR = 3_600_000;

describe('DenyCache', () => {
  test('answers a denial, aged, until its retry time or its maximum age, whichever comes first', () => {
    const cache = new DenyCache(10, 5_000);
    cache.set('u', { key: 'u', pool: undefined }, 1, denial(0, 3_000), 0, cache.epoch);
    cache.set('v', { key: 'v', pool: undefined }, 1, denial(0, HOUR), 0, cache.epoch);
    expect(cache.get('u', 1, 1_000)).toMatchObject({ source: 'deny-cache', retryAfterMs: 2_000, decidedAt: 1_000 });
    expect(cache.get('u', 1, 3_000)).toBeUndefined();
    expect(cache.get('v', 1, 4_999)).toMatchObject({ retryAfterMs: HOUR - 4_999 });
    expect(cache.get('v', 1, 5_000)).toBeUndefined();
  });

  test('a smaller cost than the denied one is for the store to decide; the denial stays for larger ones', () => {
    const cache = new DenyCache(10, HOUR);
    cache.set('u', { key: 'u', pool: undefined }, 3, denial(0, HOUR), 0, cache.epoch);
    expect(cache.get('u', 2, 1)).toBeUndefined();
    expect(cache.get('u', 3, 2)).toMatchObject({ cost: 3 });
  });

  test("invalidating a key voids its denials in every tier and pool; a pool's voids all its members'", () => {
    const cache = new DenyCache(10, HOUR);
    const epoch = cache.epoch;
    cache.set('free|u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), 0, epoch);
    cache.set('pro|u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), 0, epoch);
    cache.set('acme|v', { key: 'v', pool: 'acme' }, 1, denial(0, HOUR), 0, epoch);
    cache.set('acme|w', { key: 'w', pool: 'acme' }, 1, denial(0, HOUR), 0, epoch);
    cache.set('x', { key: 'x', pool: undefined }, 1, denial(0, HOUR), 0, epoch);
    cache.invalidate('u', undefined);
    expect(cache.get('free|u', 1, 1)).toBeUndefined();
    expect(cache.get('pro|u', 1, 1)).toBeUndefined();
    expect(cache.get('acme|v', 1, 1)).toBeDefined();
    cache.invalidate('v', 'acme');
    expect(cache.get('acme|v', 1, 1)).toBeUndefined();
    expect(cache.get('acme|w', 1, 1)).toBeUndefined();
    expect(cache.get('x', 1, 1)).toBeDefined();
  });

  test('a denial asked for before an invalidation is not kept when it arrives after it; one asked for after is', () => {
    const cache = new DenyCache(10, HOUR);
    const before = cache.epoch;
    cache.invalidate('u', undefined);
    const after = cache.epoch;
    cache.set('old', { key: 'u', pool: undefined }, 1, denial(0, HOUR), 0, before);
    cache.set('new', { key: 'u', pool: undefined }, 1, denial(0, HOUR), 0, after);
    expect(cache.get('old', 1, 1)).toBeUndefined();
    expect(cache.get('new', 1, 1)).toBeDefined();
  });

  test('clear voids every denial, also those still on their way', () => {
    const cache = new DenyCache(10, HOUR);
    const before = cache.epoch;
    cache.set('u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), 0, before);
    cache.clear();
    cache.set('v', { key: 'v', pool: undefined }, 1, denial(0, HOUR), 0, before);
    expect(cache.get('u', 1, 1)).toBeUndefined();
    expect(cache.get('v', 1, 1)).toBeUndefined();
  });

  test('when the marks overflow, a forgotten mark still voids every denial older than it', () => {
    const cache = new DenyCache(2, HOUR);
    cache.set('u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), 0, cache.epoch);
    cache.invalidate('u', undefined);
    // Two more marks push u's out of the two-mark LRU.
    cache.invalidate('a', undefined);
    cache.invalidate('b', undefined);
    const late = cache.epoch;
    expect(cache.get('u', 1, 1)).toBeUndefined();
    cache.set('u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), 0, late);
    expect(cache.get('u', 1, 1)).toBeDefined();
  });
});
