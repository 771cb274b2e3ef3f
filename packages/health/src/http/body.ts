import type { HealthReport, ServiceInfo } from '../health.js';
import type { CheckResult } from '../result.js';
import type { HealthStatus } from '../status.js';

/**
 * The media type of the IETF health check response draft.
 *
 * @example
 * ```ts
 * import { HEALTH_JSON } from '@portcullis/health';
 *
 * const res = await fetch('http://127.0.0.1:3000/health');
 * res.headers.get('content-type') === HEALTH_JSON; // true
 * ```
 */
export const HEALTH_JSON = 'application/health+json';

/**
 * One entry of a detailed answer's `checks` (the draft's check object; only its fields).
 *
 * @example
 * ```ts
 * import type { HealthCheckEntry } from '@portcullis/health';
 *
 * const entry: HealthCheckEntry = { status: 'pass', componentType: 'datastore', observedValue: 1.4, observedUnit: 'ms', time: '2026-01-01T00:00:00.000Z' };
 * ```
 */
export interface HealthCheckEntry {
  readonly status: HealthStatus;
  readonly componentType?: string;
  readonly componentId?: string;
  readonly observedValue?: unknown;
  readonly observedUnit?: string;
  /** When the result was obtained (ISO 8601). */
  readonly time: string;
  /** What the check said (why it is not `pass`), only with `?verbose`. */
  readonly output?: string;
}

/**
 * An `application/health+json` answer. The public one is `{ status }` alone; admitted callers also
 * get the service's fields and `checks`.
 *
 * @example
 * ```ts
 * import type { HealthBody } from '@portcullis/health';
 *
 * const body: HealthBody = { status: 'warn', checks: { 'cache:ping': [{ status: 'fail', time: '2026-01-01T00:00:00.000Z' }] } };
 * ```
 */
export interface HealthBody {
  readonly status: HealthStatus;
  readonly serviceId?: string;
  readonly version?: string;
  readonly releaseId?: string;
  readonly description?: string;
  /** Keyed by check name (the draft's `component:measurement`), each an array of one entry. */
  readonly checks?: Readonly<Record<string, readonly HealthCheckEntry[]>>;
}

/** The public body of each status, serialised once. */
const PUBLIC: Readonly<Record<HealthStatus, string>> = {
  pass: JSON.stringify({ status: 'pass' }),
  warn: JSON.stringify({ status: 'warn' }),
  fail: JSON.stringify({ status: 'fail' }),
};

/** The body of an answer, as text: `{ status }` for the public, the details for admitted callers. */
export function healthBodyText(report: HealthReport, service: ServiceInfo, details: boolean, verbose: boolean): string {
  if (!details) return PUBLIC[report.status];
  return JSON.stringify(healthBody(report, service, verbose));
}

/** The detailed body (admitted callers): service fields, and every check's entry. */
export function healthBody(report: HealthReport, service: ServiceInfo, verbose: boolean): HealthBody {
  const checks: Record<string, HealthCheckEntry[]> = {};
  for (const result of report.checks) checks[result.name] = [entry(result, verbose)];
  return {
    status: report.status,
    ...(service.serviceId === undefined ? {} : { serviceId: service.serviceId }),
    ...(service.version === undefined ? {} : { version: service.version }),
    ...(service.releaseId === undefined ? {} : { releaseId: service.releaseId }),
    ...(service.description === undefined ? {} : { description: service.description }),
    checks,
  };
}

function entry(result: CheckResult, verbose: boolean): HealthCheckEntry {
  const { outcome } = result;
  const output = verbose ? outcome.output : undefined;
  return {
    status: result.status,
    ...(result.componentType === undefined ? {} : { componentType: result.componentType }),
    ...(result.componentId === undefined ? {} : { componentId: result.componentId }),
    ...(outcome.observedValue === undefined ? {} : { observedValue: outcome.observedValue }),
    ...(outcome.observedUnit === undefined ? {} : { observedUnit: outcome.observedUnit }),
    time: isoTime(result.time),
    ...(output === undefined ? {} : { output }),
  };
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}
