import { duration, finiteNumber, InvalidOptionError, isFunctionOption, positiveInteger, ratio } from '@portcullis/core';
import { isHealthStatus, type HealthStatus } from './status.js';

/**
 * What a check function may return: nothing (`pass`), a status, or a {@link CheckOutcome}. A check
 * that throws or rejects fails, its error's message kept as the outcome's `output` (shown only to
 * admitted callers, with `?verbose`).
 *
 * @example
 * ```ts
 * import type { CheckReturn } from '@portcullis/health';
 *
 * const answers: CheckReturn[] = [undefined, 'warn', { status: 'fail', output: 'replica lag 40 s' }];
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a check may return nothing: `async () => { await db.ping() }`
export type CheckReturn = void | HealthStatus | CheckOutcome;

/**
 * A check's result with the optional fields of the IETF draft's check objects.
 *
 * @example
 * ```ts
 * import type { CheckOutcome } from '@portcullis/health';
 *
 * const outcome: CheckOutcome = { status: 'warn', observedValue: 870, observedUnit: 'ms', output: 'slow' };
 * ```
 */
export interface CheckOutcome {
  /** Default `pass`. */
  readonly status?: HealthStatus | undefined;
  /** A measured value (a latency, a count, a ratio). */
  readonly observedValue?: unknown;
  /** Its unit (`ms`, `percent`, …). */
  readonly observedUnit?: string | undefined;
  /** Why it is not `pass`, for people (admitted callers with `?verbose` only: it may name hosts). */
  readonly output?: string | undefined;
}

/**
 * A check: gets an `AbortSignal` that aborts at its timeout, and answers (see {@link CheckReturn}).
 *
 * @example
 * ```ts
 * import type { CheckFunction } from '@portcullis/health';
 *
 * const orders: CheckFunction = async (signal) => {
 *   const res = await fetch('http://orders.internal/ping', { signal });
 *   return res.ok ? 'pass' : { status: 'fail', output: `status ${res.status}` };
 * };
 * ```
 */
export type CheckFunction = (signal: AbortSignal) => CheckReturn | PromiseLike<CheckReturn>;

/**
 * One dependency or measurement to check, as given to `health.register()` / `createHealth({ checks })`.
 *
 * @example
 * ```ts
 * import type { CheckOptions } from '@portcullis/health';
 *
 * const options: CheckOptions = {
 *   name: 'orders:responseTime',
 *   check: async (signal) => void (await fetch('http://orders.internal/ping', { signal })),
 *   critical: false, // degraded, not down, when it fails
 *   timeoutMs: 500,
 *   ttlMs: 5_000,
 *   failureThreshold: 3, // three failures in a row before it reports fail
 * };
 * ```
 */
export interface CheckOptions {
  /**
   * The key in the answer's `checks` (the draft's `component:measurement`) and the last segment
   * of its own path (`/health/ready/<name>`): a letter or digit, then letters, digits, `.`, `_`,
   * `-`, optionally `:` and a second such part; at most 128 characters. Unique per health.
   */
  name: string;
  /** The check itself. */
  check: CheckFunction;
  /**
   * A critical check that fails makes the aggregate `fail`; a non-critical one only `warn`
   * (degraded). Default true.
   */
  critical?: boolean | undefined;
  /** Its run is failed (and its signal aborted) after this long. Default 800 ms. */
  timeoutMs?: number | undefined;
  /**
   * How long a result is reused: requests within it share the result, and concurrent requests
   * share one run. Default 1,000 ms; with `intervalMs`, twice the interval (requests then read
   * what the background runs found, and run the check themselves only when those fall behind).
   */
  ttlMs?: number | undefined;
  /** Run the check in the background every `intervalMs` (jittered), too. Default: only on demand. */
  intervalMs?: number | undefined;
  /** Spread of the background interval, a ratio: each wait is `intervalMs × (1 ± jitter)`. Default 0.1. */
  jitter?: number | undefined;
  /**
   * Consecutive failing runs before the check reports `fail` (from `pass` or `warn`). Default 1.
   * The first run of all is reported as it is.
   */
  failureThreshold?: number | undefined;
  /** Consecutive non-failing runs before a failing check reports `pass` / `warn` again. Default 1. */
  successThreshold?: number | undefined;
  /**
   * The groups it belongs to: `liveness` (the process itself), `readiness` (what it needs to
   * serve), `startup`, or your own (lower-case letters, digits, `-`, `_`; not `live` or `ready`,
   * the short paths of the first two). Default `['readiness']`.
   */
  groups?: readonly string[] | undefined;
  /** The draft's `componentType` (`datastore`, `component`, `system`, …), for admitted callers. */
  componentType?: string | undefined;
  /** The draft's `componentId`, for admitted callers. */
  componentId?: string | undefined;
  /** Called by `health.dispose()` (a check that holds a monitor or a timer releases it). */
  dispose?: (() => void) | undefined;
}

/** A check's settings, validated, defaults applied. */
export interface CheckConfig {
  readonly name: string;
  readonly check: CheckFunction;
  readonly critical: boolean;
  readonly timeoutMs: number;
  readonly ttlMs: number;
  readonly intervalMs: number | undefined;
  readonly jitter: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly groups: readonly string[];
  readonly componentType: string | undefined;
  readonly componentId: string | undefined;
  readonly dispose: (() => void) | undefined;
}

