import type { HealthStatus } from './status.js';

/**
 * A check's reported status, moved by its runs' statuses with thresholds against flapping:
 *
 * - The first run is reported as it is (there is no earlier state to protect).
 * - Reaching `fail` takes `failureThreshold` failing runs in a row; leaving it takes
 *   `successThreshold` non-failing runs in a row (then the last one's status is reported).
 * - Between `pass` and `warn` (both healthy) the status follows each run at once.
 *
 * A run that does not move the status and is of the opposite kind counts towards the streak; one
 * of the same kind as the reported status resets it.
 */
export class Hysteresis {
  readonly #failureThreshold: number;
  readonly #successThreshold: number;
  #status: HealthStatus | undefined;
  #streak = 0;

  constructor(failureThreshold: number, successThreshold: number) {
    this.#failureThreshold = failureThreshold;
    this.#successThreshold = successThreshold;
  }

  /** The reported status; `undefined` before the first run. */
  get status(): HealthStatus | undefined {
    return this.#status;
  }

  /** Runs in a row, so far, that would move the status across `fail` / not `fail`. */
  get streak(): number {
    return this.#streak;
  }

  /** The reported status one more run of `run` would give, without recording it. */
  peek(run: HealthStatus): HealthStatus {
    const current = this.#status;
    if (current === undefined || (run === 'fail') === (current === 'fail')) return run;
    return this.#streak + 1 >= (run === 'fail' ? this.#failureThreshold : this.#successThreshold) ? run : current;
  }

  /** Records one run's status; returns the reported status after it. */
  record(run: HealthStatus): HealthStatus {
    const current = this.#status;
    if (current === undefined || (run === 'fail') === (current === 'fail')) {
      this.#status = run;
      this.#streak = 0;
      return run;
    }
    this.#streak++;
    if (this.#streak >= (run === 'fail' ? this.#failureThreshold : this.#successThreshold)) {
      this.#status = run;
      this.#streak = 0;
    }
    return this.#status as HealthStatus;
  }
}
