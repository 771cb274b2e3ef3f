import { finiteNumber, InvalidOptionError, systemClock, type Clock } from '@portcullis/core';
import { RecentKeys } from './recent-keys.js';
import {
  evaluationSlot,
  type Algorithm,
  type Evaluation,
  type EvaluationSlot,
  type LimitState,
} from '../algorithms/types.js';
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
 * `consume` but hands back the store's own evaluation slot, overwritten by the next decision of
 * any limiter on this store (read it at once), and writes the instant into `at.now`: a decision
 * allocates no subject, outcome, array, evaluation or state. Set by the class's static block (it
 * reads private state).
 */
export let consumeOneInto: (
  store: MemoryStore,
  key: string,
  pool: string | undefined,
  d: StoreDimension,
  cost: number,
  at: DecidedAt,
) => Readonly<EvaluationSlot>;

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
  // Every one-limit decision is written here, then read at once: deciding allocates nothing.
  readonly #slot = evaluationSlot();

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
    // A copy: the slot is overwritten by the next decision.
    const outcome: DimensionOutcome = {
      allowed: e.allowed,
      remaining: e.remaining,
      overage: e.overage,
      resetAt: e.resetAt,
      retryAfterMs: e.retryAfterMs,
    };
    return { allowed: e.allowed, now, dimensions: [outcome] };
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

  /** Decides into the store's slot, and stores the state in place when it commits. */
  #evaluateOne(key: string, pool: string | undefined, d: StoreDimension, cost: number, now: number): EvaluationSlot {
    const table = this.#table(d);
    const owner = ownerOf(key, pool, d.scope);
    const held = table.get(owner);
    const out = this.#slot;
    evaluateInto(d.algorithm, held, now, cost, out);
    if (out.allowed && cost > 0) storeSlot(table, owner, held, out);
    return out;
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

/** Puts the slot's next state where `held` was: in place when it fits, nothing at all when pristine. */
function storeSlot(table: StateTable, owner: string, held: number[] | undefined, out: EvaluationSlot): void {
  const n = out.nextLength;
  if (n === 0) {
    if (held !== undefined) table.delete(owner);
  } else if (held?.length === n) {
    for (let i = 0; i < n; i++) held[i] = out.next[i] as number;
  } else {
    // A copy the table owns (the slot is reused).
    table.set(owner, out.next.slice(0, n));
  }
}

/** `algorithm.evaluateInto`, or its `evaluate` copied into `out` for an algorithm without it. */
function evaluateInto(
  algorithm: Algorithm,
  state: LimitState | undefined,
  now: number,
  cost: number,
  out: EvaluationSlot,
): void {
  if (algorithm.evaluateInto !== undefined) {
    algorithm.evaluateInto(state, now, cost, out);
    return;
  }
  const e = algorithm.evaluate(state, now, cost);
  out.allowed = e.allowed;
  out.remaining = e.remaining;
  out.overage = e.overage;
  out.resetAt = e.resetAt;
  out.retryAfterMs = e.retryAfterMs;
  out.ttlMs = e.ttlMs;
  const next = e.next ?? [];
  for (let i = 0; i < next.length; i++) out.next[i] = next[i] as number;
  out.nextLength = next.length;
}
