/**
 * A condition that opens a breaker, as configuration: the breaker creates its own
 * {@link TripMeter} from it, so one policy object can configure many breakers (a registry's
 * defaults). Build them with `consecutiveFailures`, `failureRate` and `slowCallRate`; several
 * policies combine with "any of them trips".
 *
 * @example
 * ```ts
 * import { createBreaker, consecutiveFailures, failureRate } from '@portcullis/circuit-breaker';
 *
 * const breaker = createBreaker({
 *   name: 'orders',
 *   trip: [consecutiveFailures(5), failureRate({ threshold: 0.5, minimumCalls: 20, window: { calls: 100 } })],
 * });
 * ```
 */
export interface TripPolicy {
  /** The policy's name, as reported in snapshots (`'consecutiveFailures'`, `'failureRate'`, …). */
  readonly name: string;
  /** True when the meter needs the time of each outcome or the duration of each call. */
  readonly needsClock: boolean;
  /**
   * For slow-call policies: calls slower than this many ms are slow, and a half-open probe this
   * slow counts as a failed probe. `undefined` for other policies.
   */
  readonly slowCallMs: number | undefined;
  /** A fresh meter for one breaker, starting empty at `now`. */
  createMeter(now: number): TripMeter;
}

/**
 * The running state of one {@link TripPolicy} in one breaker. Every method is O(1) (amortised for
 * time windows: at most one pass over the buckets per call, however long the idle gap).
 */
export interface TripMeter {
  /**
   * Records a call that ended at `now` after `durationMs` (both 0 when no policy of the breaker
   * needs the clock); returns true when the breaker should open.
   */
  record(failed: boolean, durationMs: number, now: number): boolean;
  /** Forgets every recorded outcome (the breaker closed, or was reset). */
  reset(now: number): void;
  /** The current value against the threshold, for snapshots. */
  read(now: number): TripReading;
}

/**
 * Where a trip policy stands, for dashboards: `value` is compared with `threshold` (a count of
 * consecutive failures, or a rate in 0..1 once `calls` reached the policy's minimum).
 */
export interface TripReading {
  /** The policy's name. */
  readonly policy: string;
  /** The current value: consecutive failures, or the failure / slow-call rate in the window. */
  readonly value: number;
  /** The value at which the breaker opens. */
  readonly threshold: number;
  /** Calls counted in the window (for consecutive failures: the current streak). */
  readonly calls: number;
  /** Calls the window needs before the rate may trip (1 for consecutive failures). */
  readonly minimumCalls: number;
}
