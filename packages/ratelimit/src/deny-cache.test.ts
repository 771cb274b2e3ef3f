import { ManualClock } from '@portcullis/testkit';
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

const clock = new ManualClock(0);
let cache: DenyCache;

/** The cache, with the clock set to `now`. */
function at(now: number): DenyCache {
  clock.set(now);
  return cache;
}

/** A new cache; its clock starts at 0. */
function fresh(maxKeys: number, maxAgeMs: number): DenyCache {
  clock.set(0);
  cache = new DenyCache(maxKeys, maxAgeMs, clock);
  return cache;
}

describe('DenyCache', () => {
  test('answers a denial, aged, until its retry time or its maximum age, whichever comes first', () => {
    fresh(10, 5_000);
    cache.set('u', { key: 'u', pool: undefined }, 1, denial(0, 3_000), cache.epoch);
    cache.set('v', { key: 'v', pool: undefined }, 1, denial(0, HOUR), cache.epoch);
    expect(at(1_000).get('u', 1)).toMatchObject({ source: 'deny-cache', retryAfterMs: 2_000, decidedAt: 1_000 });
    expect(at(3_000).get('u', 1)).toBeUndefined();
    expect(at(4_999).get('v', 1)).toMatchObject({ retryAfterMs: HOUR - 4_999 });
    expect(at(5_000).get('v', 1)).toBeUndefined();
  });

  test('a smaller cost than the denied one is for the store to decide; the denial stays for larger ones', () => {
    fresh(10, HOUR);
    cache.set('u', { key: 'u', pool: undefined }, 3, denial(0, HOUR), cache.epoch);
    expect(at(1).get('u', 2)).toBeUndefined();
    expect(at(2).get('u', 3)).toMatchObject({ cost: 3 });
  });

  test("invalidating a key voids its denials in every tier and pool; a pool's voids all its members'", () => {
    fresh(10, HOUR);
    const epoch = cache.epoch;
    cache.set('free|u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), epoch);
    cache.set('pro|u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), epoch);
    cache.set('acme|v', { key: 'v', pool: 'acme' }, 1, denial(0, HOUR), epoch);
    cache.set('acme|w', { key: 'w', pool: 'acme' }, 1, denial(0, HOUR), epoch);
    cache.set('x', { key: 'x', pool: undefined }, 1, denial(0, HOUR), epoch);
    cache.invalidate('u', undefined);
    expect(at(1).get('free|u', 1)).toBeUndefined();
    expect(at(1).get('pro|u', 1)).toBeUndefined();
    expect(at(1).get('acme|v', 1)).toBeDefined();
    cache.invalidate('v', 'acme');
    expect(at(1).get('acme|v', 1)).toBeUndefined();
    expect(at(1).get('acme|w', 1)).toBeUndefined();
    expect(at(1).get('x', 1)).toBeDefined();
  });

  test("invalidating a pool alone voids its members' denials and no one else's", () => {
    fresh(10, HOUR);
    const epoch = cache.epoch;
    cache.set('acme|v', { key: 'v', pool: 'acme' }, 1, denial(0, HOUR), epoch);
    cache.set('v', { key: 'v', pool: undefined }, 1, denial(0, HOUR), epoch);
    cache.invalidate(undefined, 'acme');
    expect(at(1).get('acme|v', 1)).toBeUndefined();
    expect(at(1).get('v', 1)).toBeDefined();
  });

  test('a denial asked for before an invalidation is not kept when it arrives after it; one asked for after is', () => {
    fresh(10, HOUR);
    const before = cache.epoch;
    cache.invalidate('u', undefined);
    const after = cache.epoch;
    cache.set('old', { key: 'u', pool: undefined }, 1, denial(0, HOUR), before);
    cache.set('new', { key: 'u', pool: undefined }, 1, denial(0, HOUR), after);
    expect(at(1).get('old', 1)).toBeUndefined();
    expect(at(1).get('new', 1)).toBeDefined();
  });

  test('clear voids every denial, also those still on their way', () => {
    fresh(10, HOUR);
    const before = cache.epoch;
    cache.set('u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), before);
    cache.clear();
    cache.set('v', { key: 'v', pool: undefined }, 1, denial(0, HOUR), before);
    expect(at(1).get('u', 1)).toBeUndefined();
    expect(at(1).get('v', 1)).toBeUndefined();
  });

  test('when the marks overflow, a forgotten mark still voids every denial older than it', () => {
    fresh(2, HOUR);
    cache.set('u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), cache.epoch);
    cache.invalidate('u', undefined);
    // Two more marks push u's out of the two-mark LRU.
    cache.invalidate('a', undefined);
    cache.invalidate('b', undefined);
    const late = cache.epoch;
    expect(at(1).get('u', 1)).toBeUndefined();
    cache.set('u', { key: 'u', pool: undefined }, 1, denial(0, HOUR), late);
    expect(at(1).get('u', 1)).toBeDefined();
  });
});
