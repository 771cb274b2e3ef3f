import { isFunctionOption, type Clock, type Emitter } from '@portcullis/core';
import { ActiveBatch, type BatchHost } from './active-batch.js';
import { answerHits, hitOf, newBatch, pendingLoad, REFRESH, type Batch, type Settle } from './batch.js';
import { InvalidLoadKeyError, LoaderAbortedError, type TooManyKeysError } from './errors.js';
import type { LoaderEvents } from './events.js';
import type { KeyBudget } from './key-budget.js';
import type { LoaderCache } from './loader-cache.js';
import type { CacheMap } from './memo.js';
import { resolveOptions, type BatchFunction, type BatchInfo, type LoaderOptions } from './options.js';
import { afterPromiseJobs } from './schedule.js';
import { emptyStats, type LoaderStats } from './stats.js';

/** What a batch function gets beside its keys; the signal is made when first read. */
class LazyBatchInfo<Ctx> implements BatchInfo<Ctx> {
  readonly #batch: { readonly signal: AbortSignal };
  readonly context: Ctx;
  readonly loader: string | undefined;

  constructor(batch: { readonly signal: AbortSignal }, context: Ctx, loader: string | undefined) {
    this.#batch = batch;
    this.context = context;
    this.loader = loader;
  }

  get signal(): AbortSignal {
    return this.#batch.signal;
  }
}

/**
 * A DataLoader with guards; see {@link createLoader}. Same interface and semantics as `dataloader`
 * (`load`, `loadMany`, `prime`, `clear`, `clearAll`, `name`): a drop-in for code written against it.
 *
 * @example
 * ```ts
 * import { createLoader, type Loader } from '@portcullis/dataloader-guard';
 *
 * const users: Loader<string, User> = createLoader(fetchUsers, { maxKeys: 1_000 });
 * const user = await users.load('42');
 * users.clear('42').prime('42', { ...user, name: 'Ada' }); // after a write
 * const { loads, memoHits, batches } = users.stats();
 * ```
 */
export class Loader<K, V, C = K> {
  /** The loader's name, or `null` (as DataLoader's `name`). */
  readonly name: string | null;
  /** Batches, timeouts, refused budgets, aborts: see {@link LoaderEvents}. */
  readonly events: Emitter<LoaderEvents>;
  readonly #label: string | undefined;
  readonly #maxBatchSize: number;
  readonly #schedule: (callback: () => void) => void;
  /** Every key budget this loader charges (its own first), for the paths that are not hot. */
  readonly #budgets: readonly KeyBudget[];
  /** The loader's own budget (`maxKeys`), and the one shared with other loaders (`budget`). */
  readonly #ownBudget: KeyBudget | undefined;
  readonly #requestBudget: KeyBudget | undefined;
  readonly #memo: CacheMap<C, Promise<V>> | undefined;
  readonly #cacheKeyFn: ((key: K) => C) | undefined;
  readonly #shared: LoaderCache | undefined;
  readonly #clock: Clock;
  readonly #stats: LoaderStats = emptyStats();
  readonly #host: BatchHost<K, V>;
  /** Batches collected but not dispatched yet (more than one when `maxBatchSize` splits a tick's keys). */
  readonly #waiting = new Set<Batch<K>>();
  #batch: Batch<K> | undefined;
  /** Set once the signal aborted: every load fails, with an error made when first needed. */
  #closed: { readonly reason: unknown; error?: LoaderAbortedError } | undefined;

