import {
  Emitter,
  finiteNumber,
  InvalidOptionError,
  isFunctionOption,
  nonEmptyString,
  positiveInteger,
  positiveNumber,
  systemClock,
  type Clock,
} from '@portcullis/core';
import type { BreakerEvents } from './breaker-events.js';
import { openDurationFn, type OpenDuration } from './open-duration.js';
import { consecutiveFailures } from './trip/consecutive-failures.js';
import type { TripPolicy } from './trip/types.js';

/**
 * How a half-open breaker probes.
 *
 * @example
 * ```ts
 * import type { HalfOpenOptions } from '@portcullis/circuit-breaker';
 *
 * // Two probes at a time; three successes close; a probe running 10 s is treated as failed.
 * const halfOpen: HalfOpenOptions = { maxProbes: 2, successesToClose: 3, maxWaitMs: 10_000 };
 * ```
 */
export interface HalfOpenOptions {
  /**
   * Probes allowed in flight at once; other calls are refused at once. Whole number, 1 to 1000
   * (a breaker keeps a slot per probe). Default 1.
   */
  maxProbes?: number | undefined;
  /** Successful probes that close the breaker (they may run one after another). Whole number >= 1. Default 1. */
  successesToClose?: number | undefined;
  /**
   * A probe still running this long after it started counts as failed and the breaker opens
   * again, so a probe that hangs cannot wedge the breaker half-open. Decided lazily (on the next
   * call or read): no timer. Finite, > 0. Default 30000 (30 s).
   */
  maxWaitMs?: number | undefined;
}

/**
 * Options of {@link createBreaker}.
 *
 * @example
 * ```ts
 * import { createBreaker, consecutiveFailures, failureRate, type BreakerOptions } from '@portcullis/circuit-breaker';
 *
 * const options: BreakerOptions = {
 *   name: 'orders',
 *   trip: [consecutiveFailures(5), failureRate({ threshold: 0.5, window: { durationMs: 30_000 } })],
 *   openDuration: { initialMs: 5_000, maxMs: 60_000 },
 *   halfOpen: { maxProbes: 1, successesToClose: 2 },
 *   isFailure: (error) => !(error instanceof Error && error.name === 'NotFoundError'),
 * };
 * const breaker = createBreaker(options);
 * ```
 */
export interface BreakerOptions {
  /** Names the breaker in errors, events and snapshots. At most 200 characters. Default `'default'`. */
  name?: string | undefined;
  /**
   * When to open: one trip policy or several (any of them opens the breaker). Default
   * `consecutiveFailures(5)`.
   */
  trip?: TripPolicy | readonly TripPolicy[] | undefined;
  /** How long to stay open; fixed or growing; see {@link OpenDuration}. Default 30000 (30 s). */
  openDuration?: OpenDuration | undefined;
  /** How to probe when half-open; see {@link HalfOpenOptions}. */
  halfOpen?: HalfOpenOptions | undefined;
  /**
   * Whether an error counts as a failure of the upstream. An error for which it returns false
   * counts as a success (the upstream answered: a 404, a validation error). Never asked, and never
   * counted either way: an error that follows the caller's own abort, and a `PolicyDisposedError`
   * (the pipeline was disposed while the call was in flight). If it throws, the call rejects with
   * its error and the outcome is not counted (`counters.ignored`; a probe's slot is freed).
   * Default: every error is a failure.
   */
  isFailure?: ((error: unknown) => boolean) | undefined;
  /**
   * Whether a successful result counts as a failure (e.g. a `Response` with status >= 500, when
   * the protected function does not throw for those). If it throws, the call rejects with its error
   * and the outcome is not counted, as for `isFailure`. Default: none does.
   */
  isFailureResult?: ((result: unknown) => boolean) | undefined;
  /** The clock for open periods, windows and durations. Default {@link systemClock}. */
  clock?: Clock | undefined;
  /** Where to emit events; pass one emitter to several breakers to observe them together. Default: a new one. */
  events?: Emitter<BreakerEvents> | undefined;
}

/**
 * Everything a breaker is configured with but its name, validated and defaulted, with what the
 * breaker derives from it. Immutable, so a registry validates each service's settings once and
 * shares the result among the breakers it creates.
 */
export interface BreakerConfig {
  readonly trip: readonly TripPolicy[];
  /** The trip policies' names, for events. */
  readonly policyNames: readonly string[];
  /** True when a trip policy needs the time of each outcome. */
  readonly needsClock: boolean;
  /** A probe slower than this failed (the smallest slow-call threshold; Infinity without one). */
  readonly slowProbeMs: number;
  /** True when a trip policy needs call durations (a slow-call policy). */
  readonly timesCalls: boolean;
  readonly openDurationFor: (opens: number) => number;
  readonly maxProbes: number;
  readonly successesToClose: number;
  readonly maxWaitMs: number;
  readonly isFailure: ((error: unknown) => boolean) | undefined;
  readonly isFailureResult: ((result: unknown) => boolean) | undefined;
  readonly clock: Clock;
  readonly events: Emitter<BreakerEvents>;
}

