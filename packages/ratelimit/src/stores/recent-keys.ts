/**
 * A bounded map that keeps the most recently used keys: two generations of plain `Map`s. Reads
 * hit the current generation with one `Map` lookup; a key found in the previous one moves up; when
 * the current generation is full it becomes the previous one and the old previous one is dropped
 * whole. So it holds at most `maxKeys` keys, and every key used among the last `maxKeys / 2`
 * distinct keys (rounded down; at least 1) is always kept.
 *
 * Why not lru-cache (used elsewhere): this sits on every rate-limit decision, and lru-cache's
 * exact recency order costs a doubly linked list update per read (a quarter of a decision's time
 * on the memory store, measured with `node --cpu-prof`), and, bounded by `max`, it allocates
 * its arrays for all entries up front — per dimension here. The eviction order of a rate-limit
 * table only needs to be roughly "least recently used"; quick-lru has the same design but wraps
 * every value in an object (one more pointer to follow per read) to support expiry we do not use.
 *
 * @example
 * ```ts
 * const table = new RecentKeys<number[]>(100_000);
 * table.set('user:42', [0, 1]);
 * table.get('user:42'); // [0, 1]
 * ```
 */
export class RecentKeys<V> {
  #current = new Map<string, V>();
  #previous = new Map<string, V>();
  readonly #generation: number;
  /** With room for one key only, there is no previous generation. */
  readonly #keepPrevious: boolean;

  /** Holds at most `maxKeys` keys (a whole number ≥ 1). */
  constructor(maxKeys: number) {
    this.#generation = Math.max(1, Math.floor(maxKeys / 2));
    this.#keepPrevious = maxKeys >= 2;
  }

  /** Keys held (never above `maxKeys`). */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  get(key: string): V | undefined {
    const value = this.#current.get(key);
    if (value !== undefined) return value;
    const old = this.#previous.get(key);
    if (old !== undefined) {
      this.#previous.delete(key);
      this.#add(key, old);
    }
    return old;
  }

  set(key: string, value: V): void {
    if (this.#current.has(key)) {
      this.#current.set(key, value);
      return;
    }
    this.#previous.delete(key);
    this.#add(key, value);
  }

  delete(key: string): void {
    this.#current.delete(key);
    this.#previous.delete(key);
  }

  #add(key: string, value: V): void {
    if (this.#current.size >= this.#generation) {
      this.#previous = this.#keepPrevious ? this.#current : new Map<string, V>();
      this.#current = new Map<string, V>();
    }
    this.#current.set(key, value);
  }
}
