/**
 * Counters of one loader since it was made, from `loader.stats()` (a copy: it does not change
 * afterwards).
 *
 * @example
 * ```ts
 * const { loads, memoHits, sharedHits, batches, keysLoaded } = loader.stats();
 * const hitRate = (memoHits + sharedHits) / loads;
 * const meanBatch = keysLoaded / batches;
 * ```
 */
export interface LoaderStats {
  /** Calls to `load` (each key of `loadMany` counts) that were accepted. */
  loads: number;
  /** Loads answered from the loader's own memo (a key it already had, as DataLoader's cache). */
  memoHits: number;
  /** Loads answered from the shared value cache while fresh. */
  sharedHits: number;
  /** Loads answered from the shared value cache while stale (a refresh was started). */
  staleHits: number;
  /** Batch function calls made (first calls; retries of a split batch are in `isolationCalls`). */
  batches: number;
  /** Keys sent to the batch function in first calls. */
  keysLoaded: number;
  /** Largest batch sent. */
  largestBatch: number;
  /** Extra calls made to isolate the failing keys of failed batches. */
  isolationCalls: number;
  /** Batches that timed out. */
  timeouts: number;
  /** Batches that failed as a whole (threw, rejected, invalid answer, timed out). */
  failedBatches: number;
  /** Keys refused by a key budget (before reaching the backend). */
  refusedKeys: number;
  /** Batches refused because the queue was full. */
  refusedBatches: number;
  /** Keys that failed because the loader's signal aborted. */
  abortedKeys: number;
}

/** A fresh set of counters. */
export function emptyStats(): LoaderStats {
  return {
    loads: 0,
    memoHits: 0,
    sharedHits: 0,
    staleHits: 0,
    batches: 0,
    keysLoaded: 0,
    largestBatch: 0,
    isolationCalls: 0,
    timeouts: 0,
    failedBatches: 0,
    refusedKeys: 0,
    refusedBatches: 0,
    abortedKeys: 0,
  };
}
