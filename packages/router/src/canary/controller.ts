import { Emitter } from '@portcullis/core';
import type { Split } from '../split/split.js';
import { figuresOf, type CheckResult } from './checks.js';
import { VariantWindow } from './metrics.js';
import { canarySettings, checkOutcome, runChecks, type CanaryOptions, type CanarySettings } from './options.js';
import {
  afterInterval,
  initialState,
  manualTransition,
  type CanaryAction,
  type CanaryPhase,
  type ReleaseState,
} from './transitions.js';

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
  const settings = canarySettings(options);
  const { name, steps, intervalMs, threshold, split, clock } = settings;
  const events = new Emitter<CanaryEvents>();
  const canaryWindow = new VariantWindow();
  const baselineWindow = new VariantWindow();
  let state: ReleaseState = initialState(steps);
  let nextAnalysisAt = clock.now() + intervalMs;
  applyWeights(split, settings, state.percent);

  function newInterval(now: number): void {
    canaryWindow.reset();
    baselineWindow.reset();
    nextAnalysisAt = now + intervalMs;
  }

  function apply(
    next: ReleaseState,
    action: CanaryAction,
    trigger: 'schedule' | 'manual',
    reason: string,
    checks: readonly CheckResult[],
    at: number,
  ): CanaryDecision {
    const from = state.percent;
    state = next;
    if (next.percent !== from) {
      applyWeights(split, settings, next.percent);
      events.emit('weight', { name, percent: next.percent, from });
    }
    const decision: CanaryDecision = {
      name,
      action,
      trigger,
      from,
      to: next.percent,
      failedChecks: next.failedChecks,
      reason,
      checks,
      at,
    };
    events.emit('decision', decision);
    return decision;
  }

  function tick(): CanaryDecision | undefined {
    const now = clock.now();
    if (now < nextAnalysisAt) return undefined;
    const checks =
      state.phase === 'progressing'
        ? runChecks(settings, { canary: figuresOf(canaryWindow), baseline: figuresOf(baselineWindow) })
        : [];
    newInterval(now);
    const t = afterInterval(state, checks, steps, threshold);
    return t === undefined ? undefined : apply(t.state, t.action, 'schedule', t.reason, checks, now);
  }

  function manual(
    action: 'promote' | 'pause' | 'resume' | 'rollback' | 'restart',
    reason: string,
  ): CanaryDecision | undefined {
    const t = manualTransition(state, action, steps);
    if (t === undefined) return undefined;
    const now = clock.now();
    // A manual action starts a fresh interval: the schedule resumes from now.
    if (action !== 'pause') newInterval(now);
    return apply(t.state, t.action, 'manual', reason, [], now);
  }

  return {
    events,
    percent: function canaryPercent(): number {
      tick();
      return state.percent;
    },
    state: function canaryState(): CanaryState {
      tick();
      return { ...state, nextAnalysisAt };
    },
    record: function record(variant: string, outcome: RequestOutcome): void {
      const window =
        variant === settings.canary ? canaryWindow : variant === settings.baseline ? baselineWindow : undefined;
      if (window === undefined) return;
      checkOutcome(outcome);
      // The interval this outcome belongs to may have ended: analyse it before counting into the next.
      tick();
      window.record(settings.isError(outcome.status), outcome.durationMs);
    },
    tick,
    promote: (reason = 'manual promotion') => manual('promote', reason),
    pause: (reason = 'manual pause') => manual('pause', reason),
    resume: (reason = 'manual resume') => manual('resume', reason),
    rollback: (reason = 'manual rollback') => manual('rollback', reason) as CanaryDecision,
    restart: (reason = 'manual restart') => manual('restart', reason) as CanaryDecision,
  };
}

/** Sets the split's canary and baseline weights to `percent` and 100 − `percent`. */
export function applyWeights(split: Split | undefined, settings: CanarySettings, percent: number): void {
  split?.setWeights({ [settings.canary]: percent, [settings.baseline]: 100 - percent });
}
