import { BREAKER } from '../catalogue.js';
import type { Emit, Instruments } from '../instruments.js';
import type { BreakerSnapshotView, Disposer, ObservableBreaker, ObservableBreakerRegistry } from '../sources.js';
import { disposer } from './disposer.js';
import { weakReading } from './weak-reading.js';

/** Every state a breaker can be in: each gets a series, 1 for the current one. */
export const BREAKER_STATES: readonly string[] = ['closed', 'open', 'half-open', 'isolated'];

function snapshots(source: ObservableBreaker | ObservableBreakerRegistry): readonly BreakerSnapshotView[] {
  const snapshot: BreakerSnapshotView | readonly BreakerSnapshotView[] = source.snapshot();
  return isList(snapshot) ? snapshot : [snapshot];
}

function isList(
  snapshot: BreakerSnapshotView | readonly BreakerSnapshotView[],
): snapshot is readonly BreakerSnapshotView[] {
  return Array.isArray(snapshot);
}

/**
 * A breaker's (or every breaker of a registry's) state and call counters, read at collection time
 * from `snapshot()`, and its state changes counted as they happen. A registry's breakers are
 * labelled by service name: give it names from configuration (its `maxBreakers` bounds how many
 * are exported at once).
 */
export function observeBreaker(
  instruments: Instruments,
  source: ObservableBreaker | ObservableBreakerRegistry,
): Disposer {
  const transitions = instruments.counter(BREAKER.transitions);
  const current = weakReading(source, snapshots, () => {
    remove();
  });
  const each =
    (report: (snapshot: BreakerSnapshotView, emit: Emit) => void) =>
    (emit: Emit): void => {
      for (const snapshot of current() ?? []) report(snapshot, emit);
    };
  const remove = instruments.scrape([
    {
      spec: BREAKER.state,
      read: each((s, emit) => {
        for (const state of BREAKER_STATES) emit({ breaker: s.name, state }, s.state === state ? 1 : 0);
      }),
    },
    {
      spec: BREAKER.calls,
      read: each((s, emit) => {
        const { successes, failures, ignored, rejections } = s.counters;
        emit({ breaker: s.name, outcome: 'success' }, successes);
        emit({ breaker: s.name, outcome: 'failure' }, failures);
        emit({ breaker: s.name, outcome: 'ignored' }, ignored);
        emit({ breaker: s.name, outcome: 'rejected' }, rejections);
      }),
    },
    {
      spec: BREAKER.unhealthySince,
      read: each((s, emit) => {
        if (s.unhealthySince !== undefined) emit({ breaker: s.name }, s.unhealthySince / 1000);
      }),
    },
  ]);
  return disposer([
    remove,
    source.events.on('stateChange', function countTransition(event) {
      transitions.add({ breaker: event.breaker, from: event.from, to: event.to });
    }),
  ]);
}
