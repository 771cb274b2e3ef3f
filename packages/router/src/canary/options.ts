import type { Clock } from '@portcullis/core';
import {
  duration,
  finiteNumber,
  InvalidOptionError,
  isFunctionOption,
  nonEmptyString,
  nonNegativeInteger,
  positiveInteger,
  ratio,
  reportUnhandled,
  systemClock,
} from '@portcullis/core';
import type { Split } from '../split/split.js';
import {
  errorRateCheck,
  latencyCheck,
  noData,
  type CheckResult,
  type CustomCheck,
  type ErrorRateSettings,
  type IntervalFigures,
  type LatencySettings,
} from './checks.js';
import { InvalidOutcomeError } from './errors.js';

/** Options of {@link createCanary}. */
export interface CanaryOptions {
  /** The release's name, in events. Default is `canary`. */
  name?: string | undefined;
  /** The canary's shares in percent, strictly increasing, each in (0, 100]. Default is `[5, 10, 25, 50, 100]`. */
  steps?: readonly number[] | undefined;
  /** How long each interval (one analysis, at most one step) lasts, in ms. Default is 60_000. */
  intervalMs?: number | undefined;
  /** Failed intervals that roll the canary back to 0 %. Default is 2. */
  failureThreshold?: number | undefined;
  /** The variant name of the canary, as passed to `record`. Default is `canary`. */
  canary?: string | undefined;
  /** The variant name of the baseline. Default is `stable`. */
  baseline?: string | undefined;
  /** Requests each side needs in an interval for a check to judge it. Default is 100. */
  minRequests?: number | undefined;
  /**
   * Error-rate check: fails when the canary's rate is >= `maxRatio` × the baseline's and > `floor`.
   * Defaults are `maxRatio: 2`, `floor: 0.01`; `false` turns it off.
   */
  errorRate?: { maxRatio?: number; floor?: number } | false | undefined;
  /**
   * Latency check: fails when the canary's latency at `quantile` exceeds the baseline's by more
   * than `maxIncreaseMs`. Defaults are `quantile: 0.99`, `maxIncreaseMs: 50`; `false` turns it off.
   */
  latency?: { quantile?: number; maxIncreaseMs?: number } | false | undefined;
  /** More checks, judged on the same intervals. Default: none. */
  checks?: readonly CustomCheck[] | undefined;
  /** Which statuses count as errors. Default is `status >= 500`. */
  isError?: ((status: number) => boolean) | undefined;
  /** A split whose canary and baseline weights follow the controller's share. Default: none. */
  split?: Split | undefined;
  /** The clock. Default is `systemClock`. */
  clock?: Clock | undefined;
}

/** {@link CanaryOptions} validated, with defaults applied. */
export interface CanarySettings {
  readonly name: string;
  readonly steps: readonly number[];
  readonly intervalMs: number;
  readonly threshold: number;
  readonly canary: string;
  readonly baseline: string;
  readonly minRequests: number;
  readonly errorRate: ErrorRateSettings | undefined;
  readonly latency: LatencySettings | undefined;
  readonly custom: readonly CustomCheck[];
  readonly isError: (status: number) => boolean;
  readonly split: Split | undefined;
  readonly clock: Clock;
}

