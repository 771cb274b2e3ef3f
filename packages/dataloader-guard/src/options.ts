import {
  Emitter,
  finiteNumber,
  hasBrand,
  InvalidOptionError,
  isFunctionOption,
  nonEmptyString,
  positiveInteger,
  positiveNumber,
  systemClock,
  type Clock,
} from '@portcullis/core';
import { BatchLimiter, queueBound } from './batch-limiter.js';
import type { LoaderEvents } from './events.js';
import { KeyBudget } from './key-budget.js';
import type { LoaderCache } from './loader-cache.js';
import { BoundedMemo, type CacheMap } from './memo.js';
import type { BatchResult } from './results.js';

/**
 * What the batch function gets beside its keys.
 *
 * @example
 * ```ts
 * import type { BatchFunction } from '@portcullis/dataloader-guard';
 *
 * const fetchUsers: BatchFunction<string, User> = async (ids, { signal }) => {
 *   const res = await fetch(`http://users.internal/users?ids=${ids.join(',')}`, { signal });
 *   const users = (await res.json()) as User[];
 *   return new Map(users.map((u) => [u.id, u])); // a Map: keys it lacks fail alone
 * };
 * ```
 */
export interface BatchInfo<Ctx = unknown> {
  /** Aborted when the batch times out or the loader's signal aborts: pass it to `fetch`, your driver, … */
  readonly signal: AbortSignal;
  /** The loader's `context` (a factory's loaders get the request's). */
  readonly context: Ctx;
  /** The loader's name, when it has one. */
  readonly loader: string | undefined;
}

/**
 * Loads many keys in one call: answers one value or `Error` per key in the keys' order (an array,
 * as DataLoader's `batchLoadFn`), or a `Map` from key to value or `Error`; synchronously or as a
 * promise. A DataLoader batch function fits as it is.
 */
export type BatchFunction<K, V, Ctx = unknown> = (
  keys: readonly K[],
  info: BatchInfo<Ctx>,
) => BatchResult<K, V> | PromiseLike<BatchResult<K, V>>;

/**
 * Options of {@link createLoader}. The DataLoader options (`batch`, `maxBatchSize`,
 * `batchScheduleFn`, `cache`, `cacheKeyFn`, `cacheMap`, `name`) mean what they mean there; the
 * rest are the guards.
 *
 * @example
 * ```ts
 * import type { LoaderOptions } from '@portcullis/dataloader-guard';
 *
 * const options: LoaderOptions<string, User> = {
 *   name: 'users',
 *   maxBatchSize: 100,
 *   maxKeys: 1_000,
 *   maxConcurrentBatches: 4,
 *   timeoutMs: 2_000,
 * };
 * ```
 */
