/** Settles one load's promise: its `resolve` or its `reject`. */
export type Settle = (outcome: unknown) => void;

/**
 * The keys collected in one tick for one batch function call, as DataLoader collects them: cache
 * hits join the batch too and are answered when it is (see {@link answerHits}).
 *
 * Per key it holds the key and its promise's two settlers, in flat arrays, put there by one
 * executor per batch: a load makes no object nor closure of its own (those were a fifth of the
 * bytes of a load).
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
  /** The executor of this batch's load promises: appends their settlers to `settlers`. */
  readonly executor: (resolve: (value: never) => void, reject: (reason?: unknown) => void) => void;
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
  const settlers: Settle[] = [];
  return {
    done: false,
    keys: [],
    cacheKeys: keyed ? [] : undefined,
    settlers,
    executor: function collect(resolve, reject): void {
      settlers.push(resolve as Settle, reject);
    },
    hits: undefined,
    createdAt,
  };
}

/** A promise for a key just pushed to `batch.keys`: its settlers go to `batch.settlers`. */
export function pendingLoad<K, V>(batch: Batch<K>): Promise<V> {
  return new Promise<V>(batch.executor);
}

let hitResolve: Settle = REFRESH;

function captureHit(resolve: (value: never) => void): void {
  hitResolve = resolve as Settle;
}

/** A load answered from a cache: settles with the batch it joined, as in DataLoader. */
export function hitOf<K, V>(batch: Batch<K>, cached: PromiseLike<V>): Promise<V> {
  const promise = new Promise<V>(captureHit);
  (batch.hits ??= []).push(hitResolve, cached);
  hitResolve = REFRESH;
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
