/** How one load's promise is settled; a background refresh has no caller, so it is marked. */
export interface Settler<V> {
  readonly resolve: (value: V) => void;
  readonly reject: (error: unknown) => void;
  /** True for a stale-while-revalidate refresh: its outcome only feeds the shared cache. */
  readonly refresh?: true;
}

/**
 * The keys collected in one tick for one batch function call, as DataLoader collects them: cache
 * hits join the batch too and are answered when it is (see {@link answerHits}).
 */
export interface Batch<K, V> {
  /** True once dispatched or failed: no key joins it any more. */
  done: boolean;
  readonly keys: K[];
  /** The memo keys, when a `cacheKeyFn` makes them differ from `keys`. */
  readonly cacheKeys: unknown[] | undefined;
  readonly settlers: Settler<V>[];
  /** Answers for the cache hits that joined this batch. */
  hits: (() => void)[] | undefined;
  /** When its first load came, by the loader's clock. */
  readonly createdAt: number;
}

/** A new, empty batch. */
export function newBatch<K, V>(createdAt: number, keyed: boolean): Batch<K, V> {
  return { done: false, keys: [], cacheKeys: keyed ? [] : undefined, settlers: [], hits: undefined, createdAt };
}

/** A load answered from a cache: settles with the batch it joined, as in DataLoader. */
export function hitOf<K, V>(batch: Batch<K, V>, cached: PromiseLike<V>): Promise<V> {
  return new Promise<V>((resolve) => {
    (batch.hits ??= []).push(() => {
      resolve(cached);
    });
  });
}

/** Answers the cache hits that joined `batch` (once). */
export function answerHits<K, V>(batch: Batch<K, V>): number {
  const hits = batch.hits;
  if (hits === undefined) return 0;
  batch.hits = undefined;
  for (const answer of hits) answer();
  return hits.length;
}