/** Validates `options` once (an `InvalidOptionError` names the first bad one) and applies the defaults. */
export function canarySettings(options: CanaryOptions): CanarySettings {
  const name = nonEmptyString(options.name ?? 'canary', 'name', 256);
  const steps = stepsOf(options.steps ?? [5, 10, 25, 50, 100]);
  const intervalMs = finiteNumber(options.intervalMs ?? 60_000, 'intervalMs', { min: 1 });
  const threshold = positiveInteger(options.failureThreshold ?? 2, 'failureThreshold');
  const canary = nonEmptyString(options.canary ?? 'canary', 'canary', 256);
  const baseline = nonEmptyString(options.baseline ?? 'stable', 'baseline', 256);
  if (canary === baseline) throw new InvalidOptionError('baseline', baseline, "a name other than the canary's");
  const minRequests = nonNegativeInteger(options.minRequests ?? 100, 'minRequests');
  const errorRate: ErrorRateSettings | undefined =
    options.errorRate === false
      ? undefined
      : {
          maxRatio: finiteNumber(options.errorRate?.maxRatio ?? 2, 'errorRate.maxRatio', { min: 1 }),
          floor: ratio(options.errorRate?.floor ?? 0.01, 'errorRate.floor'),
          minRequests,
        };
  const latency: LatencySettings | undefined =
    options.latency === false
      ? undefined
      : {
          quantile: finiteNumber(options.latency?.quantile ?? 0.99, 'latency.quantile', {
            min: 0,
            minExclusive: true,
            max: 1,
          }),
          maxIncreaseMs: duration(options.latency?.maxIncreaseMs ?? 50, 'latency.maxIncreaseMs'),
          minRequests,
        };
  const custom = (options.checks ?? []).map((c, i) => ({
    name: nonEmptyString(c.name, `checks.${String(i)}.name`, 256),
    check: isFunctionOption(c.check, `checks.${String(i)}.check`),
  }));
  const isError = options.isError === undefined ? defaultIsError : isFunctionOption(options.isError, 'isError');
  const split = options.split;
  if (split !== undefined) {
    for (const [option, variant] of [
      ['canary', canary],
      ['baseline', baseline],
    ] as const) {
      if (!split.variants.includes(variant)) {
        throw new InvalidOptionError(option, variant, `a variant of split "${split.name}"`);
      }
    }
  }
  const clock = options.clock ?? systemClock;
  return {
    name,
    steps,
    intervalMs,
    threshold,
    canary,
    baseline,
    minRequests,
    errorRate,
    latency,
    custom,
    isError,
    split,
    clock,
  };
}

/** Runs every configured check on one interval. */
export function runChecks(settings: CanarySettings, interval: IntervalFigures): readonly CheckResult[] {
  const results: CheckResult[] = [];
  if (settings.errorRate !== undefined) results.push(errorRateCheck(interval, settings.errorRate));
  if (settings.latency !== undefined) results.push(latencyCheck(interval, settings.latency));
  for (const c of settings.custom) results.push(runCustom(c.name, c.check, interval, settings.minRequests));
  return results;
}

function defaultIsError(status: number): boolean {
  return status >= 500;
}

function stepsOf(value: unknown): readonly number[] {
  const expected = 'a non-empty array of strictly increasing percentages in (0, 100]';
  if (!Array.isArray(value) || value.length === 0) throw new InvalidOptionError('steps', value, expected);
  let previous = 0;
  for (const step of value as unknown[]) {
    if (typeof step !== 'number' || !Number.isFinite(step) || step <= previous || step > 100) {
      throw new InvalidOptionError('steps', value, expected);
    }
    previous = step;
  }
  return Object.freeze([...(value as number[])]);
}

function runCustom(
  name: string,
  check: CustomCheck['check'],
  interval: IntervalFigures,
  minRequests: number,
): CheckResult {
  const skipped = noData(name, interval, minRequests);
  if (skipped !== undefined) return skipped;
  try {
    const result = check(interval);
    return {
      name,
      status: result.status === 'pass' ? 'pass' : 'fail',
      reason: result.reason ?? result.status,
      figures: result.figures ?? {},
    };
  } catch (error) {
    // A check that cannot judge is a failed check (Argo Rollouts and Flagger do the same).
    reportUnhandled(error, `canary check ${name}`);
    return { name, status: 'fail', reason: `the check threw: ${String(error)}`, figures: {} };
  }
}

/** Throws an `InvalidOutcomeError` unless `outcome` has an HTTP status and a duration >= 0. */
export function checkOutcome(outcome: { status: number; durationMs: number }): void {
  const { status, durationMs } = outcome;
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new InvalidOutcomeError(
      outcome,
      `Invalid outcome status: expected an integer from 100 to 599, got ${String(status)}`,
    );
  }
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0) {
    throw new InvalidOutcomeError(
      outcome,
      `Invalid outcome duration: expected a finite number of ms >= 0, got ${String(durationMs)}`,
    );
  }
}
