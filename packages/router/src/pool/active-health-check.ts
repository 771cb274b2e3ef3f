import {
  finiteNumber,
  InvalidOptionError,
  isFunctionOption,
  oneOf,
  positiveInteger,
  positiveNumber,
} from '@portcullis/core';
import type { UpstreamEndpoint } from './endpoint.js';

/**
 * A custom active check: resolves (or returns) true when `endpoint` is fine. It must stop when
 * `signal` aborts (the check's timeout); a rejection counts as a failed check.
 *
 * @example
 * ```ts
 * import { connect } from 'node:net';
 * import type { HealthProbe } from '@portcullis/router';
 *
 * // A TCP check: the port accepts a connection.
 * const tcp: HealthProbe = (endpoint, signal) =>
 *   new Promise((resolve) => {
 *     const socket = connect({ host: endpoint.host, port: endpoint.port, signal });
 *     socket.once('connect', () => { socket.destroy(); resolve(true); });
 *     socket.once('error', () => { resolve(false); });
 *   });
 * ```
 */
export type HealthProbe = (endpoint: UpstreamEndpoint, signal: AbortSignal) => boolean | Promise<boolean>;

/**
 * A status, or an inclusive range of statuses such as `[200, 299]`.
 *
 * @example
 * ```ts
 * import type { StatusMatch } from '@portcullis/router';
 *
 * const expectedStatuses: StatusMatch[] = [[200, 299], 304];
 * ```
 */
export type StatusMatch = number | readonly [number, number];

/**
 * Active health checks: the pool's one scheduler asks each endpoint every `intervalMs` (± jitter)
 * and marks it unhealthy after `unhealthyThreshold` failed checks in a row, healthy again after
 * `healthyThreshold` passed ones. By default a check is an HTTP `GET path` that passes on a 2xx.
 *
 * @example
 * ```ts
 * import type { HealthCheckOptions } from '@portcullis/router';
 *
 * const healthCheck: HealthCheckOptions = {
 *   path: '/ready',
 *   intervalMs: 5_000,
 *   timeoutMs: 1_000,
 *   unhealthyThreshold: 3,
 *   healthyThreshold: 2,
 *   expectedStatuses: [200, 204],
 * };
 * ```
 */
export interface HealthCheckOptions {
  /** The path checked (with its query, if any); must start with `/`. Default `'/health'`. */
  path?: string | undefined;
  /** `GET` or `HEAD`. Default `'GET'`. */
  method?: 'GET' | 'HEAD' | undefined;
  /** Extra request headers (a `host` for virtual hosts, a token). Default: none. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Statuses that pass: numbers and inclusive ranges. Default `[[200, 299]]`. */
  expectedStatuses?: readonly StatusMatch[] | undefined;
  /** Time between two checks of one endpoint, in ms. Finite, > 0. Default 10000 (10 s). */
  intervalMs?: number | undefined;
  /**
   * Each wait is `intervalMs × (1 ± jitterRatio)`, drawn anew, so endpoints (and gateways) do not
   * check in lockstep. 0 to 1. Default 0.1.
   */
  jitterRatio?: number | undefined;
  /** A check not answered within this many ms fails (it is aborted). Finite, > 0. Default 2000. */
  timeoutMs?: number | undefined;
  /** Failed checks in a row that mark a healthy endpoint unhealthy. Whole number >= 1. Default 3. */
  unhealthyThreshold?: number | undefined;
  /**
   * Passed checks in a row that mark an unhealthy endpoint healthy again, and that bring an
   * ejected one back before its ejection ends (as Envoy does). Whole number >= 1. Default 2.
   */
  healthyThreshold?: number | undefined;
  /** Checks in flight at once, across the pool (the others wait their turn). Whole number >= 1. Default 64. */
  maxConcurrent?: number | undefined;
  /** A check of your own instead of the HTTP one (TCP, gRPC health, a script). */
  probe?: HealthProbe | undefined;
}

/** Active health checks' settings, validated. */
export interface HealthCheckSettings {
  readonly path: string;
  readonly method: 'GET' | 'HEAD';
  readonly headers: Readonly<Record<string, string>>;
  readonly expected: readonly (readonly [number, number])[];
  readonly intervalMs: number;
  readonly jitterRatio: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  readonly maxConcurrent: number;
  readonly probe: HealthProbe | undefined;
}

/** Validates the `healthCheck` option; `undefined` when absent or `false` (no active checks). */
export function healthCheckSettings(options: HealthCheckOptions | false | undefined): HealthCheckSettings | undefined {
  if (options === undefined || options === false) return undefined;
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('healthCheck', options, 'an object of health check options, or false');
  }
  const path = options.path ?? '/health';
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 2048 || /[\s#]/.test(path)) {
    throw new InvalidOptionError('healthCheck.path', path, 'a path starting with "/", without spaces or "#"');
  }
  return {
    path,
    method: oneOf(options.method ?? 'GET', ['GET', 'HEAD'], 'healthCheck.method'),
    headers: headersOption(options.headers),
    expected: statusesOption(options.expectedStatuses ?? [[200, 299]]),
    intervalMs: positiveNumber(options.intervalMs ?? 10_000, 'healthCheck.intervalMs'),
    jitterRatio: finiteNumber(options.jitterRatio ?? 0.1, 'healthCheck.jitterRatio', { min: 0, max: 1 }),
    timeoutMs: positiveNumber(options.timeoutMs ?? 2_000, 'healthCheck.timeoutMs'),
    unhealthyThreshold: positiveInteger(options.unhealthyThreshold ?? 3, 'healthCheck.unhealthyThreshold'),
    healthyThreshold: positiveInteger(options.healthyThreshold ?? 2, 'healthCheck.healthyThreshold'),
    maxConcurrent: positiveInteger(options.maxConcurrent ?? 64, 'healthCheck.maxConcurrent'),
    probe: options.probe === undefined ? undefined : isFunctionOption(options.probe, 'healthCheck.probe'),
  };
}

/** True when `status` is one of the expected ones. */
export function expectedStatus(status: number, expected: HealthCheckSettings['expected']): boolean {
  for (const [low, high] of expected) if (status >= low && status <= high) return true;
  return false;
}

/** The wait before an endpoint's next check: `interval × (1 ± jitter)`, drawn from `random`. */
export function nextCheckDelay(settings: HealthCheckSettings, random: () => number): number {
  return settings.intervalMs * (1 + settings.jitterRatio * (2 * random() - 1));
}

function statusesOption(value: readonly StatusMatch[]): (readonly [number, number])[] {
  const describe = 'a non-empty array of statuses (100-599) and [low, high] ranges';
  if (!Array.isArray(value) || value.length === 0)
    throw new InvalidOptionError('healthCheck.expectedStatuses', value, describe);
  return value.map((match: unknown) => {
    const range: readonly unknown[] = typeof match === 'number' ? [match, match] : Array.isArray(match) ? match : [];
    const [low, high] = range;
    if (range.length !== 2 || !isStatus(low) || !isStatus(high) || low > high) {
      throw new InvalidOptionError('healthCheck.expectedStatuses', value, describe);
    }
    return [low, high] as const;
  });
}

function isStatus(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599;
}

function headersOption(value: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || (value as unknown) === null || Array.isArray(value)) {
    throw new InvalidOptionError('healthCheck.headers', value, 'an object of header names to strings');
  }
  for (const [name, header] of Object.entries(value)) {
    if (typeof header !== 'string') throw new InvalidOptionError(`healthCheck.headers.${name}`, header, 'a string');
  }
  return Object.freeze({ ...value });
}
