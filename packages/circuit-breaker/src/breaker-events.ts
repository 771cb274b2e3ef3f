import type { BreakerState } from './breaker-state.js';

/**
 * Why a breaker changed state:
 *
 * - `tripped`: a trip policy reached its threshold while closed (`policy` names it).
 * - `open-elapsed`: the open period ended; the next call is a probe.
 * - `probe-failed`: a half-open probe failed (or was slower than a slow-call threshold).
 * - `probe-timed-out`: a probe was still running `halfOpen.maxWaitMs` after it started.
 * - `probes-succeeded`: enough probes succeeded.
 * - `isolated` / `reset`: `isolate()` / `reset()` was called.
 */
export type TransitionReason =
  'tripped' | 'open-elapsed' | 'probe-failed' | 'probe-timed-out' | 'probes-succeeded' | 'isolated' | 'reset';

/** Payload of the `stateChange` event. */
export interface StateChangeEvent {
  /** The breaker's name. */
  readonly breaker: string;
  /** The state left. */
  readonly from: BreakerState;
  /** The state entered. */
  readonly to: BreakerState;
  /**
   * When, on the breaker's clock. Transitions that follow from time alone (an open period ending,
   * a probe timing out) are decided lazily, on the next call or read, but dated when they became
   * due.
   */
  readonly at: number;
  /** Why; see {@link TransitionReason}. */
  readonly reason: TransitionReason;
  /** For `tripped`: the trip policy that fired. */
  readonly policy?: string | undefined;
  /** For a transition to `open`: when the open period ends. */
  readonly openUntil?: number | undefined;
}

/** Payload of the `rejection` event: a call refused without running. */
export interface RejectionEvent {
  /** The breaker's name. */
  readonly breaker: string;
  /** The state that refused it. */
  readonly state: Exclude<BreakerState, 'closed'>;
}

/**
 * The events of a breaker (`breaker.events`, or a registry's `events` for all of its breakers).
 * Listeners run synchronously; payloads are only built when someone listens.
 *
 * @example
 * ```ts
 * import { createBreaker } from '@portcullis/circuit-breaker';
 *
 * const breaker = createBreaker({ name: 'orders' });
 * breaker.events.on('stateChange', (e) => metrics.gauge(`breaker.${e.breaker}.open`, e.to === 'closed' ? 0 : 1));
 * breaker.events.on('rejection', (e) => metrics.increment(`breaker.${e.breaker}.rejected`));
 * ```
 */
export interface BreakerEvents {
  /** The breaker changed state. */
  stateChange: StateChangeEvent;
  /** A call was refused (open, isolated, or half-open with every probe slot taken). */
  rejection: RejectionEvent;
}