/**
 * Where a registry puts a {@link BreakerConfig} it validated already, in the options of a breaker
 * it creates (not a public option: the symbol is not exported from the package).
 */
export const CONFIG: unique symbol = Symbol('portcullis.breakerConfig');

/** Options carrying a validated configuration; see {@link CONFIG}. */
export interface ConfiguredBreakerOptions extends BreakerOptions {
  readonly name: string;
  readonly [CONFIG]: BreakerConfig;
}

const DEFAULT_TRIP: readonly TripPolicy[] = Object.freeze([consecutiveFailures(5)]);

/** The most probes a half-open breaker may run at once (it keeps a start time per probe slot). */
export const MAX_PROBES = 1_000;

/** The longest breaker name, in characters. */
export const MAX_NAME_LENGTH = 200;

/** Validates every option once, naming the option in the error; applies the defaults. */
export function resolveBreakerOptions(options: BreakerOptions): { name: string; config: BreakerConfig } {
  const configured = (options as Partial<ConfiguredBreakerOptions> | null | undefined)?.[CONFIG];
  if (configured !== undefined) return { name: (options as ConfiguredBreakerOptions).name, config: configured };
  const config = resolveBreakerConfig(options);
  return { name: nonEmptyString(options.name ?? 'default', 'name', MAX_NAME_LENGTH), config };
}

/** Validates every option but the name, naming the option in the error; applies the defaults. */
export function resolveBreakerConfig(options: BreakerOptions): BreakerConfig {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const trip = tripPolicies(options.trip);
  const halfOpen: unknown = options.halfOpen ?? {};
  if (typeof halfOpen !== 'object' || halfOpen === null) {
    throw new InvalidOptionError('halfOpen', halfOpen, 'an object');
  }
  const { maxProbes, successesToClose, maxWaitMs } = halfOpen as HalfOpenOptions;
  const clock = options.clock ?? systemClock;
  if (typeof (clock as Partial<Clock> | null)?.now !== 'function') {
    throw new InvalidOptionError('clock', clock, 'a Clock ({ now(): number })');
  }
  const events = options.events ?? new Emitter<BreakerEvents>();
  if (!(events instanceof Emitter)) throw new InvalidOptionError('events', events, 'an Emitter');
  let slowProbeMs = Infinity;
  for (const policy of trip) slowProbeMs = Math.min(slowProbeMs, policy.slowCallMs ?? Infinity);
  return Object.freeze({
    trip,
    policyNames: Object.freeze(trip.map((policy) => policy.name)),
    needsClock: trip.some((policy) => policy.needsClock),
    slowProbeMs,
    timesCalls: Number.isFinite(slowProbeMs),
    openDurationFor: openDurationFn(options.openDuration, 'openDuration'),
    maxProbes: finiteNumber(maxProbes ?? 1, 'halfOpen.maxProbes', { min: 1, max: MAX_PROBES, integer: true }),
    successesToClose: positiveInteger(successesToClose ?? 1, 'halfOpen.successesToClose'),
    maxWaitMs: positiveNumber(maxWaitMs ?? 30_000, 'halfOpen.maxWaitMs'),
    isFailure: options.isFailure === undefined ? undefined : isFunctionOption(options.isFailure, 'isFailure'),
    isFailureResult:
      options.isFailureResult === undefined ? undefined : isFunctionOption(options.isFailureResult, 'isFailureResult'),
    clock,
    events,
  });
}

function tripPolicies(trip: BreakerOptions['trip']): readonly TripPolicy[] {
  if (trip === undefined) return DEFAULT_TRIP;
  const list: readonly unknown[] = Array.isArray(trip) ? (trip as readonly unknown[]) : [trip];
  if (list.length === 0) throw new InvalidOptionError('trip', trip, 'at least one trip policy');
  for (const [i, policy] of list.entries()) {
    if (typeof (policy as Partial<TripPolicy> | null)?.createMeter !== 'function') {
      throw new InvalidOptionError(
        Array.isArray(trip) ? `trip[${i}]` : 'trip',
        policy,
        'a trip policy (consecutiveFailures, failureRate, slowCallRate)',
      );
    }
  }
  // A copy: the caller's array may change later; the configuration may not.
  return Object.freeze([...(list as readonly TripPolicy[])]);
}
