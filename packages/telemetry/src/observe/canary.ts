import { CANARY } from '../catalogue.js';
import type { Emit, Instruments } from '../instruments.js';
import type { CanaryStateView, Disposer, ObservableCanary } from '../sources.js';
import { disposer } from './disposer.js';
import { labelName } from './names.js';
import { weakReading } from './weak-reading.js';

/**
 * Options of `observeCanary`.
 *
 * @example
 * ```ts
 * import type { CanaryObserveOptions } from '@portcullis/telemetry';
 *
 * const options: CanaryObserveOptions = { name: 'orders-v2' };
 * ```
 */
export interface CanaryObserveOptions {
  /** The `canary` label: the `name` the release was created with. Default `'canary'` (its default too). */
  name?: string | undefined;
}

/** The phases of a release: each gets a series, 1 for the current one. */
const PHASES: readonly string[] = ['progressing', 'paused', 'promoted', 'rolled-back'];

function stateOf(canary: ObservableCanary): CanaryStateView | undefined {
  return canary.state();
}

/**
 * A canary's weight, phase and failed intervals, read at collection time from `state()` (which,
 * for an in-memory canary, analyses an interval that has ended first, as any read does), and its
 * decisions counted as they happen (when it has `events`).
 */
export function observeCanary(
  instruments: Instruments,
  canary: ObservableCanary,
  options: CanaryObserveOptions = {},
): Disposer {
  const name = labelName(options.name, 'canary', 'name');
  const current = weakReading(canary, stateOf, () => {
    remove();
  });
  const read =
    (report: (s: CanaryStateView, emit: Emit) => void) =>
    (emit: Emit): void => {
      const s = current();
      if (s !== undefined) report(s, emit);
    };
  const remove = instruments.scrape([
    {
      spec: CANARY.weight,
      read: read((s, emit) => {
        emit({ canary: name }, s.percent / 100);
      }),
    },
    {
      spec: CANARY.failedChecks,
      read: read((s, emit) => {
        emit({ canary: name }, s.failedChecks);
      }),
    },
    {
      spec: CANARY.phase,
      read: read((s, emit) => {
        for (const phase of PHASES) emit({ canary: name, phase }, s.phase === phase ? 1 : 0);
      }),
    },
  ]);
  // After the scrape-time metrics: a scrape that reads the state may make the in-memory canary
  // decide (an interval has ended), and prom-client collects metrics in the order they were
  // created, so the counter read after the gauges already has that decision.
  const decisions = instruments.counter(CANARY.decisions);
  const off = canary.events?.on('decision', function countDecision(decision) {
    decisions.add({ canary: name, action: decision.action, trigger: decision.trigger });
  });
  return disposer(off === undefined ? [remove] : [remove, off]);
}
