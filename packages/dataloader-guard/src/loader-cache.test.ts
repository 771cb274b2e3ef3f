import { ManualClock } from '@portcullis/testkit';
import { describe, expect, test } from 'vitest';
import { createLoader } from './loader.js';
import { createLoaderCache } from './loader-cache.js';

/** A batch function over a backend whose values change with `version`, counting the keys it is asked. */
function backend(): { asked: number[]; version: { n: number }; fn: (keys: readonly number[]) => Promise<string[]> } {
  const asked: number[] = [];
  const version = { n: 1 };
  return {
    asked,
    version,
    fn: (keys) => {
      asked.push(...keys);
      return Promise.resolve(keys.map((k) => `${String(k)}@v${String(version.n)}`));
    },
  };
}

/** Lets a background refresh (scheduled, then answered) finish. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('the shared value cache', () => {
  test('serves what another loader (another request) loaded until its TTL, then loads again', async () => {
    const clock = new ManualClock();
    const cache = createLoaderCache({ ttlMs: 300_000, clock });
    const { asked, version, fn } = backend();
    const request = (): ReturnType<typeof createLoader<number, string>> => createLoader(fn, { sharedCache: cache });
    expect(await request().load(1)).toBe('1@v1');
    version.n = 2;
    clock.advance(299_999);
    const second = request();
    expect(await second.load(1)).toBe('1@v1');
    expect(second.stats()).toMatchObject({ sharedHits: 1, batches: 0 });
    clock.advance(1);
    expect(await request().load(1)).toBe('1@v2');
    expect(asked).toEqual([1, 1]);
  });

  test('stale-while-revalidate: answers the stale value at once and refreshes it in the background', async () => {
    const clock = new ManualClock();
    const cache = createLoaderCache({ ttlMs: 1_000, staleWhileRevalidateMs: 5_000, clock });
    const { asked, version, fn } = backend();
    await createLoader(fn, { sharedCache: cache }).load(7);
    version.n = 2;
    clock.advance(3_000);
    const stale = createLoader(fn, { sharedCache: cache });
    expect(await stale.load(7)).toBe('7@v1');
    expect(stale.stats()).toMatchObject({ staleHits: 1 });
    await settle();
    expect(asked).toEqual([7, 7]);
    expect(await createLoader(fn, { sharedCache: cache }).load(7)).toBe('7@v2');
    // Past TTL + the stale window: loaded before it is answered.
    version.n = 3;
    clock.advance(6_000);
    expect(await createLoader(fn, { sharedCache: cache }).load(7)).toBe('7@v3');
  });

  test('a refresh never spends the last of a budget: the request keeps its keys', async () => {
    const clock = new ManualClock();
    const cache = createLoaderCache({ ttlMs: 1_000, staleWhileRevalidateMs: 60_000, clock });
    const { asked, fn } = backend();
    await createLoader(fn, { sharedCache: cache }).load(1);
    clock.advance(2_000);
    const loader = createLoader(fn, { sharedCache: cache, maxKeys: 1 });
    const fresh = loader.load(2);
    expect(await loader.load(1)).toBe('1@v1');
    expect(await fresh).toBe('2@v1');
    expect(asked).toEqual([1, 2]);
  });

  test('a refresh that fails rejects nobody and keeps the stale answer in the memo; its batch mates fail', async () => {
    const clock = new ManualClock();
    const cache = createLoaderCache({ ttlMs: 1_000, staleWhileRevalidateMs: 60_000, clock });
    const { asked, fn } = backend();
    await createLoader(fn, { sharedCache: cache }).load(7);
    clock.advance(2_000);
    let down = true;
    const loader = createLoader<number, string>(
      (keys) => {
        if (!down) return fn(keys);
        asked.push(...keys);
        return Promise.reject(new Error('down'));
      },
      { sharedCache: cache },
    );
    const [stale, other] = await Promise.allSettled([loader.load(7), loader.load(8)]);
    expect(stale).toEqual({ status: 'fulfilled', value: '7@v1' });
    expect(other).toMatchObject({ status: 'rejected', reason: { message: 'down' } });
    // The refresh of 7 and the load of 8 went in one batch.
    expect(asked).toEqual([7, 7, 8]);
    down = false;
    expect(await loader.load(7)).toBe('7@v1'); // the memo still has it: no second refresh
    expect(await loader.load(8)).toBe('8@v1'); // a failed key left the memo: asked again
    expect(asked).toEqual([7, 7, 8, 8]);
  });

  test('keeps values only, never errors; clear(key) forgets it in the shared cache too', async () => {
    const cache = createLoaderCache({ ttlMs: 60_000 });
    let fail = true;
    const fn = (keys: readonly number[]): Promise<(number | Error)[]> =>
      Promise.resolve(keys.map((k) => (fail ? new Error('not yet') : k)));
    await expect(createLoader(fn, { sharedCache: cache }).load(1)).rejects.toThrow('not yet');
    fail = false;
    const loader = createLoader(fn, { sharedCache: cache });
    expect(await loader.load(1)).toBe(1);
    expect(cache.size).toBe(1);
    loader.clear(1);
    expect(cache.size).toBe(0);
    loader.prime(2, 20);
    expect(cache.lookup(2)).toEqual({ state: 'fresh', value: 20 });
  });

  test('is bounded: the least recently used value leaves first', async () => {
    const cache = createLoaderCache({ ttlMs: 60_000, max: 2 });
    const { fn } = backend();
    const loader = createLoader(fn, { sharedCache: cache, cache: false });
    await loader.loadMany([1, 2]);
    cache.lookup(1);
    await loader.load(3);
    expect(cache.size).toBe(2);
    expect(cache.lookup(2)).toEqual({ state: 'miss' });
    expect(cache.lookup(1).state).toBe('fresh');
  });

  test('rejects bad options by name', () => {
    expect(() => createLoaderCache({ ttlMs: 0 })).toThrow(/"options.ttlMs"/);
    expect(() => createLoaderCache({ ttlMs: 1, max: 0 })).toThrow(/"options.max"/);
    expect(() => createLoaderCache({ ttlMs: 1, staleWhileRevalidateMs: -1 })).toThrow(/staleWhileRevalidateMs/);
  });
});