const CHECK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(?::[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const GROUP_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const MAX_NAME_LENGTH = 128;
const MAX_GROUP_LENGTH = 64;
/** `/health/live` and `/health/ready` are liveness and readiness: groups of these names could not be asked for. */
const RESERVED_GROUPS: ReadonlySet<string> = new Set(['live', 'ready']);

/** True when `name` may name a check (and so may match a decoded path segment). */
export function isCheckName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && CHECK_NAME.test(name);
}

/** True when `name` may name a group. */
export function isGroupName(name: string): boolean {
  return name.length <= MAX_GROUP_LENGTH && GROUP_NAME.test(name);
}

/** Validates a check's options once, at registration, and applies the defaults. */
export function resolveCheck(options: CheckOptions, option = 'check'): CheckConfig {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError(option, options, 'an object');
  }
  const { name } = options;
  if (typeof name !== 'string' || !isCheckName(name)) {
    throw new InvalidOptionError(
      `${option}.name`,
      name,
      'a letter or digit, then letters, digits, ".", "_", "-", optionally ":" and a second such part (at most 128 characters)',
    );
  }
  const at = (key: string): string => `${option}.${key}`;
  isFunctionOption(options.check, at('check'));
  const critical = options.critical ?? true;
  if (typeof critical !== 'boolean') throw new InvalidOptionError(at('critical'), critical, 'a boolean');
  const intervalMs = options.intervalMs === undefined ? undefined : timerMs(options.intervalMs, at('intervalMs'));
  const groups = options.groups ?? ['readiness'];
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new InvalidOptionError(at('groups'), groups, 'a non-empty array of group names');
  }
  for (const group of groups) {
    if (typeof group !== 'string' || !isGroupName(group)) {
      throw new InvalidOptionError(at('groups'), group, 'lower-case letters, digits, "-" and "_" (at most 64)');
    }
    if (RESERVED_GROUPS.has(group)) {
      throw new InvalidOptionError(
        at('groups'),
        group,
        `a group name other than "live" and "ready" (the short paths of liveness and readiness)`,
      );
    }
  }
  return {
    name,
    check: options.check,
    critical,
    timeoutMs: timerMs(options.timeoutMs ?? 800, at('timeoutMs')),
    ttlMs: duration(options.ttlMs ?? (intervalMs === undefined ? 1_000 : 2 * intervalMs), at('ttlMs')),
    intervalMs,
    jitter: ratio(options.jitter ?? 0.1, at('jitter')),
    failureThreshold: positiveInteger(options.failureThreshold ?? 1, at('failureThreshold')),
    successThreshold: positiveInteger(options.successThreshold ?? 1, at('successThreshold')),
    groups: Object.freeze([...new Set(groups as readonly string[])]),
    componentType: optionalString(options.componentType, at('componentType')),
    componentId: optionalString(options.componentId, at('componentId')),
    dispose: options.dispose === undefined ? undefined : isFunctionOption(options.dispose, at('dispose')),
  };
}

/** A delay a timer can wait: > 0 and at most 2^31 - 1 ms (longer ones fire at once). */
export function timerMs(value: unknown, option: string): number {
  return finiteNumber(value, option, { min: 0, minExclusive: true, max: 2 ** 31 - 1 });
}

function optionalString(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 256) {
    throw new InvalidOptionError(option, value, 'a string of at most 256 characters');
  }
  return value;
}

/**
 * A check function's answer, as an outcome of its own (the check's object is read once, not kept:
 * a check may change it later); anything unexpected is a failure saying so. `output` and
 * `observedUnit` are strings in the draft: other values are dropped (an `output` with a note), and
 * an `output` is cut at 500 characters. May throw when reading the value throws (a getter).
 */
export function toOutcome(value: unknown): CheckOutcome {
  if (value === undefined) return PASS;
  if (isHealthStatus(value)) return STATUS_ONLY[value];
  if (typeof value === 'object' && value !== null) {
    const { status = 'pass', observedValue, observedUnit, output } = value as CheckOutcome;
    if (isHealthStatus(status)) {
      const value = observedValue === undefined || !isJson(observedValue) ? undefined : observedValue;
      const note = outputText(output) ?? (value === undefined && observedValue !== undefined ? NOT_JSON : undefined);
      return {
        status,
        ...(value === undefined ? {} : { observedValue: value }),
        ...(typeof observedUnit === 'string' ? { observedUnit } : {}),
        ...(note === undefined ? {} : { output: note }),
      };
    }
  }
  return { status: 'fail', output: 'the check returned something that is not a status or an outcome' };
}

/** A text `output` is cut at 500 characters (errors' messages too). */
export function capOutput(text: string): string {
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

function outputText(output: unknown): string | undefined {
  if (output === undefined) return undefined;
  return typeof output === 'string' ? capOutput(output) : 'the check gave an output that is not a string';
}

const NOT_JSON = 'observedValue is not JSON';

/** Whether JSON can carry `value` (a BigInt, a cycle or a throwing `toJSON` cannot). */
function isJson(value: unknown): boolean {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    return true;
  }
  try {
    return (JSON.stringify(value) as string | undefined) !== undefined;
  } catch {
    return false;
  }
}

const PASS: CheckOutcome = Object.freeze({ status: 'pass' });
const STATUS_ONLY: Readonly<Record<HealthStatus, CheckOutcome>> = {
  pass: PASS,
  warn: Object.freeze({ status: 'warn' }),
  fail: Object.freeze({ status: 'fail' }),
};
