import type { VariantWindow } from './metrics.js';

/** What one variant did over an interval, as checks see it. */
export interface VariantFigures {
  /** Requests counted. */
  readonly requests: number;
  /** Of which errors. */
  readonly errors: number;
  /** errors / requests (0 with no requests). */
  readonly errorRate: number;
  /** The latency at quantile `q` in (0, 1], in ms. */
  quantile(q: number): number;
}

/** The interval a check judges: the canary's and the baseline's figures. */
export interface IntervalFigures {
  /** The canary's figures. */
  readonly canary: VariantFigures;
  /** The baseline's figures. */
  readonly baseline: VariantFigures;
}

/** A check's verdict on one interval. `no-data`: too few requests to judge; it neither passes nor fails. */
export type CheckStatus = 'pass' | 'fail' | 'no-data';

/** One check's result, with the figures it judged. */
export interface CheckResult {
  /** The check's name (`error-rate`, `latency` or a custom check's). */
  readonly name: string;
  /** Its verdict. */
  readonly status: CheckStatus;
  /** Why, in words (for logs and events). */
  readonly reason: string;
  /** The numbers behind the verdict. */
  readonly figures: Readonly<Record<string, number>>;
}

/** A custom check (e.g. a business metric). Custom checks get the same minimum-request rule. */
export interface CustomCheck {
  /** Its name, shown in events. */
  name: string;
  /** Judges one interval: `pass` or `fail` with a reason and figures. */
  check: (interval: IntervalFigures) => {
    status: 'pass' | 'fail';
    reason?: string;
    figures?: Record<string, number>;
  };
}

/** Both sides' figures as read-only views over their windows. */
export function figuresOf(window: VariantWindow): VariantFigures {
  return {
    requests: window.requests,
    errors: window.errors,
    errorRate: window.errorRate(),
    quantile: (q: number) => window.quantile(q),
  };
}

/** The `no-data` result when either side has fewer than `minRequests` requests; else `undefined`. */
export function noData(name: string, interval: IntervalFigures, minRequests: number): CheckResult | undefined {
  const { canary, baseline } = interval;
  if (canary.requests >= minRequests && baseline.requests >= minRequests) return undefined;
  return {
    name,
    status: 'no-data',
    reason: `fewer than ${String(minRequests)} requests (canary ${String(canary.requests)}, baseline ${String(baseline.requests)})`,
    figures: { canaryRequests: canary.requests, baselineRequests: baseline.requests, minRequests },
  };
}

/** Error-rate check settings (see `CanaryOptions.errorRate`). */
export interface ErrorRateSettings {
  readonly maxRatio: number;
  readonly floor: number;
  readonly minRequests: number;
}

/**
 * Fails when the canary's error rate is at least `maxRatio` × the baseline's and above `floor` (so
 * that 0 errors against 0, or 0.1 % against 0 %, is not a failure).
 */
export function errorRateCheck(interval: IntervalFigures, s: ErrorRateSettings): CheckResult {
  const skipped = noData('error-rate', interval, s.minRequests);
  if (skipped !== undefined) return skipped;
  const c = interval.canary.errorRate;
  const b = interval.baseline.errorRate;
  const figures = {
    canaryErrorRate: c,
    baselineErrorRate: b,
    maxRatio: s.maxRatio,
    floor: s.floor,
    canaryRequests: interval.canary.requests,
    baselineRequests: interval.baseline.requests,
  };
  const failed = c > s.floor && c >= s.maxRatio * b;
  return {
    name: 'error-rate',
    status: failed ? 'fail' : 'pass',
    reason: `canary error rate ${pct(c)} ${failed ? '>=' : '<'} ${String(s.maxRatio)} × baseline ${pct(b)}${failed ? ` and > ${pct(s.floor)}` : ''}`,
    figures,
  };
}

/** Latency check settings (see `CanaryOptions.latency`). */
export interface LatencySettings {
  readonly quantile: number;
  readonly maxIncreaseMs: number;
  readonly minRequests: number;
}

/** Fails when the canary's latency at the quantile exceeds the baseline's by more than `maxIncreaseMs`. */
export function latencyCheck(interval: IntervalFigures, s: LatencySettings): CheckResult {
  const skipped = noData('latency', interval, s.minRequests);
  if (skipped !== undefined) return skipped;
  const c = interval.canary.quantile(s.quantile);
  const b = interval.baseline.quantile(s.quantile);
  const failed = c > b + s.maxIncreaseMs;
  const label = `p${String(Math.round(s.quantile * 1000) / 10)}`;
  return {
    name: 'latency',
    status: failed ? 'fail' : 'pass',
    reason: `canary ${label} ${String(c)} ms ${failed ? '>' : '<='} baseline ${String(b)} ms + ${String(s.maxIncreaseMs)} ms`,
    figures: { canaryLatencyMs: c, baselineLatencyMs: b, quantile: s.quantile, maxIncreaseMs: s.maxIncreaseMs },
  };
}

function pct(rate: number): string {
  return `${String(Math.round(rate * 10_000) / 100)} %`;
}
