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

/** Detailed bodies already written, per report (reports are reused while their results are). */
const DETAILED = new WeakMap<HealthReport, string>();
const VERBOSE = new WeakMap<HealthReport, string>();
/** Each result's `"name":[{…}]` member, written once (results are immutable). */
const MEMBER = new WeakMap<CheckResult, string>();
const VERBOSE_MEMBER = new WeakMap<CheckResult, string>();

/**
 * The body of an answer, as text: `{ status }` for the public, the details for admitted callers
 * (written once per report and kept while the report is).
 */
export function healthBodyText(report: HealthReport, service: ServiceInfo, details: boolean, verbose: boolean): string {
  if (!details) return PUBLIC[report.status];
  const cache = verbose ? VERBOSE : DETAILED;
  let text = cache.get(report);
  if (text === undefined) {
    text = detailedText(report, service, verbose);
    cache.set(report, text);
  }
  return text;
}

/** The detailed body (admitted callers): service fields, then every check's member, kept per result. */
function detailedText(report: HealthReport, service: ServiceInfo, verbose: boolean): string {
  const head = JSON.stringify({
    status: report.status,
    ...(service.serviceId === undefined ? {} : { serviceId: service.serviceId }),
    ...(service.version === undefined ? {} : { version: service.version }),
    ...(service.releaseId === undefined ? {} : { releaseId: service.releaseId }),
    ...(service.description === undefined ? {} : { description: service.description }),
  });
  const members = report.checks.map((result) => member(result, verbose));
  // `head` is an object: its closing brace makes way for the checks.
  return `${head.slice(0, -1)},"checks":{${members.join(',')}}}`;
}

function member(result: CheckResult, verbose: boolean): string {
  const cache = verbose ? VERBOSE_MEMBER : MEMBER;
  let text = cache.get(result);
  if (text === undefined) {
    text = `${JSON.stringify(result.name)}:[${JSON.stringify(entry(result, verbose))}]`;
    cache.set(result, text);
  }
  return text;
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
