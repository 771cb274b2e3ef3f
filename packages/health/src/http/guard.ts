import {
  CONTINUE,
  InvalidOptionError,
  isFunctionOption,
  problemDetails,
  PROBLEM_JSON,
  reportUnhandled,
  type GatewayRequest,
  type Guard,
  type RespondVerdict,
} from '@portcullis/core';
import { timerMs } from '../check.js';
import type { Health, HealthReport, RunOptions } from '../health.js';
import type { HealthStatus } from '../status.js';
import { HEALTH_JSON, healthBodyText } from './body.js';
import { matchTarget, NOT_FOUND, type Target } from './target.js';

/**
 * Options of the health endpoints ({@link healthGuard}, `healthListener`, and the `/express`,
 * `/fastify` and `/hono` subpaths).
 *
 * @example
 * ```ts
 * import { bearerToken, type HealthEndpointOptions } from '@portcullis/health';
 *
 * const options: HealthEndpointOptions = {
 *   basePath: '/health',
 *   details: bearerToken(process.env['HEALTH_TOKEN'] ?? ''),
 *   deadlineMs: 500,
 *   statusCodes: { warn: 207 },
 * };
 * ```
 */
export interface HealthEndpointOptions {
  /**
   * Where the endpoints live: `<basePath>` (every check), `<basePath>/live`, `/ready`, `/startup`,
   * `/<custom group>`, and `/<group>/<check>`. Starts with `/`, no trailing `/`. Default `/health`.
   */
  basePath?: string | undefined;
  /**
   * Which callers see details (the checks, their observed values; with `?verbose`, their
   * outputs): a token, an internal network (see `bearerToken`, `fromNetworks`). Everyone else gets
   * `{ "status": … }` alone. Only `true` admits: a predicate that throws or rejects (reported),
   * answers anything else, or has not answered by the deadline (the checks run meanwhile) admits
   * no one. Default: no one.
   */
  details?: ((req: GatewayRequest) => boolean | PromiseLike<boolean>) | undefined;
  /** Every answer comes within this long; see `RunOptions.deadlineMs`. Default 900 ms. */
  deadlineMs?: number | undefined;
  /** HTTP status per health status. Default `{ pass: 200, warn: 200, fail: 503 }`. */
  statusCodes?: Partial<Readonly<Record<HealthStatus, number>>> | undefined;
}

interface Resolved {
  readonly base: string;
  readonly details: ((req: GatewayRequest) => boolean | PromiseLike<boolean>) | undefined;
  readonly deadlineMs: number;
  /** The run options of a group's answer (made once). */
  readonly run: RunOptions;
  readonly codes: Readonly<Record<HealthStatus, number>>;
}

const BASE_PATH = /^(?:\/[A-Za-z0-9._~-]+)+$/;

function resolveOptions(options: HealthEndpointOptions): Resolved {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const base = options.basePath ?? '/health';
  if (typeof base !== 'string' || base.length > 256 || !BASE_PATH.test(base)) {
    throw new InvalidOptionError(
      'basePath',
      base,
      'a path like "/health": "/" and unreserved characters, no trailing "/"',
    );
  }
  const codes = options.statusCodes ?? {};
  if (typeof codes !== 'object' || (codes as unknown) === null) {
    throw new InvalidOptionError('statusCodes', codes, 'an object of HTTP statuses');
  }
  const deadlineMs = options.deadlineMs === undefined ? 900 : timerMs(options.deadlineMs, 'deadlineMs');
  return {
    base,
    deadlineMs,
    run: Object.freeze({ deadlineMs }),
    details: options.details === undefined ? undefined : isFunctionOption(options.details, 'details'),
    codes: {
      pass: httpStatus(codes.pass ?? 200, 'statusCodes.pass'),
      warn: httpStatus(codes.warn ?? 200, 'statusCodes.warn'),
      fail: httpStatus(codes.fail ?? 503, 'statusCodes.fail'),
    },
  };
}

function httpStatus(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 200 || value > 599) {
    throw new InvalidOptionError(option, value, 'an integer HTTP status in [200, 599]');
  }
  return value;
}

