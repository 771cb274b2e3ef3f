/**
 * The map-like store a loader memoizes its promises in: DataLoader's `cacheMap` contract, so an
 * `LRUCache` from lru-cache, a `Map`, or anything with these four methods fits.
 *
 * @example
 * ```ts
 * import { LRUCache } from 'lru-cache';
 * import { createLoader, type CacheMap } from '@portcullis/dataloader-guard';
 *
 * const cacheMap: CacheMap<string, Promise<User>> = new LRUCache<string, Promise<User>>({ max: 1_000 });
 * const users = createLoader(fetchUsers, { cacheMap });
 * ```
 */
export interface CacheMap<C, P> {
  /** The promise held for `key`, if any. */
  get(key: C): P | undefined;
  /** Holds `value` for `key`. */
  set(key: C, value: P): unknown;
  /** Forgets `key`. */
  delete(key: C): unknown;
  /** Forgets every key. */
  clear(): unknown;
}

/**
 * The default memo: a `Map` that holds at most `max` entries, the oldest leaving first (when it is
 * full, the oldest sixteenth leaves at once, see `#evictOldest`). A loader is
 * usually one request's, so entries stay few; the bound only keeps a long-lived loader, or a
 * request that primes without end, from growing without limit. (Insertion order rather than LRU:
 * lru-cache allocates its whole capacity up front, too much for an object made per request.)
 */
export class BoundedMemo<C, P> implements CacheMap<C, P> {
  readonly #max: number;
  readonly #map = new Map<C, P>();

  /** @param max - The most entries held, >= 1. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }

  get(key: C): P | undefined {
    return this.#map.get(key);
  }

  set(key: C, value: P): void {
    const map = this.#map;
    if (map.size >= this.#max && !map.has(key)) this.#evictOldest();
    map.set(key, value);
  }

  /**
   * Makes room: the oldest sixteenth of the entries (at least one) leaves at once, so that a full
   * memo pays for one walk of its keys every `max / 16` new keys, not one per key.
   */
  #evictOldest(): void {
    const map = this.#map;
    let evict = Math.max(1, this.#max >>> 4);
    for (const key of map.keys()) {
      map.delete(key);
      if (--evict === 0) break;
    }
  }

  delete(key: C): void {
    this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }
}
