import type { Clock } from '@portcullis/core';
import { capOutput, toOutcome, type CheckConfig, type CheckOutcome } from './check.js';
import { CheckTimeoutError } from './errors.js';
import { Hysteresis } from './hysteresis.js';
import type { CheckResult, FailureReason } from './result.js';
import type { HealthStatus } from './status.js';

/** Told about every finished run: its result and the status reported before it. */
export type RunListener = (result: CheckResult, previous: HealthStatus | undefined) => void;

/**
 * One check's runs: results are reused for `ttlMs` (measured from the end of the run), concurrent
 * askers share the run in flight (single flight), every run is bounded by `timeoutMs`, and at most
 * one call of the check function is outstanding at any time (a call that ignores its signal makes
 * later runs fail as `busy` until it settles, instead of piling up).
 */
export class CheckRunner {
  readonly config: CheckConfig;
  readonly #clock: Clock;
  readonly #onRun: RunListener;
  readonly #hysteresis: Hysteresis;
  #last: CheckResult | undefined;
  #inFlight: Promise<CheckResult> | undefined;
  /** True while the check function's last call has not settled (even after its timeout). */
  #calling = false;

  constructor(config: CheckConfig, clock: Clock, onRun: RunListener) {
    this.config = config;
    this.#clock = clock;
    this.#onRun = onRun;
    this.#hysteresis = new Hysteresis(config.failureThreshold, config.successThreshold);
  }

  /** The last result, fresh or not; `undefined` before the first run ended. */
  get last(): CheckResult | undefined {
    return this.#last;
  }

  /**
   * The status a run failing now would be reported as (thresholds applied), without recording
   * it: what an answer shows for a run still going at its deadline.
   */
  get failingStatus(): HealthStatus {
    return this.#hysteresis.peek('fail');
  }

  /** The last result while it is fresh (younger than `ttlMs`), else `undefined`. */
  fresh(now: number): CheckResult | undefined {
    const last = this.#last;
    return last !== undefined && now - last.time < this.config.ttlMs ? last : undefined;
  }

  /** A fresh result, or the run in flight, or a new run. */
  get(now: number): CheckResult | Promise<CheckResult> {
    return this.fresh(now) ?? this.#inFlight ?? this.#start();
  }

  /** Starts a run unless one is in flight (the background scheduler's call). */
  refresh(): void {
    if (this.#inFlight === undefined) void this.#start();
  }

  #start(): Promise<CheckResult> {
    const started = this.#clock.now();
    if (this.#calling) {
      return Promise.resolve(this.#finish(started, BUSY, 'busy'));
    }
    // An object, not a `let`: it is set inside the callbacks below.
    const state = { settled: false };
    const run = new Promise<CheckResult>((resolve) => {
      const controller = new AbortController();
      const settle = (outcome: CheckOutcome, reason?: FailureReason): void => {
        if (state.settled) return;
        state.settled = true;
        clearTimeout(timer);
        resolve(this.#finish(started, outcome, reason));
      };
      const timer = setTimeout(() => {
        const error = new CheckTimeoutError(this.config.name, this.config.timeoutMs);
        settle({ status: 'fail', output: error.message }, 'timeout');
        controller.abort(error);
      }, this.config.timeoutMs);
      // Never keeps a process alive that is otherwise done.
      (timer as { unref?: () => void }).unref?.();
      this.#calling = true;
      const called = (): void => {
        this.#calling = false;
      };
      // Whatever the check's value does when read (a getter that throws, a `then` that throws),
      // the run settles: nothing here may throw, or the run would reject unhandled.
      const answer = (value: unknown): void => {
        let outcome: CheckOutcome;
        try {
          outcome = toOutcome(value);
        } catch (error) {
          settle(failure(error), 'error');
          return;
        }
        settle(outcome);
      };
      let value: unknown;
      let thenable: boolean;
      try {
        value = this.config.check(controller.signal);
        thenable = isThenable(value);
      } catch (error) {
        called();
        settle(failure(error), 'error');
        return;
      }
      if (!thenable) {
        // A synchronous check: its result is fresh before this call returns.
        called();
        answer(value);
        return;
      }
      Promise.resolve(value).then(
        (done) => {
          called();
          answer(done);
        },
        (error: unknown) => {
          called();
          settle(failure(error), 'error');
        },
      );
    });
    // A synchronous check has already finished (and cleared `#inFlight`) by now.
    if (!state.settled) this.#inFlight = run;
    return run;
  }

  #finish(started: number, outcome: CheckOutcome, reason?: FailureReason): CheckResult {
    const previous = this.#hysteresis.status;
    const status = this.#hysteresis.record(outcome.status ?? 'pass');
    const time = this.#clock.now();
    const { name, critical, componentType, componentId } = this.config;
    const result: CheckResult = {
      name,
      status,
      critical,
      outcome,
      time,
      durationMs: Math.max(0, time - started),
      ...(reason === undefined ? {} : { reason }),
      ...(componentType === undefined ? {} : { componentType }),
      ...(componentId === undefined ? {} : { componentId }),
    };
    this.#last = result;
    this.#inFlight = undefined;
    this.#onRun(result, previous);
    return result;
  }
}

const BUSY: CheckOutcome = Object.freeze({
  status: 'fail',
  output: 'the previous run has not settled yet (the check ignores its abort signal)',
});

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function failure(error: unknown): CheckOutcome {
  return { status: 'fail', output: capOutput(describe(error)) };
}

/** An error's message, or the thrown value as text; never throws (a check may throw anything). */
function describe(error: unknown): string {
  try {
    const message: unknown = error instanceof Error ? error.message : error;
    return typeof message === 'string' ? message : String(message);
  } catch {
    return 'the check failed with a value that cannot be shown as text';
  }
}
