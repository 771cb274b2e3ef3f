import { duration, finiteNumber, InvalidOptionError, nonNegativeInteger } from '@portcullis/core';
import type { OutcomeKind } from './outcome-kind.js';

/**
 * Passive outlier detection (Envoy's `outlier_detection`, consecutive kinds): requests' own
 * outcomes eject an endpoint that keeps failing, for a time that grows with each ejection in a row.
 *
 * @example
 * ```ts
 * import type { OutlierDetectionOptions } from '@portcullis/router';
 *
 * // Three refused/reset/timed-out requests in a row eject for 10 s, then 20 s, 30 s... up to 2 min.
 * const outlierDetection: OutlierDetectionOptions = {
 *   consecutiveGatewayErrors: 3,
 *   baseEjectionTimeMs: 10_000,
 *   maxEjectionTimeMs: 120_000,
 * };
 * ```
 */
export interface OutlierDetectionOptions {
  /**
   * Ejects after this many failures in a row of any kind: 5xx statuses and failures (refused,
   * reset, timeout, other). Client aborts never count and do not break a run; a response below
   * 500 ends it. Whole number; 0 turns this kind off. Default 5 (Envoy's).
   */
  consecutive5xx?: number | undefined;
  /**
   * Ejects after this many gateway errors in a row: refused, reset, timeout, and 502/503/504
   * (any other outcome but an abort ends the run). Whole number; 0 turns this kind off. Default 3:
   * an endpoint that cannot be reached three times running is down, not unlucky.
   */
  consecutiveGatewayErrors?: number | undefined;
  /**
   * The first ejection's length in ms; the k-th in a row lasts `k × baseEjectionTimeMs` (capped by
   * `maxEjectionTimeMs`). The count of ejections in a row drops by one for each
   * `baseEjectionTimeMs` the endpoint then stays in. Finite, > 0. Default 30000 (30 s).
   */
  baseEjectionTimeMs?: number | undefined;
  /** The longest ejection, in ms. Finite, >= `baseEjectionTimeMs`. Default 300000 (5 min). */
  maxEjectionTimeMs?: number | undefined;
  /**
   * At most this share of the pool's endpoints is ejected at once: `floor(n × percent / 100)`, and
   * never all of them (at least one endpoint always stays in). 0 to 100. Default 50 (Envoy's 10
   * would never eject from the pools of 3 to 9 instances an in-process gateway typically has).
   */
  maxEjectionPercent?: number | undefined;
}

/** Outlier detection's settings, validated. */
export interface OutlierSettings {
  readonly consecutive5xx: number;
  readonly consecutiveGatewayErrors: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
}

/** Why an endpoint was ejected. */
export type EjectionReason = 'consecutive-5xx' | 'consecutive-gateway-errors';

/** Outlier detection's per-endpoint state (kept by the pool's endpoint record). */
export interface OutlierCounters {
  consecutive5xx: number;
  consecutiveGatewayErrors: number;
  /** Ejections in a row (decays while the endpoint stays in). */
  ejections: number;
  /** When the endpoint was last restored (clock ms), for the decay. */
  restoredAt: number;
}

/** Validates the `outlierDetection` option; `undefined` when turned off (`false`). */
export function outlierSettings(options: OutlierDetectionOptions | false | undefined): OutlierSettings | undefined {
  if (options === false) return undefined;
  if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
    throw new InvalidOptionError('outlierDetection', options, 'an object of outlier detection options, or false');
  }
  const o = options ?? {};
  const baseEjectionTimeMs = finiteNumber(o.baseEjectionTimeMs ?? 30_000, 'outlierDetection.baseEjectionTimeMs', {
    min: 0,
    minExclusive: true,
  });
  const maxEjectionTimeMs = duration(
    o.maxEjectionTimeMs ?? Math.max(300_000, baseEjectionTimeMs),
    'outlierDetection.maxEjectionTimeMs',
  );
  if (maxEjectionTimeMs < baseEjectionTimeMs) {
    throw new InvalidOptionError(
      'outlierDetection.maxEjectionTimeMs',
      maxEjectionTimeMs,
      `>= baseEjectionTimeMs (${String(baseEjectionTimeMs)})`,
    );
  }
  return {
    consecutive5xx: nonNegativeInteger(o.consecutive5xx ?? 5, 'outlierDetection.consecutive5xx'),
    consecutiveGatewayErrors: nonNegativeInteger(
      o.consecutiveGatewayErrors ?? 3,
      'outlierDetection.consecutiveGatewayErrors',
    ),
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionPercent: finiteNumber(o.maxEjectionPercent ?? 50, 'outlierDetection.maxEjectionPercent', {
      min: 0,
      max: 100,
    }),
  };
}

/** Fresh counters for an endpoint that joins at `now`. */
export function outlierCounters(now: number): OutlierCounters {
  return { consecutive5xx: 0, consecutiveGatewayErrors: 0, ejections: 0, restoredAt: now };
}

/**
 * Counts one outcome of an endpoint that is in; returns why it should be ejected when a run
 * reaches its threshold (the pool then checks the ejection cap).
 */
export function recordOutcome(
  counters: OutlierCounters,
  kind: OutcomeKind,
  settings: OutlierSettings,
): EjectionReason | undefined {
  switch (kind) {
    case 'ignored':
      return undefined;
    case 'success':
      counters.consecutive5xx = 0;
      counters.consecutiveGatewayErrors = 0;
      return undefined;
    case 'error':
      counters.consecutiveGatewayErrors = 0;
      counters.consecutive5xx++;
      break;
    case 'gateway':
      counters.consecutive5xx++;
      counters.consecutiveGatewayErrors++;
      break;
  }
  const { consecutiveGatewayErrors: gatewayLimit, consecutive5xx: limit } = settings;
  if (gatewayLimit > 0 && counters.consecutiveGatewayErrors >= gatewayLimit) return 'consecutive-gateway-errors';
  if (limit > 0 && counters.consecutive5xx >= limit) return 'consecutive-5xx';
  return undefined;
}

/**
 * Starts an ejection at `now`: counts it (after the decay since the last restore) and returns how
 * long it lasts, `min(ejections × base, max)`. Clears the runs, so the endpoint comes back with a
 * clean slate.
 */
export function startEjection(counters: OutlierCounters, now: number, settings: OutlierSettings): number {
  const decay = Math.floor(Math.max(0, now - counters.restoredAt) / settings.baseEjectionTimeMs);
  counters.ejections = Math.max(0, counters.ejections - decay) + 1;
  counters.consecutive5xx = 0;
  counters.consecutiveGatewayErrors = 0;
  return Math.min(counters.ejections * settings.baseEjectionTimeMs, settings.maxEjectionTimeMs);
}

/** How many of `total` endpoints may be ejected at once: `floor(total × percent / 100)`, at most `total - 1`. */
export function ejectionCap(total: number, settings: OutlierSettings): number {
  return Math.max(0, Math.min(total - 1, Math.floor((total * settings.maxEjectionPercent) / 100)));
}
