import { finiteNumber, InvalidOptionError, systemClock, type Clock } from '@portcullis/core';
import { RecentKeys } from './recent-keys.js';
import type { Evaluation, LimitState } from '../algorithms/types.js';
import {
  ownerOf,
  stateOwner,
  type DimensionOutcome,
  type RateLimitStore,
  type StoreDimension,
  type StoreOutcome,
  type StoreSubject,
} from './store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most keys held per dimension (per named limit of a policy; a pool's limits count their pools).
   * When a dimension's table is full, its least recently used half is forgotten at once (which
   * forgets their usage); a key used among the last `maxKeys / 2` distinct keys is always kept. Size
   * it above twice your active clients. A whole number from 1 to 33,554,432 (2^25: each of the two
   * generations is a `Map`, and a `Map` holds at most 2^24 entries). Default 100,000.
   */
  maxKeys?: number;
  /** Time source. Default: the system clock. */
  clock?: Clock;
}

/** Two generations of `Map`s, each at most 2^24 entries (V8 throws beyond). */
const MAX_KEYS = 2 ** 25;

/**
 * The limiter's way in for a one-limit policy (not exported from the package): decides like
 * `consume` but hands back the evaluation itself and writes the instant into `at.now`, so a
 * decision allocates no subject, outcome or array the limiter would read once and drop. Set by
 * the class's static block (it reads private state).
 */
export let consumeOneInto: (
  store: MemoryStore,
  key: string,
  pool: string | undefined,
  d: StoreDimension,
  cost: number,
  at: DecidedAt,
) => Evaluation;

/** Where {@link consumeOneInto} writes the instant it decided at (one per limiter, reused). */
export interface DecidedAt {
  now: number;
}

/** The states of one dimension, by owner (key, pool, or pooled key); see {@link stateOwner}. */
type StateTable = RecentKeys<number[]>;

/**
 * In-process limit state, bounded by `maxKeys` per dimension (recent-keys tables; no timer per key, O(1) per
 * dimension). Decides synchronously, so a guard built on it costs no promise. State is per process:
 * use the Redis store when several instances must share limits.
 *
 * One table per dimension, keyed by the caller's key as given: a decision builds no key string
 * (concatenating and hashing one per dimension was most of the cost), and a state's numbers are
 * overwritten in place, so the long-lived tables never point at fresh objects that every minor GC
 * would then have to trace.
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
  // Keyed by slot: bounded by the limiters' configuration, never by client input.
  readonly #tables = new Map<string, StateTable>();
  readonly #maxKeys: number;
  readonly #clock: Clock;
  // The last dimension asked about and its table: most decisions ask about the same one again.
  #lastDimension: StoreDimension | undefined;
  #lastTable: StateTable | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxKeys = finiteNumber(options.maxKeys ?? 100_000, 'maxKeys', { min: 1, max: MAX_KEYS, integer: true });
    this.#clock = options.clock ?? systemClock;
    if (typeof (this.#clock as Partial<Clock> | undefined)?.now !== 'function')
      throw new InvalidOptionError('clock', this.#clock, 'a clock: { now(): number }');
  }

  /** Number of states currently held, all dimensions together (never above `maxKeys` per dimension). */
  get size(): number {
    let held = 0;
    for (const table of this.#tables.values()) held += table.size;
    return held;
  }

  consume(subject: StoreSubject, dimensions: readonly StoreDimension[], cost: number): StoreOutcome {
    const now = this.#clock.now();
    if (dimensions.length === 1) return this.#consumeOne(subject, dimensions[0] as StoreDimension, cost, now);
    const evaluations: Evaluation[] = [];
    let allowed = true;
    for (const d of dimensions) {
      const e = d.algorithm.evaluate(this.#state(subject, d), now, cost);
      if (!e.allowed) allowed = false;
      evaluations.push(e);
    }
    if (allowed) {
      if (cost > 0) {
        for (let i = 0; i < dimensions.length; i++) {
          this.#commit(subject, dimensions[i] as StoreDimension, (evaluations[i] as Evaluation).next);
        }
      }
      return { allowed, now, dimensions: evaluations };
    }
    // Denied, so nothing was charged: dimensions that would have admitted report their usage as it is.
    const uncharged: DimensionOutcome[] = evaluations.map((e, i) => {
      if (!e.allowed) return e;
      const d = dimensions[i] as StoreDimension;
      return d.algorithm.evaluate(this.#state(subject, d), now, 0);
    });
    return { allowed, now, dimensions: uncharged };
  }

  refund(subject: StoreSubject, dimensions: readonly StoreDimension[], amount: number, chargedAt: number): void {
    const now = this.#clock.now();
    for (const d of dimensions) {
      this.#commit(subject, d, d.algorithm.refund(this.#state(subject, d), now, amount, chargedAt).next);
    }
  }

  reset(subject: StoreSubject, dimensions: readonly StoreDimension[]): void {
    for (const d of dimensions) this.#commit(subject, d, undefined);
  }

  /** The common case (one limit): one table lookup, and no array but the outcome's. */
  #consumeOne(subject: StoreSubject, d: StoreDimension, cost: number, now: number): StoreOutcome {
    const e = this.#evaluateOne(subject.key, subject.pool, d, cost, now);
    return { allowed: e.allowed, now, dimensions: [e] };
  }

  static {
    consumeOneInto = (store, key, pool, d, cost, at) => {
      const now = store.#clock.now();
      const e = store.#evaluateOne(key, pool, d, cost, now);
      // Last, so no other code (an algorithm, a clock) runs between this write and its read.
      at.now = now;
      return e;
    };
  }

  #evaluateOne(key: string, pool: string | undefined, d: StoreDimension, cost: number, now: number): Evaluation {
    const table = this.#table(d);
    const owner = ownerOf(key, pool, d.scope);
    const held = table.get(owner);
    const e = d.algorithm.evaluate(held, now, cost);
    if (e.allowed && cost > 0) store(table, owner, held, e.next);
    return e;
  }

  #table(d: StoreDimension): StateTable {
    if (d === this.#lastDimension) return this.#lastTable as StateTable;
    let table = this.#tables.get(d.slot);
    if (table === undefined) {
      table = new RecentKeys(this.#maxKeys);
      this.#tables.set(d.slot, table);
    }
    this.#lastDimension = d;
    this.#lastTable = table;
    return table;
  }

  #state(subject: StoreSubject, d: StoreDimension): LimitState | undefined {
    return this.#table(d).get(stateOwner(subject, d));
  }

  #commit(subject: StoreSubject, d: StoreDimension, next: LimitState | undefined): void {
    const table = this.#table(d);
    const owner = stateOwner(subject, d);
    store(table, owner, table.get(owner), next);
  }
}

/** Puts `next` where `held` was: in place when it fits, nothing at all when pristine. */
function store(table: StateTable, owner: string, held: number[] | undefined, next: LimitState | undefined): void {
  if (next === undefined) {
    // A pristine state is the same as no state: free the slot.
    if (held !== undefined) table.delete(owner);
  } else if (held?.length === next.length) {
    for (let i = 0; i < next.length; i++) held[i] = next[i] as number;
  } else {
    // A copy the table owns (an evaluation's `next` is also visible in the outcome).
    table.set(owner, next.slice());
  }
}
