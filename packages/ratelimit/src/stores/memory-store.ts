import { positiveInteger, systemClock, type Clock } from '@portcullis/core';
import { LRUCache } from 'lru-cache';
import type { LimitState } from '../algorithms/types.js';
import type { DimensionOutcome, RateLimitStore, StoreDimension, StoreOutcome } from './store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most keys held (one per dimension per client). The least recently used key is dropped when
   * full, which forgets its usage: size it above your active keys. Default 100,000.
   */
  maxKeys?: number;
  /** Time source. Default: the system clock. */
  clock?: Clock;
}

/**
 * In-process limit state, bounded by `maxKeys` (an LRU; no timer per key, O(1) per dimension).
 * Decides synchronously, so a guard built on it costs no promise. State is per process: use the
 * Redis store when several instances must share limits.
 *
 * @example
 * ```ts
 * import { MemoryStore, createRateLimiter, tokenBucket } from '@portcullis/ratelimit';
 *
 * const limiter = createRateLimiter({
 *   store: new MemoryStore({ maxKeys: 100_000 }),
 *   limits: { burst: tokenBucket({ capacity: 20, refillPerSecond: 100 / 60 }) },
 * });
 * ```
 */
export class MemoryStore implements RateLimitStore {
  readonly #states: LRUCache<string, LimitState>;
  readonly #clock: Clock;

  constructor(options: MemoryStoreOptions = {}) {
    this.#states = new LRUCache({ max: positiveInteger(options.maxKeys ?? 100_000, 'maxKeys') });
    this.#clock = options.clock ?? systemClock;
  }

  /** Number of keys currently held (never above `maxKeys`). */
  get size(): number {
    return this.#states.size;
  }

  consume(dimensions: readonly StoreDimension[], cost: number): StoreOutcome {
    const now = this.#clock.now();
    const evaluations = dimensions.map((d) => d.algorithm.evaluate(this.#states.get(d.key), now, cost));
    const allowed = evaluations.every((e) => e.allowed);
    if (allowed) {
      if (cost > 0) {
        evaluations.forEach((e, i) => {
          this.#store((dimensions[i] as StoreDimension).key, e.next);
        });
      }
      return { allowed, now, dimensions: evaluations };
    }
    // Denied, so nothing was charged: dimensions that would have admitted report their usage as it is.
    const uncharged: DimensionOutcome[] = evaluations.map((e, i) => {
      if (!e.allowed) return e;
      const d = dimensions[i] as StoreDimension;
      return d.algorithm.evaluate(this.#states.get(d.key), now, 0);
    });
    return { allowed, now, dimensions: uncharged };
  }

  refund(dimensions: readonly StoreDimension[], amount: number, chargedAt: number): void {
    const now = this.#clock.now();
    for (const d of dimensions)
      this.#store(d.key, d.algorithm.refund(this.#states.get(d.key), now, amount, chargedAt).next);
  }

  reset(keys: readonly string[]): void {
    for (const key of keys) this.#states.delete(key);
  }

  #store(key: string, next: LimitState | undefined): void {
    // A pristine state is the same as no state: free the slot.
    if (next === undefined) this.#states.delete(key);
    else this.#states.set(key, next);
  }
}
