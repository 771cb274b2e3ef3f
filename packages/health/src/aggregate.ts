import { worseStatus, type HealthStatus } from './status.js';

/**
 * What aggregation needs of a check's result (a `CheckResult` has it).
 *
 * @example
 * ```ts
 * import type { StatusOf } from '@portcullis/health';
 *
 * const cache: StatusOf = { status: 'fail', critical: false };
 * ```
 */
export interface StatusOf {
  readonly status: HealthStatus;
  readonly critical: boolean;
}

/**
 * A check's weight in the aggregate: its status, except that a non-critical check that fails only
 * degrades the whole (`warn`).
 */
export function contribution(result: StatusOf): HealthStatus {
  return result.status === 'fail' && !result.critical ? 'warn' : result.status;
}

/**
 * The aggregate status of some checks: the worst of their contributions (`pass` for none). So:
 * `fail` when a critical check fails; else `warn` when any check warns or a non-critical one fails;
 * else `pass`.
 *
 * @example
 * ```ts
 * import { aggregateStatus } from '@portcullis/health';
 *
 * aggregateStatus([
 *   { status: 'pass', critical: true },
 *   { status: 'fail', critical: false }, // a cache, say: degraded, not down
 * ]); // 'warn'
 * ```
 */
export function aggregateStatus(results: Iterable<StatusOf>): HealthStatus {
  let status: HealthStatus = 'pass';
  for (const result of results) status = worseStatus(status, contribution(result));
  return status;
}
