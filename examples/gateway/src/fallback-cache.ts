import { InvalidOptionError, positiveInteger, systemClock, type Clock } from '@portcullis/core';
import { LRUCache } from 'lru-cache';
import { directives, headerValue, type RelayedHeaders } from './http-headers.js';

/** Options of {@link createFallbackCache}. */
export interface FallbackCacheOptions {
  /** Most answers kept, whatever their size. Default 1_000. */
  maxEntries?: number | undefined;
  /** Most body bytes kept in all (least recently used go first). Default 33_554_432 (32 MiB). */
  maxBytes?: number | undefined;
  /**
   * Largest body kept; a larger answer is relayed as a stream and not kept. Default 1_048_576
   * (1 MiB).
   */
  maxEntryBytes?: number | undefined;
  /**
   * Keep answers marked `Cache-Control: private` too. They are only ever served to the identity
   * they were fetched for (the cache is partitioned by it), but the upstream asked shared caches
   * not to keep them, and a gateway is one. Default false.
   */
  cachePrivate?: boolean | undefined;
  /**
   * How old a kept answer may be and still be served while the upstream fails; older ones are
   * dropped. Default 3_600_000 (1 hour).
   */
  maxStaleMs?: number | undefined;
  /** Time for `maxStaleMs`. Default: the system clock. */
  clock?: Clock | undefined;
}

/** What an answer is looked up and stored by. */
export interface CacheLookup {
  /**
   * Everything about the caller the upstream's answer may depend on: the identity and tenant the
   * gateway vouches for. `undefined` means unknown, and then nothing is cached or served.
   */
  readonly scope: string | undefined;
  readonly method: string;
  /** Path and query on the upstream. */
  readonly path: string;
  /** The request's headers, for `Vary` (lower-case names). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** An answer as kept: complete, with the headers the client is given. */
export interface StoredAnswer {
  readonly status: number;
  readonly headers: RelayedHeaders;
  readonly body: Buffer;
}

/**
 * The "last good answer" of each request, for when the upstream fails: see {@link createFallbackCache}.
 *
 * @example
 * ```ts
 * const cache = createFallbackCache({ maxEntries: 100 });
 * const lookup = { scope: 'alice|pro', method: 'GET', path: '/users?page=2', headers: {} };
 * if (cache.accepts(lookup, 200, { 'content-type': 'application/json' })) {
 *   cache.set(lookup, { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('[]') });
 * }
 * cache.get(lookup); // the answer above; undefined for any other scope, method, path, query or Vary value
 * ```
 */
export interface FallbackCache {
  /** The answer last kept for exactly this request (same scope, method, path and query, and `Vary` values). */
  get(lookup: CacheLookup): StoredAnswer | undefined;
  /** Whether an answer with this status and these headers may be kept (decided before its body is read). */
  accepts(lookup: CacheLookup, status: number, headers: RelayedHeaders): boolean;
  /** Keeps an answer that {@link FallbackCache.accepts} accepted (a body over `maxEntryBytes` is ignored). */
  set(lookup: CacheLookup, answer: StoredAnswer): void;
  /** The largest body kept, in bytes. */
  readonly maxEntryBytes: number;
}

/**
 * Statuses an answer may be kept with: those HTTP caches may keep without explicit freshness
 * (RFC 9111 §4.2.2), less 206 (a range is not "the answer") and 405/414/501 (not a resource's
 * state).
 */
const KEPT_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 410]);

/**
 * A bounded cache of the last good answer per request, used only when the upstream fails
 * (stale-if-error). An answer is served only for exactly the request it was fetched for: the key is
 * the caller's scope (identity and tenant), the method, the path and the query, and the values of
 * the request headers the answer's `Vary` names. Never kept: answers without a scope, to methods
 * other than GET and HEAD, with a status outside {@link KEPT_STATUSES}, marked `no-store` (on the
 * request or the answer) or `private` (unless `cachePrivate`), with `Vary: *`, or setting cookies.
 *
 * @throws InvalidOptionError when an option is invalid, naming it.
 */
