import {
  duration,
  InvalidOptionError,
  positiveInteger,
  positiveNumber,
  systemClock,
  type Clock,
} from '@portcullis/core';
import { LRUCache } from 'lru-cache';

/**
 * Options of {@link createLoaderCache}.
 *
 * @example
 * ```ts
 * import type { LoaderCacheOptions } from '@portcullis/dataloader-guard';
 *
 * const users: LoaderCacheOptions = { ttlMs: 3_600_000, staleWhileRevalidateMs: 60_000, max: 10_000 };
 * ```
 */
export interface LoaderCacheOptions {
  /** How long a loaded value is served without asking the backend, in ms. Finite, > 0. Required. */
  ttlMs: number;
  /**
   * After `ttlMs`, how long a value may still be served while one load in the background refreshes
   * it, in ms. Finite, >= 0. Default is 0 (an expired value is loaded again before it is answered).
   */
  staleWhileRevalidateMs?: number | undefined;
  /** The most values kept; the least recently used one leaves first. Whole number >= 1. Default is 10_000. */
  max?: number | undefined;
  /** Where the time comes from. Default is `systemClock`. */
  clock?: Clock | undefined;
}

/** What lru-cache accepts as a key: anything but `null` and `undefined`. */
type CacheKey = string | number | boolean | bigint | symbol | object;

/** A cached value and when it was loaded. */
interface Entry {
  readonly value: unknown;
  readonly storedAt: number;
}

/** What {@link LoaderCache.lookup} found. */
export type CacheLookup =
  | { readonly state: 'fresh'; readonly value: unknown }
  | { readonly state: 'stale'; readonly value: unknown }
  | { readonly state: 'miss' };

const MISS: CacheLookup = Object.freeze({ state: 'miss' });

/**
 * A bounded cache of loaded values with a time to live, shared by every loader given it (usually
 * one per request, all of one type): what one request loaded, the next one gets without a backend
 * call until `ttlMs` has passed. Only values are kept, never errors nor promises in flight (a
 * request's abort must not fail another request's load). Bounded by `max` entries (LRU, through
 * lru-cache); expiry is checked when read, so it holds no timer.
 *
 * Values are shared between requests: cache only what every caller may see, or put what decides
 * visibility (the tenant, the caller) in the loader's `cacheKeyFn`.
 *
 * @example
 * ```ts
 * import { createLoaderCache } from '@portcullis/dataloader-guard';
 *
 * const cache = createLoaderCache({ ttlMs: 60_000, staleWhileRevalidateMs: 10_000 });
 * cache.set('u1', { id: 'u1', name: 'Ada' });
 * cache.lookup('u1'); // { state: 'fresh', value: { id: 'u1', name: 'Ada' } }
 * cache.lookup('u2'); // { state: 'miss' }
 * ```
 */
export class LoaderCache {
  /** Brand: recognised across copies of this package (ESM and CJS builds). */
  readonly isLoaderCache = true as const;
  /** Time to live of a value, in ms. */
  readonly ttlMs: number;
  /** How long past its time to live a value is still served while it is refreshed, in ms. */
  readonly staleWhileRevalidateMs: number;
  readonly #clock: Clock;
  readonly #entries: LRUCache<CacheKey, Entry>;

  /**
   * @param options - See {@link LoaderCacheOptions}; validated here.
   * @param option - The name errors give the options (`users.sharedCache` from a factory).
   */
  constructor(options: LoaderCacheOptions, option = 'options') {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError(option, options, 'an object with ttlMs');
    }
    this.ttlMs = positiveNumber(options.ttlMs, `${option}.ttlMs`);
    this.staleWhileRevalidateMs = duration(options.staleWhileRevalidateMs ?? 0, `${option}.staleWhileRevalidateMs`);
    const max = positiveInteger(options.max ?? 10_000, `${option}.max`);
    const clock = options.clock ?? systemClock;
    if (typeof (clock as Partial<Clock>).now !== 'function') {
      throw new InvalidOptionError(`${option}.clock`, clock, 'an object with a now() method');
    }
    this.#clock = clock;
    this.#entries = new LRUCache<CacheKey, Entry>({ max });
  }

  /** Values held now (expired ones leave when read or pushed out). */
  get size(): number {
    return this.#entries.size;
  }

  /** The value under `key`: fresh, stale (serve it and refresh), or a miss (an expired one is dropped). */
  lookup(key: unknown): CacheLookup {
    const entry = this.#entries.get(key as CacheKey);
    if (entry === undefined) return MISS;
    const age = this.#clock.now() - entry.storedAt;
    // A clock stepped back (age < 0) still counts as fresh: the value cannot be older than its TTL.
    if (age < this.ttlMs) return { state: 'fresh', value: entry.value };
    if (age < this.ttlMs + this.staleWhileRevalidateMs) return { state: 'stale', value: entry.value };
    this.#entries.delete(key as CacheKey);
    return MISS;
  }

  /** Keeps `value` under `key` from now. */
  set(key: unknown, value: unknown): void {
    this.#entries.set(key as CacheKey, { value, storedAt: this.#clock.now() });
  }

  /** Forgets `key` (after a write to it, say). */
  delete(key: unknown): void {
    this.#entries.delete(key as CacheKey);
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }
}

/**
 * A value cache with a time to live and optional stale-while-revalidate, to share between the
 * loaders of many requests (`createLoaderFactory` makes one per loader from its `cache` option; pass
 * one as `cache` to loaders you build yourself). Scenario: users for an hour, products for six,
 * orders for five minutes.
 *
 * @param options - See {@link LoaderCacheOptions}.
 * @throws InvalidOptionError naming the option that is invalid.
 *
 * @example
 * ```ts
 * import { createLoader, createLoaderCache } from '@portcullis/dataloader-guard';
 *
 * const products = createLoaderCache({ ttlMs: 6 * 3_600_000, staleWhileRevalidateMs: 600_000, max: 50_000 });
 * // Per request: a fresh loader (its own batching and budget), the shared cache.
 * const loader = createLoader(fetchProducts, { cache: products });
 * ```
 */
export function createLoaderCache(options: LoaderCacheOptions): LoaderCache {
  return new LoaderCache(options);
}