  /**
   * @param batchFn - Loads many keys in one call; see {@link BatchFunction}.
   * @param options - See {@link LoaderOptions}; validated here.
   */
  constructor(batchFn: BatchFunction<K, V>, options: LoaderOptions<K, V, C> = {}) {
    isFunctionOption(batchFn, 'batchFn');
    const resolved = resolveOptions(options);
    this.#label = resolved.name;
    this.name = resolved.name ?? null;
    this.events = resolved.events;
    this.#maxBatchSize = resolved.maxBatchSize;
    this.#schedule = resolved.schedule ?? afterPromiseJobs;
    this.#ownBudget = resolved.ownBudget;
    this.#requestBudget = resolved.requestBudget;
    this.#budgets = [resolved.ownBudget, resolved.requestBudget].filter((b) => b !== undefined);
    this.#memo = resolved.memo;
    this.#cacheKeyFn = resolved.cacheKeyFn;
    this.#shared = resolved.sharedCache;
    this.#clock = resolved.clock;
    const context = resolved.context;
    const label = resolved.name;
    this.#host = {
      name: label,
      call: (keys, batch) => batchFn(keys, new LazyBatchInfo(batch, context, label)),
      timeoutMs: resolved.timeoutMs,
      deadline: resolved.deadline,
      limiter: resolved.limiter,
      isolationCalls: resolved.isolationCalls,
      clock: resolved.clock,
      events: resolved.events,
      stats: this.#stats,
      aborted: () => (this.#closed === undefined ? undefined : this.#errorOf(this.#closed)),
      active: new Set(),
      complete: (batch, outcomes) => this.#complete(batch, outcomes),
      fail: (batch, error) => {
        this.#fail(batch, error);
      },
    };
    for (const budget of this.#budgets) {
      budget.onExceeded((error) => {
        this.#onBudgetExceeded(error);
      });
    }
    const signal = resolved.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.#closed = { reason: signal.reason };
      else
        signal.addEventListener(
          'abort',
          () => {
            this.#abort(signal.reason);
          },
          { once: true },
        );
    }
  }

  /**
   * Loads one key: its value, or its error. Keys loaded in the same tick go to the batch function
   * together; a key already loaded by this loader is answered from its memo; a key in the shared
   * cache is answered from it. Throws `InvalidLoadKeyError` (synchronously) for `null` or
   * `undefined`; rejects with `TooManyKeysError` (budget), `BatchTimeoutError`,
   * `BatchQueueFullError`, `LoaderAbortedError`, `InvalidBatchResultError`, or the batch
   * function's own error.
   */
  load(key: K): Promise<V> {
    // The hot path, kept short (every rarer case is a method of its own) so that V8 can inline it
    // into the caller's loop, and its callees into it.
    if (key === null || key === undefined) throw new InvalidLoadKeyError(key);
    if (this.#closed !== undefined) return this.#refuseClosed(this.#closed);
    this.#stats.loads++;
    const batch = this.#currentBatch();
    const cacheKey = this.#cacheKeyFn === undefined ? (key as unknown as C) : this.#cacheKeyFn(key);
    const memo = this.#memo;
    if (memo !== undefined) {
      const cached = memo.get(cacheKey);
      if (cached !== undefined) return this.#memoHit(batch, cached);
    }
    if (this.#shared !== undefined) {
      const hit = this.#sharedHit(this.#shared, batch, key, cacheKey);
      if (hit !== undefined) return hit;
    }
    const refused = this.#take();
    if (refused !== undefined) return this.#refuse(refused);
    batch.keys.push(key);
    batch.cacheKeys?.push(cacheKey);
    const promise = pendingLoad<K, V>(batch);
    memo?.set(cacheKey, promise);
    return promise;
  }

  #refuseClosed(closed: { readonly reason: unknown; error?: LoaderAbortedError }): Promise<V> {
    return Promise.reject(this.#errorOf(closed));
  }

  #memoHit(batch: Batch<K>, cached: Promise<V>): Promise<V> {
    this.#stats.memoHits++;
    return hitOf(batch, cached);
  }

  /** A hit in the shared cache (a stale one starts a refresh), or `undefined` on a miss. */
  #sharedHit(shared: LoaderCache, batch: Batch<K>, key: K, cacheKey: C): Promise<V> | undefined {
    const found = shared.lookup(cacheKey);
    if (found.state === 'miss') return undefined;
    const value = Promise.resolve(found.value as V);
    this.#memo?.set(cacheKey, value);
    // Joined before the refresh: should the refresh exceed the budget, the batch it fails
    // answers this hit too.
    const hit = hitOf(batch, value);
    if (found.state === 'fresh') this.#stats.sharedHits++;
    else {
      this.#stats.staleHits++;
      this.#refresh(key, cacheKey);
    }
    return hit;
  }

  #refuse(refused: TooManyKeysError): Promise<V> {
    this.#stats.loads--;
    this.#stats.refusedKeys++;
    return Promise.reject(refused);
  }

  /**
   * Loads several keys: an array with, for each key, its value or its `Error` (never rejects), as
   * DataLoader's `loadMany`.
   */
  loadMany(keys: ArrayLike<K>): Promise<(V | Error)[]> {
    if (typeof keys !== 'object' || (keys as unknown) === null || typeof keys.length !== 'number') {
      throw new InvalidLoadKeyError(keys, 'loadMany() must be called with an array of keys');
    }
    const loads: Promise<V | Error>[] = [];
    for (let i = 0; i < keys.length; i++) loads.push(this.load(keys[i] as K).catch(asError));
    return Promise.all(loads);
  }

  /**
   * Forgets `key`: in the memo and in the shared cache (it is what you call after writing to it).
   * Returns the loader, for chaining.
   */
  clear(key: K): this {
    const cacheKey = this.#cacheKeyFn === undefined ? (key as unknown as C) : this.#cacheKeyFn(key);
    this.#memo?.delete(cacheKey);
    this.#shared?.delete(cacheKey);
    return this;
  }

  /**
   * Empties this loader's memo (not the shared cache, which other loaders use: clear that with
   * `cache.clear()`). Returns the loader, for chaining.
   */
  clearAll(): this {
    this.#memo?.clear();
    return this;
  }

  /**
   * Puts `value` in the memo under `key` unless it is there already (an `Error` primes a failure),
   * as DataLoader's `prime`; a value (not an error) goes to the shared cache too. Returns the
   * loader, for chaining.
   */
  prime(key: K, value: V | PromiseLike<V> | Error): this {
    const cacheKey = this.#cacheKeyFn === undefined ? (key as unknown as C) : this.#cacheKeyFn(key);
    const memo = this.#memo;
    if (memo !== undefined && memo.get(cacheKey) === undefined) {
      let promise: Promise<V>;
      if (value instanceof Error) {
        promise = Promise.reject(value);
        // Primed on purpose: nobody may ever load it, which must not be an unhandled rejection.
        promise.catch(ignore);
      } else {
        promise = Promise.resolve(value);
      }
      memo.set(cacheKey, promise);
    }
    if (!(value instanceof Error) && !isPromiseLike(value)) this.#shared?.set(cacheKey, value);
    return this;
  }

  /** A copy of this loader's counters; see {@link LoaderStats}. */
  stats(): LoaderStats {
    return { ...this.#stats };
  }

  /** Batches running or queued now. */
  get activeBatches(): number {
    return this.#host.active.size;
  }

  /** Keys collected for batches not sent yet. */
  get waitingKeys(): number {
    let keys = 0;
    for (const batch of this.#waiting) keys += batch.keys.length;
    return keys;
  }

  #currentBatch(): Batch<K> {
    const current = this.#batch;
    if (current !== undefined && !current.done && current.keys.length < this.#maxBatchSize) return current;
    return this.#openBatch();
  }

  /** Starts collecting a new batch, to be dispatched on the schedule. */
  #openBatch(): Batch<K> {
    const batch = newBatch<K>(this.#clock.now(), this.#cacheKeyFn !== undefined);
    this.#batch = batch;
    this.#waiting.add(batch);
    this.#schedule(() => {
      this.#dispatch(batch);
    });
    return batch;
  }

  #dispatch(batch: Batch<K>): void {
    if (batch.done) return;
    batch.done = true;
    this.#waiting.delete(batch);
    if (batch.keys.length === 0) {
      answerHits(batch);
      return;
    }
    new ActiveBatch(this.#host, batch).begin();
  }

  /** Takes a key from every budget; the refusal, if one refuses (then none is charged). */
  #take(): TooManyKeysError | undefined {
    const own = this.#ownBudget;
    if (own !== undefined) {
      const refused = own.take(this.#label);
      if (refused !== undefined) return refused;
    }
    const request = this.#requestBudget;
    if (request !== undefined) {
      const refused = request.take(this.#label);
      if (refused !== undefined) {
        own?.refund();
        return refused;
      }
    }
    return undefined;
  }

  /** A stale value was served: load the key again in the background, if every budget has room. */
  #refresh(key: K, cacheKey: C): void {
    const budgets = this.#budgets;
    for (let i = 0; i < budgets.length; i++) {
      if (!(budgets[i] as KeyBudget).tryTake()) {
        for (let j = 0; j < i; j++) (budgets[j] as KeyBudget).refund();
        return;
      }
    }
    const batch = this.#currentBatch();
    batch.keys.push(key);
    batch.cacheKeys?.push(cacheKey);
    batch.settlers.push(REFRESH, REFRESH);
  }

  #complete(batch: Batch<K>, outcomes: ArrayLike<V | Error>): number {
    answerHits(batch);
    const { settlers } = batch;
    const count = batch.keys.length;
    const shared = this.#shared;
    let failed = 0;
    if (shared === undefined) {
      for (let i = 0; i < count; i++) {
        const outcome = outcomes[i];
        if (outcome instanceof Error) {
          failed++;
          (settlers[2 * i + 1] as Settle)(outcome);
        } else {
          (settlers[2 * i] as Settle)(outcome);
        }
      }
      return failed;
    }
    const cacheKeys = batch.cacheKeys ?? batch.keys;
    for (let i = 0; i < count; i++) {
      const outcome = outcomes[i];
      if (outcome instanceof Error) {
        failed++;
        (settlers[2 * i + 1] as Settle)(outcome);
      } else {
        (settlers[2 * i] as Settle)(outcome);
        shared.set(cacheKeys[i], outcome);
      }
    }
    return failed;
  }

  /** Fails every key of `batch`; they leave the memo, as in DataLoader (the next load tries again). */
  #fail(batch: Batch<K>, error: unknown): void {
    answerHits(batch);
    const { settlers } = batch;
    const count = batch.keys.length;
    const cacheKeys = batch.cacheKeys ?? batch.keys;
    const memo = this.#memo;
    for (let i = 0; i < count; i++) {
      const reject = settlers[2 * i + 1] as Settle;
      if (reject !== REFRESH) memo?.delete(cacheKeys[i] as C);
      reject(error);
    }
  }

  /** Fails the batches still collecting or waiting for dispatch. Returns the keys failed. */
  #failWaiting(error: unknown): number {
    let keys = 0;
    for (const batch of this.#waiting) {
      batch.done = true;
      keys += batch.keys.length;
      this.#fail(batch, error);
    }
    this.#waiting.clear();
    return keys;
  }

  #onBudgetExceeded(error: TooManyKeysError): void {
    const dropped = this.#failWaiting(error);
    this.#stats.refusedKeys += dropped;
    if (this.events.has('tooManyKeys')) {
      this.events.emit('tooManyKeys', {
        loader: this.#label,
        maxKeys: error.maxKeys,
        budget: error.budget,
        droppedKeys: dropped,
      });
    }
  }

  /** The error of a closed loader, made once, when first needed. */
  #errorOf(closed: { readonly reason: unknown; error?: LoaderAbortedError }): LoaderAbortedError {
    closed.error ??= new LoaderAbortedError(closed.reason, this.#label);
    return closed.error;
  }

  #abort(reason: unknown): void {
    if (this.#closed !== undefined) return;
    const closed = { reason };
    this.#closed = closed;
    // Most loaders are idle when their request ends: no error to make then.
    if (this.#waiting.size === 0 && this.#host.active.size === 0) return;
    const error = this.#errorOf(closed);
    let dropped = this.#failWaiting(error);
    // Queued batches first: a running one's slot, once freed, must not start one of ours.
    const active = [...this.#host.active].sort((a, b) => Number(a.running) - Number(b.running));
    let running = 0;
    for (const batch of active) {
      dropped += batch.size;
      if (batch.running) running++;
      batch.abort(error);
    }
    this.#stats.abortedKeys += dropped;
    if (dropped > 0 && this.events.has('aborted')) {
      this.events.emit('aborted', { loader: this.#label, droppedKeys: dropped, runningBatches: running });
    }
  }
}

/**
 * A DataLoader with the guards plain DataLoader lacks. Same interface and semantics (`load`,
 * `loadMany`, `prime`, `clear`, `clearAll`; one batch per tick, de-duplication, per-key errors,
 * memo on by default): code written against `dataloader` keeps working. The guards:
 *
 * - `maxBatchSize` (default 1,000) splits big batches;
 * - `maxKeys` (and a shared `budget`): the key that would pass it, the keys waiting for their
 *   batch, and every later key fail with `TooManyKeysError` before the backend sees them;
 * - `maxConcurrentBatches` with a bounded queue (`maxQueuedBatches`), or a shared `limiter`;
 * - `timeoutMs`: the batch function's signal aborts and its keys fail with `BatchTimeoutError`;
 * - `signal`: the request's; its abort fails everything waiting, queued or running;
 * - `sharedCache`: values shared across loaders with a TTL and stale-while-revalidate;
 * - answers checked: a wrong length, a `Map` missing keys, a non-array fail the keys concerned
 *   (`InvalidBatchResultError`), never the process; `isolateFailures` splits a failed batch to
 *   fail only the keys that fail;
 * - `stats()` and typed `events` for metrics.
 *
 * @param batchFn - Loads many keys in one call; see {@link BatchFunction}.
 * @param options - See {@link LoaderOptions}.
 * @throws InvalidOptionError naming the option that is invalid.
 *
 * @example
 * ```ts
 * import { createLoader } from '@portcullis/dataloader-guard';
 *
 * const users = createLoader<string, { id: string; name: string }>(
 *   async (ids, { signal }) => {
 *     const res = await fetch(`http://users.internal/users?ids=${ids.join(',')}`, { signal });
 *     return (await res.json()) as { id: string; name: string }[];
 *   },
 *   { name: 'users', maxBatchSize: 100, maxKeys: 1_000, maxConcurrentBatches: 4, timeoutMs: 2_000 },
 * );
 * const [ada, grace] = await Promise.all([users.load('1'), users.load('2')]); // one call
 * ```
 */
export function createLoader<K, V, C = K, Ctx = unknown>(
  batchFn: BatchFunction<K, V, Ctx>,
  options: LoaderOptions<K, V, C, Ctx> = {},
): Loader<K, V, C> {
  return new Loader<K, V, C>(batchFn as BatchFunction<K, V>, options);
}

function asError(error: unknown): Error {
  return error as Error;
}

function ignore(): void {
  // A primed failure nobody loaded.
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