/**
 * The health endpoints as a guard: a request under the base path is answered (`respond`), any
 * other continues untouched. Mount it first, before authentication: probes carry no credentials.
 *
 * Answers (`Cache-Control: no-store` on every one):
 *
 * - `GET` / `HEAD` of an endpoint: `application/health+json`, status per `statusCodes` (200 for
 *   `pass` and `warn`, 503 for `fail`). The public body is `{ "status": "pass" }` alone; a caller
 *   `details` admits gets the IETF draft's fields and `checks`; with `?verbose` also each check's
 *   `output` (error messages, which may name internal hosts: never shown to the public).
 * - Any other method under the base path: `405` with `Allow: GET, HEAD` (problem+json).
 * - A path under the base path that names no group or check: `404` (problem+json, the path not
 *   echoed). See `matchTarget` rules in the guide: check segments are percent-decoded once, group
 *   segments are not, paths over 1,024 characters are not looked at.
 *
 * Repeated request headers reach `details` joined with `", "` (as HTTP defines), so a second copy
 * of a token header makes a token comparison fail: the caller is answered as public.
 *
 * @param health - From `createHealth`.
 * @param options - See {@link HealthEndpointOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import { compose } from '@portcullis/core';
 * import { createHealth, healthGuard } from '@portcullis/health';
 *
 * const health = createHealth({ checks: [{ name: 'db', check: () => 'pass' }] });
 * const guard = compose(healthGuard(health), myAuthGuard); // probes never reach auth
 * ```
 */
export function healthGuard(health: Health, options: HealthEndpointOptions = {}): Guard {
  if (typeof (health as Partial<Health> | null)?.evaluate !== 'function') {
    throw new InvalidOptionError('health', health, 'a Health (from createHealth)');
  }
  const resolved = resolveOptions(options);
  return function healthGuard(req: GatewayRequest) {
    const target = matchTarget(req.path, resolved.base, health);
    if (target === undefined) return CONTINUE;
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return problem(405, 'Health endpoints answer GET and HEAD', ALLOW);
    if (target === NOT_FOUND) return problem(404, 'No such health endpoint');
    const admit = resolved.details === undefined ? false : admitted(resolved.details, req);
    if (typeof admit === 'boolean') return answer(health, resolved, req, target, admit);
    // The checks run while the predicate decides, both within the one deadline: a predicate that
    // never answers admits no one, and the answer still comes in time.
    const report = health.evaluate(target.group, runOptions(resolved, target));
    return Promise.all([withinDeadline(admit, resolved.deadlineMs), report]).then(([details, done]) =>
      verdict(health, resolved, done, details, details && req.query.has('verbose')),
    );
  };
}

function runOptions(resolved: Resolved, target: Target): RunOptions {
  return target.check === undefined ? resolved.run : { deadlineMs: resolved.deadlineMs, check: target.check };
}

/** The predicate's answer, or `false` when it has not answered within the deadline. */
function withinDeadline(admit: Promise<boolean>, deadlineMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, deadlineMs);
    void admit.then((details) => {
      clearTimeout(timer);
      resolve(details);
    });
  });
}

const ALLOW = { allow: 'GET, HEAD' };

function answer(
  health: Health,
  resolved: Resolved,
  req: GatewayRequest,
  target: Target,
  details: boolean,
): RespondVerdict | Promise<RespondVerdict> {
  const verbose = details && req.query.has('verbose');
  const report = health.evaluate(target.group, runOptions(resolved, target));
  if (report instanceof Promise) return report.then((done) => verdict(health, resolved, done, details, verbose));
  return verdict(health, resolved, report, details, verbose);
}

/**
 * The headers of every health answer: one instance, read by the adapters and never changed (copy
 * it before changing a verdict's headers).
 */
const HEALTH_HEADERS = new Headers({ 'content-type': HEALTH_JSON, 'cache-control': 'no-store' });

function verdict(
  health: Health,
  resolved: Resolved,
  report: HealthReport,
  details: boolean,
  verbose: boolean,
): RespondVerdict {
  return {
    action: 'respond',
    status: resolved.codes[report.status],
    headers: HEALTH_HEADERS,
    body: healthBodyText(report, health.service, details, verbose),
  };
}

function problem(status: number, detail: string, extra?: Readonly<Record<string, string>>): RespondVerdict {
  return {
    action: 'respond',
    status,
    headers: new Headers({ 'content-type': PROBLEM_JSON, 'cache-control': 'no-store', ...extra }),
    body: JSON.stringify(problemDetails(status, detail)),
  };
}

/** The predicate's answer: `true` admits; it throwing or rejecting (reported) or any other answer does not. */
function admitted(
  details: (req: GatewayRequest) => boolean | PromiseLike<boolean>,
  req: GatewayRequest,
): boolean | Promise<boolean> {
  let answer: boolean | PromiseLike<boolean>;
  try {
    answer = details(req);
  } catch (error) {
    reportUnhandled(error, 'health details predicate');
    return false;
  }
  if (typeof answer === 'boolean') return answer;
  return Promise.resolve(answer).then(
    (value: unknown) => value === true,
    (error: unknown) => {
      reportUnhandled(error, 'health details predicate');
      return false;
    },
  );
}
