import type { CheckOutcome } from './check.js';
import type { HealthStatus } from './status.js';

/**
 * Why a check counts as failed without having said so itself:
 *
 * - `error`: it threw or rejected.
 * - `timeout`: it ran past its `timeoutMs` (its signal was aborted).
 * - `busy`: its previous call had not settled yet (a function that ignores its signal); at most
 *   one call of each check is ever outstanding.
 * - `deadline`: the answer's deadline came first (this answer only; the run goes on). Counted as
 *   one more failure for the check's threshold, so its `status` may still be `pass` or `warn`.
 * - `shutdown`: the process is shutting down (the `shutdown` entry of readiness answers).
 *
 * @example
 * ```ts
 * const report = await health.run('readiness');
 * const slow = report.checks.filter((c) => c.reason === 'timeout' || c.reason === 'deadline');
 * ```
 */
export type FailureReason = 'error' | 'timeout' | 'busy' | 'deadline' | 'shutdown';

/**
 * The latest word on one check.
 *
 * @example
 * ```ts
 * import { createHealth } from '@portcullis/health';
 *
 * const health = createHealth({ checks: [{ name: 'db', check: () => 'pass' }] });
 * const report = await health.run('readiness');
 * const db = report.checks.find((c) => c.name === 'db');
 * console.log(db?.status, db?.outcome.observedValue, db?.durationMs);
 * ```
 */
export interface CheckResult {
  /** The check's name. */
  readonly name: string;
  /** What it reports, thresholds applied (see `failureThreshold`). */
  readonly status: HealthStatus;
  /** Whether it is critical. */
  readonly critical: boolean;
  /** What the last run itself found (before thresholds). */
  readonly outcome: CheckOutcome;
  /** When that run ended (clock ms). */
  readonly time: number;
  /** How long it took (clock ms). */
  readonly durationMs: number;
  /** Set when the run failed without saying so itself; see {@link FailureReason}. */
  readonly reason?: FailureReason | undefined;
  /** The draft's `componentType`, if the check has one. */
  readonly componentType?: string | undefined;
  /** The draft's `componentId`, if the check has one. */
  readonly componentId?: string | undefined;
}
