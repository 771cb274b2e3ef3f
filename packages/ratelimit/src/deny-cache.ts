import type { Clock } from '@portcullis/core';
import { LRUCache } from 'lru-cache';
import type { Decision } from './decision.js';

/** A denial the store gave, as the deny cache keeps it. */
interface Denial {
  /** When the denied cost fits again (the limiter's clock). */
  readonly retryAt: number;
  /** When the entry stops being trusted: `retryAt`, or `maxAgeMs` after it was decided if sooner. */
  readonly expiresAt: number;
  readonly cost: number;
  readonly decision: Decision;
  /** {@link DenyCache.epoch} when the store was asked; an invalidation of its key or pool after that voids it. */
  readonly epoch: number;
  readonly key: string;
  readonly pool: string | undefined;
}

/**
 * Denials of an asynchronous store, remembered so a key known to be limited is refused again
 * without a round trip — and forgotten as soon as something may have freed it.
 *
 * What voids a denial: its retry time; `maxAgeMs` (a refund or reset made by another gateway
 * instance is invisible here, so a denial is trusted only that long); and, from this instance,
 * {@link DenyCache.invalidate} of its key or of its pool (a refund or a reset) and
 * {@link DenyCache.clear} (a tier change).
 *
 * Invalidations are marks rather than deletions: each bumps a counter (the epoch) and records it
 * for the key or the pool, and a denial is void when a mark of its key or pool is newer than the
 * epoch at which its store call *started*. That also voids denials still on their way when the
 * state changed (decided by the store before a refund landed, cached after it), and finds every
 * member of a pool without an index of pools to keys. Marks are a bounded LRU too: a mark that
 * falls out raises a floor under which every denial is void, so forgetting one only costs round
 * trips, never a stale denial.
 *
 * @example
 * ```ts
 * const cache = new DenyCache(10_000, 1_000, systemClock);
 * const epoch = cache.epoch; // before asking the store
 * cache.set('id', { key: 'u', pool: undefined }, 1, denied, epoch);
 * cache.invalidate('u', undefined); // a refund of u: the denial no longer answers
 * ```
 */
export class DenyCache {
  readonly #denials: LRUCache<string, Denial>;
  /** By `k` + key and `p` + pool: the epoch of its last invalidation. Read with `peek`, so LRU order is epoch order. */
  readonly #marks: LRUCache<string, number>;
  readonly #maxAgeMs: number;
  /** The limiter's clock: denials age by it (the store's, e.g. Redis server time, may differ). */
  readonly #clock: Clock;
  #epoch = 0;
  /** Denials asked for before this epoch are void (a clear, or a mark that was forgotten). */
  #floor = 0;

  constructor(maxKeys: number, maxAgeMs: number, clock: Clock) {
    this.#denials = new LRUCache({ max: maxKeys });
    this.#marks = new LRUCache({
      max: maxKeys,
      disposeAfter: (epoch, _id, reason) => {
        if (reason === 'evict' && epoch > this.#floor) this.#floor = epoch;
      },
    });
    this.#maxAgeMs = maxAgeMs;
    this.#clock = clock;
  }

  /** The current epoch: read it before asking the store, pass it to {@link DenyCache.set}. */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * The cached denial for `id`, aged to now, when it still holds for `cost` (a smaller cost may
   * fit where the cached one did not: the store decides it).
   */
  get(id: string, cost: number): Decision | undefined {
    const denied = this.#denials.get(id);
    if (denied === undefined) return undefined;
    // Read only on a hit: a miss (most calls) costs no clock read.
    const now = this.#clock.now();
    if (now >= denied.expiresAt || this.#voided(denied)) {
      this.#denials.delete(id);
      return undefined;
    }
    if (cost < denied.cost) return undefined;
    // The cached denial, aged to now: waits shrink; absolute reset times stay as they were.
    const aged = now - denied.decision.decidedAt;
    return {
      ...denied.decision,
      cost,
      decidedAt: now,
      retryAfterMs: denied.retryAt - now,
      dimensions: denied.decision.dimensions.map((d) =>
        d.allowed ? d : { ...d, retryAfterMs: Math.max(1, d.retryAfterMs - aged) },
      ),
      source: 'deny-cache',
    };
  }

  /** Remembers a store's denial, asked for at `epoch`, from now on. */
  set(
    id: string,
    subject: { readonly key: string; readonly pool: string | undefined },
    cost: number,
    decision: Decision,
    epoch: number,
  ): void {
    const at = this.#clock.now();
    const retryAt = at + decision.retryAfterMs;
    const denial: Denial = {
      retryAt,
      expiresAt: Math.min(retryAt, at + this.#maxAgeMs),
      cost,
      decision: { ...decision, decidedAt: at },
      epoch,
      key: subject.key,
      pool: subject.pool,
    };
    if (!this.#voided(denial)) this.#denials.set(id, denial);
  }

  /**
   * Voids the denials of `key` (in any tier, pooled or not) and, with `pool`, of every member of
   * that pool: their state changed (a refund, a reset), capacity may be free. `key` undefined: the
   * pool's alone (a reset of the pool's shared usage).
   */
  invalidate(key: string | undefined, pool: string | undefined): void {
    this.#epoch++;
    if (key !== undefined) this.#marks.set(`k${key}`, this.#epoch);
    if (pool !== undefined) this.#marks.set(`p${pool}`, this.#epoch);
  }

  /** Voids every denial, also those on their way (a policy changed). */
  clear(): void {
    this.#floor = ++this.#epoch;
    this.#denials.clear();
  }

  #voided(denial: Denial): boolean {
    const { epoch } = denial;
    if (this.#floor > epoch) return true;
    if ((this.#marks.peek(`k${denial.key}`) ?? 0) > epoch) return true;
    return denial.pool !== undefined && (this.#marks.peek(`p${denial.pool}`) ?? 0) > epoch;
  }
}
