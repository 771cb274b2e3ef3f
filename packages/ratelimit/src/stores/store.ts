import type { Algorithm } from '../algorithms/types.js';

/** One dimension of an atomic operation: the stored key and the algorithm that governs it. */
export interface StoreDimension {
  /** Full storage key (prefix, hash tag and dimension included). */
  readonly key: string;
  /** The algorithm deciding this dimension. */
  readonly algorithm: Algorithm;
}

/** What a store decided for one dimension. */
export interface DimensionOutcome {
  readonly allowed: boolean;
  readonly remaining: number;
  readonly overage: number;
  readonly resetAt: number;
  readonly retryAfterMs: number;
}

/** The result of one atomic store operation. */
export interface StoreOutcome {
  /** True when every dimension allowed (and so all were charged, for `consume`). */
  readonly allowed: boolean;
  /** The instant the store decided at (the Redis server's clock for the Redis store). */
  readonly now: number;
  /** Per dimension, in the order given. */
  readonly dimensions: readonly DimensionOutcome[];
}

/**
 * Where limit state lives. Every operation is atomic over all its dimensions: `consume` charges
 * every dimension or none. Implementations: `MemoryStore` (in-process, synchronous) and
 * `RedisStore` (shared; one round trip per operation).
 */
export interface RateLimitStore {
  /**
   * Charges `cost` to every dimension if it fits in all of them; otherwise charges nothing. With
   * `cost` 0 it only reports usage (a peek).
   */
  consume(dimensions: readonly StoreDimension[], cost: number): StoreOutcome | Promise<StoreOutcome>;
  /** Gives back `amount` units charged at `chargedAt` to every dimension (clamped per algorithm). */
  refund(dimensions: readonly StoreDimension[], amount: number, chargedAt: number): void | Promise<void>;
  /** Forgets the state of the given keys (an explicit quota reset). */
  reset(keys: readonly string[]): void | Promise<void>;
}
