import { FORWARD } from '../catalogue.js';
import type { Instruments } from '../instruments.js';
import { statusClass } from '../labels.js';
import type { AttemptView, Disposer, ObservableForwarder } from '../sources.js';
import { disposer } from './disposer.js';

/** An attempt's result label: the failure kind, or the status class. */
export function attemptResult(outcome: AttemptView['outcome']): string {
  if (outcome.failure !== undefined) return outcome.failure;
  return outcome.status === undefined ? 'other' : statusClass(outcome.status);
}

/**
 * A forwarder's attempts, by endpoint (the pool's endpoint id, `host:port`, from configuration or
 * discovery), result and retry, and their durations. The path is never a label.
 */
export function observeForwarder(instruments: Instruments, forwarder: ObservableForwarder): Disposer {
  const attempts = instruments.counter(FORWARD.attempts);
  const durations = instruments.histogram(FORWARD.duration);
  return disposer([
    forwarder.events.on('attempt', function recordAttempt(e) {
      attempts.add({ endpoint: e.endpoint, result: attemptResult(e.outcome), retry: e.attempt > 1 ? 'true' : 'false' });
      durations.record({ endpoint: e.endpoint }, e.outcome.durationMs / 1000);
    }),
  ]);
}
