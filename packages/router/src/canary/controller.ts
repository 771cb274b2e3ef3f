import type { Clock } from '@portcullis/core';
import {
  duration,
  Emitter,
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
  figuresOf,
  latencyCheck,
  noData,
  type CheckResult,
  type CustomCheck,
  type ErrorRateSettings,
  type IntervalFigures,
  type LatencySettings,
} from './checks.js';
import { InvalidOutcomeError } from './errors.js';
import { VariantWindow } from './metrics.js';

/** Where a canary release stands. */
export type CanaryPhase = 'progressing' | 'paused' | 'promoted' | 'rolled-back';

/** What a decision did. */
export type CanaryAction = 'promote' | 'complete' | 'hold' | 'fail' | 'rollback' | 'pause' | 'resume' | 'restart';

/** One decision of the controller, scheduled or manual, with its reasons and figures. */
export interface CanaryDecision {
  /** The controller's name. */
  readonly name: string;
  /** `promote` (next step), `complete` (100 %), `hold` (not enough data), `fail` (a failed interval below the threshold), `rollback`, `pause`, `resume`, `restart`. */
  readonly action: CanaryAction;
  /** `schedule` (an interval's analysis) or `manual`. */
  readonly trigger: 'schedule' | 'manual';
  /** The canary's share before, in percent. */
  readonly from: number;
  /** The canary's share after, in percent. */
  readonly to: number;
  /** Failed intervals so far (the rollback threshold counts these). */
  readonly failedChecks: number;
  /** Why, in words. */
  readonly reason: string;
  /** Each check's result for the interval (empty for manual decisions). */
  readonly checks: readonly CheckResult[];
  /** When, on the controller's clock. */
  readonly at: number;
}

/** The controller's events. */
export interface CanaryEvents {
  /** Every decision, including holds. */
  decision: CanaryDecision;
  /** The canary's share changed (also emitted for the initial share). */
  weight: { readonly name: string; readonly percent: number; readonly from: number };
}

/** An outcome of one request, as the HTTP guard's `onComplete` reports it. */
export interface RequestOutcome {
  /** The response status (100–599). */
  status: number;
  /** How long the request took, in ms. */
  durationMs: number;
}

/** A snapshot of the controller's state. */
export interface CanaryState {
  /** The phase. */
  readonly phase: CanaryPhase;
  /** The canary's share, in percent. */
  readonly percent: number;
  /** The index of the current step in `steps` (-1 after a rollback, `steps.length` when complete). */
  readonly step: number;
  /** Failed intervals so far. */
  readonly failedChecks: number;
  /** When the current interval ends and is analysed. */
  readonly nextAnalysisAt: number;
}

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

/** A canary release controller (see {@link createCanary}). */
export interface Canary {
  /** Decisions and weight changes. */
  readonly events: Emitter<CanaryEvents>;
  /** The canary's current share in percent (analyses a finished interval first). */
  percent(): number;
  /** A snapshot of the state (analyses a finished interval first). */
  state(): CanaryState;
  /** Counts one request's outcome for `variant`; other variants than the canary and the baseline are ignored. */
  record(variant: string, outcome: RequestOutcome): void;
  /** Analyses the interval if it has ended; returns the decision, if any. Cheap when not due. */
  tick(): CanaryDecision | undefined;
  /** Moves to the next step now (manual; the schedule restarts from now). */
  promote(reason?: string): CanaryDecision | undefined;
  /** Stops the schedule; the share stays. */
  pause(reason?: string): CanaryDecision | undefined;
  /** Restarts the schedule with a fresh interval. */
  resume(reason?: string): CanaryDecision | undefined;
  /** Sends all traffic to the baseline and stops; nothing scheduled moves it again. */
  rollback(reason?: string): CanaryDecision;
  /** Starts over from the first step (after a rollback, with a fixed canary). */
  restart(reason?: string): CanaryDecision;
}

/**
 * Creates a canary controller. Traffic moves through `steps` one interval at a time; at the end of
 * each interval the canary's outcomes are compared with the baseline's over that interval, and a
 * failed interval counts towards `failureThreshold`, which rolls the canary back to 0 %. There is no
 * timer: each interval is analysed when it has ended and `record`, `percent`, `state` or `tick` is
 * called (call `tick` from a single scheduler to decide without traffic). Manual actions win over
 * the schedule.
 *
 * @example
 * ```ts
 * import { createCanary, createSplit } from '@portcullis/router';
 *
 * const split = createSplit({ name: 'orders', variants: [{ name: 'stable', weight: 100 }, { name: 'canary' }] });
 * const canary = createCanary({ split, intervalMs: 60_000, errorRate: { maxRatio: 2 }, latency: { maxIncreaseMs: 50 } });
 * canary.events.on('decision', (d) => console.log(d.action, d.from, '→', d.to, d.reason));
 * // in the guard's onComplete:
 * canary.record('canary', { status: 503, durationMs: 120 });
 * ```
 */
