/**
 * A health status, as the IETF health check response draft (`application/health+json`) spells it:
 *
 * - `pass`: healthy.
 * - `warn`: healthy, with concerns (degraded): a non-critical dependency fails, or a check warns.
 * - `fail`: unhealthy: a critical dependency fails.
 *
 * @example
 * ```ts
 * import type { HealthStatus } from '@portcullis/health';
 *
 * const status: HealthStatus = 'warn';
 * ```
 */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/**
 * The statuses, best first.
 *
 * @example
 * ```ts
 * import { HEALTH_STATUSES } from '@portcullis/health';
 *
 * HEALTH_STATUSES.includes('warn'); // true
 * ```
 */
export const HEALTH_STATUSES: readonly HealthStatus[] = Object.freeze(['pass', 'warn', 'fail']);

const SEVERITY: Readonly<Record<HealthStatus, number>> = { pass: 0, warn: 1, fail: 2 };

/**
 * The worse of two statuses (`fail` over `warn` over `pass`).
 *
 * @example
 * ```ts
 * import { worseStatus } from '@portcullis/health';
 *
 * worseStatus('pass', 'warn'); // 'warn'
 * ```
 */
export function worseStatus(a: HealthStatus, b: HealthStatus): HealthStatus {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

/** True when `value` is one of the three statuses. */
export function isHealthStatus(value: unknown): value is HealthStatus {
  return value === 'pass' || value === 'warn' || value === 'fail';
}
