import { LIMITER } from '../catalogue.js';
import type { Instruments } from '../instruments.js';
import type { Disposer, ObservableLimiter } from '../sources.js';
import { disposer } from './disposer.js';
import { labelName } from './names.js';

/**
 * Options of `observeLimiter`.
 *
 * @example
 * ```ts
 * import type { LimiterObserveOptions } from '@portcullis/telemetry';
 *
 * const options: LimiterObserveOptions = { name: 'billing-quotas' };
 * ```
 */
export interface LimiterObserveOptions {
  /** The `limiter` label: which limiter this is, when you observe several. Default `'default'`. */
  name?: string | undefined;
}

/**
 * Counts a limiter's decisions (by result, source and the limit that denied) and its store errors.
 * The key is never a label: it is client input.
 */
export function observeLimiter(
  instruments: Instruments,
  limiter: ObservableLimiter,
  options: LimiterObserveOptions = {},
): Disposer {
  const name = labelName(options.name, 'default', 'name');
  const decisions = instruments.counter(LIMITER.decisions);
  const storeErrors = instruments.counter(LIMITER.storeErrors);
  return disposer([
    limiter.events.on('decision', function countDecision(event) {
      const { allowed, limitedBy } = event.decision;
      decisions.add({
        limiter: name,
        result: allowed ? 'allowed' : 'denied',
        source: event.source,
        limited_by: allowed ? '' : (limitedBy ?? ''),
      });
    }),
    limiter.events.on('storeError', function countStoreError(event) {
      storeErrors.add({ limiter: name, source: event.source });
    }),
  ]);
}