export function createCanary(options: CanaryOptions = {}): Canary {
  const name = nonEmptyString(options.name ?? 'canary', 'name', 256);
  const steps = stepsOf(options.steps ?? [5, 10, 25, 50, 100]);
  const intervalMs = finiteNumber(options.intervalMs ?? 60_000, 'intervalMs', { min: 1 });
  const threshold = positiveInteger(options.failureThreshold ?? 2, 'failureThreshold');
  const canaryName = nonEmptyString(options.canary ?? 'canary', 'canary', 256);
  const baselineName = nonEmptyString(options.baseline ?? 'stable', 'baseline', 256);
  if (canaryName === baselineName)
    throw new InvalidOptionError('baseline', baselineName, "a name other than the canary's");
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
      ['canary', canaryName],
      ['baseline', baselineName],
    ] as const) {
      if (!split.variants.includes(variant))
        throw new InvalidOptionError(option, variant, `a variant of split "${split.name}"`);
    }
  }
  const clock = options.clock ?? systemClock;

  const events = new Emitter<CanaryEvents>();
  const canaryWindow = new VariantWindow();
  const baselineWindow = new VariantWindow();
  let phase: CanaryPhase = 'progressing';
  let step = 0;
  let percent = steps[0] ?? 0;
  let failedChecks = 0;
  let nextAnalysisAt = clock.now() + intervalMs;

  function applyWeight(to: number): void {
    const from = percent;
    percent = to;
    split?.setWeights({ [canaryName]: to, [baselineName]: 100 - to });
    if (from !== to) events.emit('weight', { name, percent: to, from });
  }
  split?.setWeights({ [canaryName]: percent, [baselineName]: 100 - percent });

  function newInterval(now: number): void {
    canaryWindow.reset();
    baselineWindow.reset();
    nextAnalysisAt = now + intervalMs;
  }

  function decide(
    action: CanaryAction,
    trigger: 'schedule' | 'manual',
    from: number,
    reason: string,
    checks: readonly CheckResult[],
    at: number,
  ): CanaryDecision {
    const decision: CanaryDecision = { name, action, trigger, from, to: percent, failedChecks, reason, checks, at };
    events.emit('decision', decision);
    return decision;
  }

  /** Moves one step up (or completes), returning the action taken. */
  function stepUp(): 'promote' | 'complete' {
    const next = step + 1;
    if (next >= steps.length || steps[next] === 100) {
      step = steps.length;
      phase = 'promoted';
      applyWeight(100);
      return 'complete';
    }
    step = next;
    applyWeight(steps[next] ?? 100);
    return 'promote';
  }

  function analyse(): readonly CheckResult[] {
    const interval: IntervalFigures = { canary: figuresOf(canaryWindow), baseline: figuresOf(baselineWindow) };
    const results: CheckResult[] = [];
    if (errorRate !== undefined) results.push(errorRateCheck(interval, errorRate));
    if (latency !== undefined) results.push(latencyCheck(interval, latency));
    for (const c of custom) results.push(runCustom(c.name, c.check, interval, minRequests));
    return results;
  }

  function tick(): CanaryDecision | undefined {
    const now = clock.now();
    if (now < nextAnalysisAt) return undefined;
    if (phase !== 'progressing') {
      newInterval(now);
      return undefined;
    }
    const checks = analyse();
    newInterval(now);
    const from = percent;
    const failed = checks.filter((c) => c.status === 'fail');
    if (failed.length > 0) {
      failedChecks++;
      const why = failed.map((c) => `${c.name}: ${c.reason}`).join('; ');
      if (failedChecks >= threshold) {
        phase = 'rolled-back';
        step = -1;
        applyWeight(0);
        return decide(
          'rollback',
          'schedule',
          from,
          `${String(failedChecks)} failed intervals (threshold ${String(threshold)}); ${why}`,
          checks,
          now,
        );
      }
      return decide(
        'fail',
        'schedule',
        from,
        `failed interval ${String(failedChecks)} of ${String(threshold)}; ${why}`,
        checks,
        now,
      );
    }
    const missing = checks.filter((c) => c.status === 'no-data');
    if (missing.length > 0) {
      return decide('hold', 'schedule', from, missing.map((c) => `${c.name}: ${c.reason}`).join('; '), checks, now);
    }
    const action = stepUp();
    return decide(
      action,
      'schedule',
      from,
      checks.length === 0 ? 'no checks configured' : 'all checks passed',
      checks,
      now,
    );
  }

  return {
    events,
    percent: function canaryPercent(): number {
      tick();
      return percent;
    },
    state: function state(): CanaryState {
      tick();
      return { phase, percent, step, failedChecks, nextAnalysisAt };
    },
    record: function record(variant: string, outcome: RequestOutcome): void {
      const window = variant === canaryName ? canaryWindow : variant === baselineName ? baselineWindow : undefined;
      if (window === undefined) return;
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
      // The interval this outcome belongs to may have ended: analyse it before counting into the next.
      tick();
      window.record(isError(status), durationMs);
    },
    tick,
    promote: function promote(reason = 'manual promotion'): CanaryDecision | undefined {
      if (phase === 'promoted' || phase === 'rolled-back') return undefined;
      const now = clock.now();
      const from = percent;
      const action = stepUp();
      newInterval(now);
      return decide(action, 'manual', from, reason, [], now);
    },
    pause: function pause(reason = 'manual pause'): CanaryDecision | undefined {
      if (phase !== 'progressing') return undefined;
      phase = 'paused';
      return decide('pause', 'manual', percent, reason, [], clock.now());
    },
    resume: function resume(reason = 'manual resume'): CanaryDecision | undefined {
      if (phase !== 'paused') return undefined;
      phase = 'progressing';
      const now = clock.now();
      newInterval(now);
      return decide('resume', 'manual', percent, reason, [], now);
    },
    rollback: function rollback(reason = 'manual rollback'): CanaryDecision {
      const from = percent;
      phase = 'rolled-back';
      step = -1;
      applyWeight(0);
      return decide('rollback', 'manual', from, reason, [], clock.now());
    },
    restart: function restart(reason = 'manual restart'): CanaryDecision {
      const from = percent;
      const now = clock.now();
      phase = 'progressing';
      step = 0;
      failedChecks = 0;
      applyWeight(steps[0] ?? 0);
      newInterval(now);
      return decide('restart', 'manual', from, reason, [], now);
    },
  };
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