export interface LoaderOptions<K, V, C = K, Ctx = unknown> {
  /** Names the loader in errors, events and stats (1 to 200 characters). Default none. */
  name?: string | undefined;
  /** `false` sends every key alone (`maxBatchSize` 1), as DataLoader. Default `true`. */
  batch?: boolean | undefined;
  /**
   * The most keys in one call; more are split into several batches. Whole number >= 1 or
   * `Infinity`. Default is 1_000 (DataLoader's is `Infinity`: one call for 50,000 keys).
   */
  maxBatchSize?: number | undefined;
  /** When a collected batch is sent, as DataLoader's. Default: after the current tick's promise jobs. */
  batchScheduleFn?: ((callback: () => void) => void) | undefined;
  /**
   * The most keys this loader sends to its batch function, over its life (a request's, for a
   * factory's loaders); a key beyond fails with `TooManyKeysError` and the keys still waiting for
   * their batch fail with it too. Whole number >= 1 or `Infinity`. Default `Infinity`.
   */
  maxKeys?: number | undefined;
  /** A budget shared with other loaders (see `createKeyBudget`), on top of `maxKeys`. Default none. */
  budget?: KeyBudget | undefined;
  /**
   * Batches of this loader allowed to run at once; later ones wait in a queue. Whole number >= 1
   * or `Infinity`. Default `Infinity`. Ignored when `limiter` is given.
   */
  maxConcurrentBatches?: number | undefined;
  /**
   * Batches allowed to wait for a slot when `maxConcurrentBatches` run; one more fails with
   * `BatchQueueFullError`. Whole number >= 0 or `Infinity`. Default is 1_000.
   */
  maxQueuedBatches?: number | undefined;
  /** Slots shared with other loaders (see `createBatchLimiter`), instead of `maxConcurrentBatches`. */
  limiter?: BatchLimiter | undefined;
  /**
   * How long one batch may take, in ms, from its call: then its signal aborts and its keys fail
   * with `BatchTimeoutError`. Finite, > 0. Default none.
   */
  timeoutMs?: number | undefined;
  /**
   * When everything must be over, in ms on the loader's `clock` (a request's deadline: `now + 500`).
   * A batch gets at most the time left (and `timeoutMs` at most); one that would start after it
   * fails at once with `BatchTimeoutError`, without a call. Needs no timer of its own: each batch's
   * timer is set to the earlier of the two. Default none.
   */
  deadline?: number | undefined;
  /**
   * Aborts everything this loader has waiting, queued or running (their keys fail with
   * `LoaderAbortedError`), and every later load. The request's signal, typically. Default none.
   */
  signal?: AbortSignal | undefined;
  /** Memoize each key's promise, as DataLoader: a key is loaded once per loader. Default `true`. */
  cache?: boolean | undefined;
  /** The memo's key for a load key (objects as keys, say). Default: the key itself. */
  cacheKeyFn?: ((key: K) => C) | undefined;
  /** Where the memo lives (an `LRUCache`, a `Map`, …). Default: a `Map` of at most `maxCacheEntries`. */
  cacheMap?: CacheMap<C, Promise<V>> | undefined;
  /** Bound of the default memo; when full, its oldest sixteenth (at least one entry) leaves. Whole number >= 1. Default is 10_000. */
  maxCacheEntries?: number | undefined;
  /**
   * Values shared across loaders (across requests) for a time to live, with optional
   * stale-while-revalidate: see `createLoaderCache`. Default none.
   */
  sharedCache?: LoaderCache | undefined;
  /**
   * When a batch fails as a whole (throws, rejects, or answers something that cannot be matched to
   * its keys), split it and try the halves again, to fail only the keys that fail. `true` allows
   * 2·⌈log2(maxBatchSize)⌉ extra calls per batch (enough to find one bad key), a number sets that
   * bound. Timeouts and aborts are not retried. Default `false`.
   */
  isolateFailures?: boolean | number | undefined;
  /** Passed to the batch function as `context`. Default `undefined`. */
  context?: Ctx | undefined;
  /** Where event listeners are; pass one emitter to many loaders to observe them together. */
  events?: Emitter<LoaderEvents> | undefined;
  /** Where the time for waits and durations comes from. Default is `systemClock`. */
  clock?: Clock | undefined;
}

/** {@link LoaderOptions}, validated, with the defaults applied. */
export interface ResolvedOptions<K, V, C, Ctx> {
  readonly name: string | undefined;
  readonly maxBatchSize: number;
  readonly schedule: ((callback: () => void) => void) | undefined;
  /** The loader's own budget, from `maxKeys`. */
  readonly ownBudget: KeyBudget | undefined;
  /** The budget shared with other loaders, `budget`. */
  readonly requestBudget: KeyBudget | undefined;
  readonly limiter: BatchLimiter | undefined;
  readonly timeoutMs: number | undefined;
  readonly deadline: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly memo: CacheMap<C, Promise<V>> | undefined;
  readonly cacheKeyFn: ((key: K) => C) | undefined;
  readonly sharedCache: LoaderCache | undefined;
  readonly isolationCalls: number;
  readonly context: Ctx;
  readonly events: Emitter<LoaderEvents>;
  readonly clock: Clock;
}

const DEFAULT_MAX_BATCH_SIZE = 1_000;

