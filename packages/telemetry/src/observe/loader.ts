import { LOADER } from '../catalogue.js';
import type { Instruments } from '../instruments.js';
import type { Disposer, ObservableLoader } from '../sources.js';
import { disposer } from './disposer.js';
import { optionalName } from './names.js';

/**
 * A loader's (or a factory's: every request's loaders) batches: count by outcome, size, wait and
 * duration histograms, cache hits and failed keys; budgets exceeded and keys aborted. The
 * `loader` label is the loader's `name` (empty when it has none).
 */
export function observeLoader(instruments: Instruments, loader: ObservableLoader): Disposer {
  const batches = instruments.counter(LOADER.batches);
  const sizes = instruments.histogram(LOADER.batchSize);
  const durations = instruments.histogram(LOADER.batchDuration);
  const waits = instruments.histogram(LOADER.batchWait);
  const hits = instruments.counter(LOADER.cacheHits);
  const failedKeys = instruments.counter(LOADER.failedKeys);
  const budgetExceeded = instruments.counter(LOADER.budgetExceeded);
  const abortedKeys = instruments.counter(LOADER.abortedKeys);
  return disposer([
    loader.events.on('batch', function recordBatch(e) {
      const labels = { loader: optionalName(e.loader) };
      batches.add({ ...labels, outcome: e.outcome });
      sizes.record(labels, e.size);
      waits.record(labels, e.waitMs / 1000);
      durations.record(labels, e.durationMs / 1000);
      if (e.hits > 0) hits.add(labels, e.hits);
      if (e.failedKeys > 0) failedKeys.add(labels, e.failedKeys);
    }),
    loader.events.on('tooManyKeys', function countBudgetExceeded(e) {
      budgetExceeded.add({ loader: optionalName(e.loader), budget: e.budget });
    }),
    loader.events.on('aborted', function countAborted(e) {
      abortedKeys.add({ loader: optionalName(e.loader) }, e.droppedKeys);
    }),
  ]);
}
