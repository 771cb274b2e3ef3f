import { finiteNumber, type Clock } from '@portcullis/core';
import type { RouteOf } from './guard-watch.js';

/**
 * One HTTP request, as `recordRequest` takes it (from a framework hook, when the guard chain is
 * not the place to measure).
 *
 * @example
 * ```ts
 * import type { RequestRecord } from '@portcullis/telemetry';
 *
 * const record: RequestRecord = { method: 'GET', route: 'users', status: 200, durationMs: 3.2 };
 * ```
 */
export interface RequestRecord {
  /** The request method (a method outside the standard ones is labelled `_OTHER`). */
  readonly method: string;
  /**
   * The route's name (or path template) from your configuration, never the request's path: the
   * label must have a bounded set of values. `undefined` (or `''`): the request matched no route.
   */
  readonly route?: string | undefined;
  /** The response status. */
  readonly status: number;
  /** How long the request took, in ms (finite, >= 0). */
  readonly durationMs: number;
}

/**
 * Options of `instrumentGuard`.
 *
 * @example
 * ```ts
 * import type { InstrumentGuardOptions } from '@portcullis/telemetry';
 *
 * const options: InstrumentGuardOptions = { clock: { now: () => performance.now() } };
 * ```
 */
export interface InstrumentGuardOptions {
  /**
   * Finds the route of a request, for the route label. Default: the route `@portcullis/router`'s
   * guard adds to the context (of the wrapped guard's verdict, or of earlier guards).
   */
  route?: RouteOf | undefined;
  /** Measures durations, in ms. Default: `performance.now()`. */
  clock?: Clock | undefined;
}

/** Durations: `performance.now()`, monotonic. */
export const performanceClock: Clock = {
  now: function now(): number {
    return performance.now();
  },
};

/** A request's duration, checked: an `InvalidOptionError` naming `durationMs` when it is not a finite number >= 0. */
export function durationOf(record: RequestRecord): number {
  return finiteNumber(record.durationMs, 'durationMs', { min: 0 });
}
