import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { createFallbackCache, type CacheLookup, type StoredAnswer } from './fallback-cache.js';

const lookup = (scope: string | undefined, path = '/users', headers: CacheLookup['headers'] = {}): CacheLookup => ({
  scope,
  method: 'GET',
  path,
  headers,
});
const answer = (body: string, headers: StoredAnswer['headers'] = {}): StoredAnswer => ({
  status: 200,
  headers: { 'content-type': 'text/plain', ...headers },
  body: Buffer.from(body),
});

describe('fallback cache', () => {
  test.prop(
    [
      fc.array(
        fc.record({
          // 'p' + GET + '/xGET/y' and 'pGET/x' + GET + '/y' read the same when simply joined.
          scope: fc.constantFrom('alice|pro', 'bob|pro', 'alice|free', '["x","y"]', 'p', 'pGET/x', '1:p'),
          method: fc.constantFrom('GET', 'HEAD'),
          path: fc.constantFrom('/a', '/a?x=1', '/a?x=2', '/b', '/a?', '/y', '/xGET/y'),
          vary: fc.constantFrom(undefined, 'accept-language', 'Accept-Language, X-Tenant', '*'),
          // '', '-' and an absent header are different requests.
          lang: fc.constantFrom(undefined, '', '-', 'en', 'fr', 'en, fr', '2:x-'),
          tenant: fc.constantFrom(undefined, 't1', 't2'),
          store: fc.boolean(),
        }),
        { maxLength: 60 },
      ),
    ],
    { numRuns: 300 },
  )('an answer is served only for the request it was kept for: scope, method, path, query and Vary values', (steps) => {
    const cache = createFallbackCache({ maxEntries: 8 });
    // Every answer kept, per scope, method, path and query: its body and the values of the request
    // headers its Vary names, as they were when it was kept.
    const kept = new Map<string, { body: string; varied: [string, string | undefined][] }[]>();
    let serial = 0;
    for (const s of steps) {
      const headers: Record<string, string | undefined> = { 'accept-language': s.lang, 'x-tenant': s.tenant };
      const request: CacheLookup = { scope: s.scope, method: s.method, path: s.path, headers };
      const base = JSON.stringify([s.scope, s.method, s.path]);
      if (s.store) {
        const stored = answer(`answer ${String(++serial)}`, s.vary === undefined ? {} : { vary: s.vary });
        if (!cache.accepts(request, 200, stored.headers)) {
          expect(s.vary).toBe('*');
          continue;
        }
        cache.set(request, stored);
        const names = (s.vary ?? '')
          .toLowerCase()
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean);
        const varied = names.map((name): [string, string | undefined] => [name, headers[name]]);
        kept.set(base, [...(kept.get(base) ?? []), { body: stored.body.toString(), varied }]);
        continue;
      }
      const got = cache.get(request);
      if (got === undefined) continue;
      // Served: kept for this very scope, method, path and query, and it agrees with this request
      // on every header its Vary names.
      const origin = kept.get(base)?.find((entry) => entry.body === got.body.toString());
      expect(origin).toBeDefined();
      for (const [name, value] of origin?.varied ?? []) expect(headers[name]).toBe(value);
    }
  });

  test('keeps nothing without a scope, for other methods, marked no-store or private, with Vary: *, or setting cookies', () => {
    const cache = createFallbackCache();
    expect(cache.accepts(lookup(undefined), 200, {})).toBe(false);
    expect(cache.accepts({ ...lookup('a'), method: 'POST' }, 200, {})).toBe(false);
    expect(cache.accepts(lookup('a'), 200, { 'cache-control': 'max-age=60, no-store' })).toBe(false);
    expect(cache.accepts(lookup('a'), 200, { 'cache-control': 'Private' })).toBe(false);
    expect(cache.accepts(lookup('a'), 200, { 'cache-control': 'private="set-cookie"' })).toBe(false);
    expect(cache.accepts(lookup('a', '/x', { 'cache-control': 'no-store' }), 200, {})).toBe(false);
    expect(cache.accepts(lookup('a'), 200, { vary: 'origin, *' })).toBe(false);
    expect(cache.accepts(lookup('a'), 200, { 'set-cookie': ['s=1'] })).toBe(false);
    expect(cache.accepts(lookup('a'), 206, {})).toBe(false);
    expect(cache.accepts(lookup('a'), 401, {})).toBe(false);
    expect(cache.accepts(lookup('a'), 200, { 'cache-control': 'public, max-age=60' })).toBe(true);
    expect(cache.accepts(lookup('a'), 404, {})).toBe(true);
    expect(createFallbackCache({ cachePrivate: true }).accepts(lookup('a'), 200, { 'cache-control': 'private' })).toBe(
      true,
    );
  });

  test('is bounded: by entries, by bytes, and bodies over maxEntryBytes are not kept', () => {
    const cache = createFallbackCache({ maxEntries: 2, maxBytes: 1_000, maxEntryBytes: 500 });
    cache.set(lookup('a', '/1'), answer('one'));
    cache.set(lookup('a', '/2'), answer('two'));
    cache.set(lookup('a', '/3'), answer('three'));
    expect(cache.get(lookup('a', '/1'))).toBeUndefined();
    expect(cache.get(lookup('a', '/3'))?.body.toString()).toBe('three');
    cache.set(lookup('a', '/big'), answer('x'.repeat(501)));
    expect(cache.get(lookup('a', '/big'))).toBeUndefined();
    const bySize = createFallbackCache({ maxEntries: 100, maxBytes: 1_000, maxEntryBytes: 500 });
    bySize.set(lookup('a', '/4'), answer('y'.repeat(480)));
    bySize.set(lookup('a', '/5'), answer('z'.repeat(480)));
    // 2 × 480 bytes of bodies plus their headers exceed 1,000: the older one went.
    expect(bySize.get(lookup('a', '/4'))).toBeUndefined();
    expect(bySize.get(lookup('a', '/5'))?.body.toString()).toBe('z'.repeat(480));
  });

  test('serves an answer no older than maxStaleMs', () => {
    const clock = new ManualClock(1_000_000);
    const cache = createFallbackCache({ maxStaleMs: 60_000, clock });
    cache.set(lookup('a'), answer('kept'));
    clock.advance(59_000);
    expect(cache.get(lookup('a'))?.body.toString()).toBe('kept');
    clock.advance(2_000);
    expect(cache.get(lookup('a'))).toBeUndefined();
  });

  test.each([
    [{ maxEntries: 0 }, 'fallbackCache.maxEntries'],
    [{ maxBytes: -1 }, 'fallbackCache.maxBytes'],
    [{ maxEntryBytes: 2_000, maxBytes: 1_000 }, 'fallbackCache.maxEntryBytes'],
    [{ maxStaleMs: 0 }, 'fallbackCache.maxStaleMs'],
    [{ cachePrivate: 'yes' as unknown as boolean }, 'fallbackCache.cachePrivate'],
  ])('refuses %o with an InvalidOptionError naming %s', (options, name) => {
    let error: unknown;
    try {
      createFallbackCache(options);
    } catch (caught) {
      error = caught;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as Error).message).toContain(name);
  });
});
