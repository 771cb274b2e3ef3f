import type { CheckResult } from './checks.js';

/** Where a canary release stands. */
export type CanaryPhase = 'progressing' | 'paused' | 'promoted' | 'rolled-back';

/** What a decision did. */
export type CanaryAction = 'promote' | 'complete' | 'hold' | 'fail' | 'rollback' | 'pause' | 'resume' | 'restart';

/** The part of a release's state every decision reads and writes (what a shared store holds). */
export interface ReleaseState {
  readonly phase: CanaryPhase;
  /** Index in `steps`; -1 after a rollback, `steps.length` when complete. */
  readonly step: number;
  /** The canary's share in percent. */
  readonly percent: number;
  /** Failed intervals since the release (re)started. */
  readonly failedChecks: number;
}

/** A transition: the next state, what it did and why. */
export interface Transition {
  readonly state: ReleaseState;
  readonly action: CanaryAction;
  readonly reason: string;
}

/** The state a release starts in. */
export function initialState(steps: readonly number[]): ReleaseState {
  return { phase: 'progressing', step: 0, percent: steps[0] ?? 100, failedChecks: 0 };
}

/** One step up; passing the step before 100 % (or the last step) completes the release. */
export function stepUp(state: ReleaseState, steps: readonly number[]): ReleaseState {
  const next = state.step + 1;
  const percent = steps[next];
  if (percent === undefined || percent === 100)
    return { ...state, phase: 'promoted', step: steps.length, percent: 100 };
  return { ...state, step: next, percent };
}

/**
 * The scheduled decision on an interval's check results: any failed check makes a failed interval
 * (a rollback at `threshold`), else any `no-data` check holds, else the canary moves up a step.
 * `undefined` when the release is not progressing (paused, promoted or rolled back).
 */
export function afterInterval(
  state: ReleaseState,
  checks: readonly CheckResult[],
  steps: readonly number[],
  threshold: number,
): Transition | undefined {
  if (state.phase !== 'progressing') return undefined;
  const failed = checks.filter((c) => c.status === 'fail');
  if (failed.length > 0) {
    const failedChecks = state.failedChecks + 1;
    const why = failed.map((c) => `${c.name}: ${c.reason}`).join('; ');
    if (failedChecks >= threshold) {
      return {
        state: { phase: 'rolled-back', step: -1, percent: 0, failedChecks },
        action: 'rollback',
        reason: `${String(failedChecks)} failed intervals (threshold ${String(threshold)}); ${why}`,
      };
    }
    return {
      state: { ...state, failedChecks },
      action: 'fail',
      reason: `failed interval ${String(failedChecks)} of ${String(threshold)}; ${why}`,
    };
  }
  const missing = checks.filter((c) => c.status === 'no-data');
  if (missing.length > 0) {
    return { state, action: 'hold', reason: missing.map((c) => `${c.name}: ${c.reason}`).join('; ') };
  }
  const next = stepUp(state, steps);
  return {
    state: next,
    action: next.phase === 'promoted' ? 'complete' : 'promote',
    reason: checks.length === 0 ? 'no checks configured' : 'all checks passed',
  };
}

/** A manual action's next state; `undefined` when it does not apply (e.g. promoting a rolled-back release). */
export function manualTransition(
  state: ReleaseState,
  action: 'promote' | 'pause' | 'resume' | 'rollback' | 'restart',
  steps: readonly number[],
): { state: ReleaseState; action: CanaryAction } | undefined {
  switch (action) {
    case 'promote': {
      if (state.phase === 'promoted' || state.phase === 'rolled-back') return undefined;
      const next = stepUp(state, steps);
      return { state: next, action: next.phase === 'promoted' ? 'complete' : 'promote' };
    }
    case 'pause':
      return state.phase === 'progressing' ? { state: { ...state, phase: 'paused' }, action } : undefined;
    case 'resume':
      return state.phase === 'paused' ? { state: { ...state, phase: 'progressing' }, action } : undefined;
    case 'rollback':
      return { state: { ...state, phase: 'rolled-back', step: -1, percent: 0 }, action };
    case 'restart':
      return { state: initialState(steps), action };
  }
}