/** Validates `options` once, at construction, naming the option that is wrong. */
export function resolveOptions<K, V, C, Ctx>(
  options: LoaderOptions<K, V, C, Ctx>,
  prefix = '',
): ResolvedOptions<K, V, C, Ctx> {
  const at = (option: string): string => `${prefix}${option}`;
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError(prefix === '' ? 'options' : prefix.slice(0, -1), options, 'an object');
  }
  const name = options.name === undefined ? undefined : nonEmptyString(options.name, at('name'), 200);
  const batching = options.batch ?? true;
  if (typeof batching !== 'boolean') throw new InvalidOptionError(at('batch'), batching, 'a boolean');
  const maxBatchSize = batching
    ? countOrInfinity(options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE, at('maxBatchSize'))
    : 1;
  const schedule =
    options.batchScheduleFn === undefined
      ? undefined
      : isFunctionOption(options.batchScheduleFn, at('batchScheduleFn'));
  const maxKeys = countOrInfinity(options.maxKeys ?? Infinity, at('maxKeys'));
  const ownBudget = maxKeys === Infinity ? undefined : new KeyBudget(maxKeys, 'loader');
  if (options.budget !== undefined && !hasBrand(options.budget, 'isKeyBudget')) {
    throw new InvalidOptionError(at('budget'), options.budget, 'a KeyBudget from createKeyBudget()');
  }
  const limiter = resolveLimiter(options, at);
  const timeoutMs = options.timeoutMs === undefined ? undefined : positiveNumber(options.timeoutMs, at('timeoutMs'));
  const deadline = options.deadline === undefined ? undefined : finiteNumber(options.deadline, at('deadline'));
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError(at('signal'), signal, 'an AbortSignal');
  }
  const caching = options.cache ?? true;
  if (typeof caching !== 'boolean') throw new InvalidOptionError(at('cache'), caching, 'a boolean');
  const cacheKeyFn =
    options.cacheKeyFn === undefined ? undefined : isFunctionOption(options.cacheKeyFn, at('cacheKeyFn'));
  const maxCacheEntries = positiveInteger(options.maxCacheEntries ?? 10_000, at('maxCacheEntries'));
  const memo = caching ? (options.cacheMap ?? new BoundedMemo<C, Promise<V>>(maxCacheEntries)) : undefined;
  if (memo !== undefined && !isCacheMap(memo)) {
    throw new InvalidOptionError(at('cacheMap'), memo, 'an object with get, set, delete and clear methods');
  }
  if (options.sharedCache !== undefined && !hasBrand(options.sharedCache, 'isLoaderCache')) {
    throw new InvalidOptionError(at('sharedCache'), options.sharedCache, 'a LoaderCache from createLoaderCache()');
  }
  const clock = options.clock ?? systemClock;
  if (typeof (clock as Partial<Clock>).now !== 'function') {
    throw new InvalidOptionError(at('clock'), clock, 'an object with a now() method');
  }
  const events = options.events ?? new Emitter<LoaderEvents>();
  if (typeof (events as Partial<Emitter<LoaderEvents>>).emit !== 'function')
    throw new InvalidOptionError(at('events'), events, 'an Emitter');
  return {
    name,
    maxBatchSize,
    schedule,
    ownBudget,
    requestBudget: options.budget,
    limiter,
    timeoutMs,
    deadline,
    signal,
    memo,
    cacheKeyFn,
    sharedCache: options.sharedCache,
    isolationCalls: isolationCalls(options.isolateFailures ?? false, maxBatchSize, at),
    context: options.context as Ctx,
    events,
    clock,
  };
}

function resolveLimiter(
  options: LoaderOptions<never, unknown, unknown>,
  at: (option: string) => string,
): BatchLimiter | undefined {
  if (options.limiter !== undefined) {
    if (!hasBrand(options.limiter, 'isBatchLimiter')) {
      throw new InvalidOptionError(at('limiter'), options.limiter, 'a BatchLimiter from createBatchLimiter()');
    }
    return options.limiter;
  }
  const maxConcurrent = countOrInfinity(options.maxConcurrentBatches ?? Infinity, at('maxConcurrentBatches'));
  const maxQueue = queueBound(options.maxQueuedBatches ?? 1_000, at('maxQueuedBatches'));
  return maxConcurrent === Infinity ? undefined : new BatchLimiter({ maxConcurrent, maxQueue });
}

function isolationCalls(value: unknown, maxBatchSize: number, at: (option: string) => string): number {
  if (value === false) return 0;
  if (value === true) {
    const size = maxBatchSize === Infinity ? DEFAULT_MAX_BATCH_SIZE : maxBatchSize;
    return 2 * Math.ceil(Math.log2(Math.max(size, 2)));
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new InvalidOptionError(at('isolateFailures'), value, 'a boolean or a whole number >= 0');
}

function countOrInfinity(value: unknown, option: string): number {
  return value === Infinity ? Infinity : positiveInteger(value, option);
}

function isCacheMap(value: object): boolean {
  const map = value as Partial<Record<'get' | 'set' | 'delete' | 'clear', unknown>>;
  return (
    typeof map.get === 'function' &&
    typeof map.set === 'function' &&
    typeof map.delete === 'function' &&
    typeof map.clear === 'function'
  );
}