export function createFallbackCache(options: FallbackCacheOptions = {}): FallbackCache {
  const maxEntries = positiveInteger(options.maxEntries ?? 1_000, 'fallbackCache.maxEntries');
  const maxBytes = positiveInteger(options.maxBytes ?? 32 * 1024 * 1024, 'fallbackCache.maxBytes');
  const maxEntryBytes = positiveInteger(options.maxEntryBytes ?? 1024 * 1024, 'fallbackCache.maxEntryBytes');
  if (maxEntryBytes > maxBytes) {
    throw new InvalidOptionError('fallbackCache.maxEntryBytes', maxEntryBytes, `at most maxBytes (${maxBytes})`);
  }
  const cachePrivate = options.cachePrivate ?? false;
  if (typeof cachePrivate !== 'boolean')
    throw new InvalidOptionError('fallbackCache.cachePrivate', cachePrivate, 'a boolean');

  const maxStaleMs = positiveInteger(options.maxStaleMs ?? 3_600_000, 'fallbackCache.maxStaleMs');
  const answers = new LRUCache<string, StoredAnswer>({
    max: maxEntries,
    // Checked when read (no timer per entry); `perf` is lru-cache's clock, read every time
    // (ttlResolution 0: no cached "now", no timer at all).
    ttl: maxStaleMs,
    ttlResolution: 0,
    perf: options.clock ?? systemClock,
    maxSize: maxBytes,
    // Headers count too, so that many empty bodies cannot hold unbounded header bytes.
    sizeCalculation: (answer) => Math.max(1, answer.body.length + headerBytes(answer.headers)),
  });
  // The header names the last kept answer to a request varied on: they pick the variant to look up.
  const varyOf = new LRUCache<string, readonly string[]>({ max: maxEntries });

  // Keys are read back one way only: each part but the last is its length, `:`, then itself, so no
  // scope, path or header value can pose as another (JSON did the same at several times the cost:
  // the scope is JSON already, and every quote in it was escaped twice per request).
  const requestKey = (lookup: CacheLookup): string => {
    const scope = lookup.scope ?? '';
    return `${String(scope.length)}:${scope}${String(lookup.method.length)}:${lookup.method}${lookup.path}`;
  };
  const variantKey = (key: string, names: readonly string[], lookup: CacheLookup): string => {
    let variant = `${String(key.length)}:${key}`;
    // Names and values both go in; a header that is absent is `-` (a length never starts with one).
    for (const name of names) {
      const value = headerValue(lookup.headers[name]);
      variant += `${String(name.length)}:${name}${value === undefined ? '-' : `${String(value.length)}:${value}`}`;
    }
    return variant;
  };

  return {
    maxEntryBytes,
    get(lookup) {
      if (lookup.scope === undefined) return undefined;
      const key = requestKey(lookup);
      return answers.get(variantKey(key, varyOf.get(key) ?? [], lookup));
    },
    accepts(lookup, status, headers) {
      if (lookup.scope === undefined || (lookup.method !== 'GET' && lookup.method !== 'HEAD')) return false;
      if (!KEPT_STATUSES.has(status) || headers['set-cookie'] !== undefined) return false;
      if (directives(headerValue(lookup.headers['cache-control'])).has('no-store')) return false;
      const response = directives(headerValue(headers['cache-control']));
      if (response.has('no-store') || (response.has('private') && !cachePrivate)) return false;
      return !varyNames(headers).includes('*');
    },
    set(lookup, answer) {
      if (lookup.scope === undefined || answer.body.length > maxEntryBytes) return;
      const key = requestKey(lookup);
      const names = varyNames(answer.headers);
      varyOf.set(key, names);
      answers.set(variantKey(key, names, lookup), answer);
    },
  };
}

/** The header names an answer's `Vary` lists, lower-case, sorted, once each. */
function varyNames(headers: RelayedHeaders): readonly string[] {
  const vary = headerValue(headers['vary']);
  if (vary === undefined) return [];
  const names = vary
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  return [...new Set(names)].sort();
}

/** About the bytes headers take (names and values), without serialising them. */
function headerBytes(headers: RelayedHeaders): number {
  let bytes = 0;
  for (const name in headers) {
    const value = headers[name];
    bytes += name.length + 4;
    if (typeof value === 'string') bytes += value.length;
    else if (value !== undefined) for (const item of value) bytes += item.length + 2;
  }
  return bytes;
}
