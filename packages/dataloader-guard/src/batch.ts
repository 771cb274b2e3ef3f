/** Settles one load's promise: its `resolve` or its `reject`. */
export type Settle = (outcome: unknown) => void;

/**
 * The keys collected in one tick for one batch function call, as DataLoader collects them: cache
 * hits join the batch too and are answered when it is (see {@link answerHits}).
 *
 * Per key it holds the key and two functions, in flat arrays: no object nor closure per load (a
 * load is a few hundred bytes in all, and these were a third of them).
 */
export interface Batch<K> {
  /** True once dispatched or failed: no key joins it any more. */
  done: boolean;
  readonly keys: K[];
  /** The memo keys, when a `cacheKeyFn` makes them differ from `keys`. */
  readonly cacheKeys: unknown[] | undefined;
  /**
   * Key `i`'s promise is settled by `settlers[2i]` (resolve) or `settlers[2i + 1]` (reject); a
   * background refresh, which has no caller, has {@link REFRESH} in both.
   */
  readonly settlers: Settle[];
  /** The cache hits that joined this batch: a hit's `resolve`, then the cached promise it gets. */
  hits: unknown[] | undefined;
  /** When its first load came, by the loader's clock. */
  readonly createdAt: number;
}

/** The settlers of a stale-while-revalidate refresh: its outcome only feeds the shared cache. */
export const REFRESH: Settle = function refreshed(): void {
  // Nobody waits for a refresh.
};

/** A new, empty batch. */
export function newBatch<K>(createdAt: number, keyed: boolean): Batch<K> {
  return { done: false, keys: [], cacheKeys: keyed ? [] : undefined, settlers: [], hits: undefined, createdAt };
}

let capturedResolve: Settle = REFRESH;
let capturedReject: Settle = REFRESH;

/**
 * The executor of every load's promise: one function for all of them, which hands the settlers
 * over in two module variables (the executor runs synchronously inside `new Promise`), so a load
 * makes no closure. (`Promise.withResolvers` would do it, from Node 22.)
 */
function capture(resolve: (value: never) => void, reject: (reason?: unknown) => void): void {
  capturedResolve = resolve as Settle;
  capturedReject = reject;
}

/** A promise for a key just pushed to `batch.keys`: its settlers go to `batch.settlers`. */
export function pendingLoad<K, V>(batch: Batch<K>): Promise<V> {
  const promise = new Promise<V>(capture);
  batch.settlers.push(capturedResolve, capturedReject);
  return promise;
}

/** A load answered from a cache: settles with the batch it joined, as in DataLoader. */
export function hitOf<K, V>(batch: Batch<K>, cached: PromiseLike<V>): Promise<V> {
  const promise = new Promise<V>(capture);
  (batch.hits ??= []).push(capturedResolve, cached);
  return promise;
}

/** Answers the cache hits that joined `batch` (once); how many there were. */
export function answerHits<K>(batch: Batch<K>): number {
  const hits = batch.hits;
  if (hits === undefined) return 0;
  batch.hits = undefined;
  for (let i = 0; i < hits.length; i += 2) (hits[i] as Settle)(hits[i + 1]);
  return hits.length / 2;
}

/** Hits that joined `batch` and wait for it. */
export function hitCount<K>(batch: Batch<K>): number {
  return batch.hits === undefined ? 0 : batch.hits.length / 2;
}
