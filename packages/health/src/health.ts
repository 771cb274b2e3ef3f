import { Emitter, InvalidOptionError, isFunctionOption, systemClock, type Clock } from '@portcullis/core';
import { aggregateStatus } from './aggregate.js';
import { resolveCheck, timerMs, type CheckOptions } from './check.js';
import { CheckRunner } from './check-runner.js';
import { DuplicateCheckError } from './errors.js';
import type { HealthEvents } from './events.js';
import type { CheckResult } from './result.js';
import { Scheduler } from './scheduler.js';
import type { HealthStatus } from './status.js';

/**
 * The groups every health has, whether or not a check is in them.
 *
 * @example
 * ```ts
 * import { STANDARD_GROUPS } from '@portcullis/health';
 *
 * STANDARD_GROUPS; // ['liveness', 'readiness', 'startup']
 * ```
 */
export const STANDARD_GROUPS: readonly string[] = Object.freeze(['liveness', 'readiness', 'startup']);

/**
 * Options of {@link createHealth}.
 *
 * @example
 * ```ts
 * import type { HealthOptions } from '@portcullis/health';
 *
 * const options: HealthOptions = {
 *   checks: [{ name: 'db', check: () => 'pass' }],
 *   serviceId: 'orders-api',
 *   version: '2',
 *   releaseId: process.env['GIT_SHA'],
 * };
 * ```
 */
export interface HealthOptions {
  /** Checks to register at once (more with `health.register()`). */
  checks?: readonly CheckOptions[] | undefined;
  /** The draft's `serviceId`, shown to admitted callers. */
  serviceId?: string | undefined;
  /** The draft's `version` (of the service's API), shown to admitted callers. */
  version?: string | undefined;
  /** The draft's `releaseId` (of the deployed build), shown to admitted callers. */
  releaseId?: string | undefined;
  /** The draft's `description`, shown to admitted callers. */
  description?: string | undefined;
  /** Time for TTLs, results' times and background schedules. Default `systemClock`. */
  clock?: Clock | undefined;
  /** Uniform in [0, 1), for the background jitter. Default `Math.random`. */
  random?: (() => number) | undefined;
}

/**
 * Options of {@link Health.run}.
 *
 * @example
 * ```ts
 * const report = await health.run('readiness', { deadlineMs: 500, check: 'db' });
 * ```
 */
export interface RunOptions {
  /**
   * The answer comes within this long, whatever the checks do: a check still running then counts
   * as failed (`reason: 'deadline'`) in this answer, as one more failure for its
   * `failureThreshold` (`fail` with the default of 1), while its run goes on. Default 900 ms
   * (under Kubernetes' default one-second probe timeout).
   */
  deadlineMs?: number | undefined;
  /** Only this check (which must be in the group): the report's status is its own. */
  check?: string | undefined;
}

/**
 * What {@link Health.run} found.
 *
 * @example
 * ```ts
 * const report = await health.run('readiness');
 * if (report.status === 'fail') console.warn(report.checks.filter((c) => c.status === 'fail').map((c) => c.name));
 * ```
 */
export interface HealthReport {
  /** The aggregate status (see `aggregateStatus`), or the one check's own status. */
  readonly status: HealthStatus;
  /** The group asked for; `undefined` for every check. */
  readonly group: string | undefined;
  /** The results, in registration order (plus a `shutdown` / `startup` entry where it applies). */
  readonly checks: readonly CheckResult[];
}

/**
 * The top-level fields of the draft's answer, for admitted callers.
 *
 * @example
 * ```ts
 * import { createHealth } from '@portcullis/health';
 *
 * const { service } = createHealth({ serviceId: 'orders-api', releaseId: '1.4.2' });
 * service.releaseId; // '1.4.2'
 * ```
 */
export interface ServiceInfo {
  readonly serviceId?: string | undefined;
  readonly version?: string | undefined;
  readonly releaseId?: string | undefined;
  readonly description?: string | undefined;
}

/**
 * Checks, their groups and the service's state (started, shutting down). See {@link createHealth}.
 *
 * @example
 * ```ts
 * import { Health } from '@portcullis/health';
 *
 * const health = new Health({ checks: [{ name: 'db', check: () => 'pass' }] }); // = createHealth(...)
 * const remove = health.register({ name: 'cache', check: () => 'warn', critical: false });
 * console.log((await health.run('readiness')).status); // 'warn'
 * remove();
 * ```
 */
export class Health {
  /** Every run and every change of a check's reported status. */
  readonly events: Emitter<HealthEvents> = new Emitter<HealthEvents>();
  /** The draft's top-level fields. */
  readonly service: ServiceInfo;
  readonly #clock: Clock;
  readonly #runners = new Map<string, CheckRunner>();
  readonly #scheduler: Scheduler;
  #started = false;
  #shuttingDown = false;
  /**
   * Per question (group, check, starting up): the runners it looks at, and its last report. Keys
   * come from registered groups and checks only (validated first), so both stay small; both are
   * cleared when a check is added or removed.
   */
  readonly #selection = new Map<string, CheckRunner[]>();
  readonly #memo = new Map<string, Memo>();
  /** Runs ended so far: a report made since the last one is still made of the latest results. */
  #generation = 0;

  /** @param options - See {@link HealthOptions}. */
  constructor(options: HealthOptions = {}) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object');
    }
    const clock = options.clock ?? systemClock;
    if (typeof (clock as Partial<Clock> | null)?.now !== 'function') {
      throw new InvalidOptionError('clock', clock, 'a Clock ({ now(): number })');
    }
    this.#clock = clock;
    const random = options.random === undefined ? Math.random : isFunctionOption(options.random, 'random');
    this.#scheduler = new Scheduler(clock, random);
    this.service = Object.freeze({
      serviceId: infoString(options.serviceId, 'serviceId'),
      version: infoString(options.version, 'version'),
      releaseId: infoString(options.releaseId, 'releaseId'),
      description: infoString(options.description, 'description'),
    });
    const checks: unknown = options.checks ?? [];
    if (!Array.isArray(checks)) throw new InvalidOptionError('checks', checks, 'an array of checks');
    (checks as CheckOptions[]).forEach((check, i) => {
      this.#add(check, `checks[${String(i)}]`);
    });
  }

  /**
   * Adds a check (see {@link CheckOptions}); with `intervalMs` it starts running in the
   * background at once. Returns a function that removes it.
   *
   * @throws InvalidOptionError naming the option; DuplicateCheckError when the name is taken.
   */
  register(check: CheckOptions): () => void {
    const runner = this.#add(check, 'check');
    return () => {
      if (this.#runners.get(runner.config.name) === runner) this.unregister(runner.config.name);
    };
  }

  /** Removes a check (calling its `dispose`); false when there is none of that name. */
  unregister(name: string): boolean {
    const runner = this.#runners.get(name);
    if (runner === undefined) return false;
    this.#runners.delete(name);
    this.#forget();
    this.#scheduler.remove(runner);
    runner.config.dispose?.();
    return true;
  }

  /** The names of the registered checks, in registration order. */
  get checkNames(): readonly string[] {
    return [...this.#runners.keys()];
  }

  /** The standard groups and every group a check names. */
  get groups(): readonly string[] {
    const groups = new Set(STANDARD_GROUPS);
    for (const runner of this.#runners.values()) for (const group of runner.config.groups) groups.add(group);
    return [...groups];
  }

  /** True when `group` is a standard group or one a check names. */
  hasGroup(group: string): boolean {
    if (STANDARD_GROUPS.includes(group)) return true;
    for (const runner of this.#runners.values()) if (runner.config.groups.includes(group)) return true;
    return false;
  }

  /** True when check `name` is registered and in `group` (any group when `group` is undefined). */
  hasCheck(name: string, group?: string): boolean {
    const runner = this.#runners.get(name);
    return runner !== undefined && (group === undefined || runner.config.groups.includes(group));
  }

  /** The last result of every check that has run, fresh or not (no check is run). */
  lastResults(): CheckResult[] {
    const results: CheckResult[] = [];
    for (const runner of this.#runners.values()) if (runner.last !== undefined) results.push(runner.last);
    return results;
  }

  /**
   * True once the service has started: readiness (or the startup probe, which looks at readiness
   * until then) found it `pass` or `warn` once, or {@link Health.markStarted} was called. Latched.
   */
  get started(): boolean {
    return this.#started;
  }

  /** Latches {@link Health.started} by hand. */
  markStarted(): void {
    this.#started = true;
  }

  /** True once {@link Health.markShuttingDown} was called: readiness then fails. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Makes readiness (and the all-checks answer) `fail` from now on, at once: the first step of a
   * graceful shutdown (`createShutdown` calls it). Liveness is unaffected.
   */
  markShuttingDown(): void {
    this.#shuttingDown = true;
  }

  /**
   * Evaluates a group (`undefined`: every check), or one check of it, within a deadline: fresh
   * results are reused, stale ones rerun (concurrent callers share a run).
   *
   * - `readiness` (one check of it too) and every check: `fail` while shutting down (an extra
   *   `shutdown` entry).
   * - `startup`: until the service has started, the readiness checks too (and an extra `startup`
   *   entry saying so while they fail); once they pass, {@link Health.started} latches and
   *   `startup` is its own checks alone.
   *
   * @throws InvalidOptionError for an unknown group, a check not in it, or a bad `deadlineMs`.
   */
  run(group?: string, options: RunOptions = {}): Promise<HealthReport> {
    return Promise.resolve(this.evaluate(group, options));
  }

  /**
   * {@link Health.run} without a promise when every result needed is fresh (the HTTP layer's path).
   *
   * @internal
   */
  evaluate(group: string | undefined, options: RunOptions = NO_OPTIONS): HealthReport | Promise<HealthReport> {
    const deadlineMs =
      options.deadlineMs === undefined ? DEFAULT_DEADLINE_MS : timerMs(options.deadlineMs, 'deadlineMs');
    const only = options.check;
    const startingUp = group === 'startup' && !this.#started;
    const key = `${group ?? ''}\u0000${only ?? ''}\u0000${startingUp ? '1' : '0'}`;
    const runners = this.#selection.get(key) ?? this.#select(key, group, only, startingUp);
    const now = this.#clock.now();

    // The hot path: every result fresh. When they are the very results of the last report for the
    // same question, that report is the answer (and its body, cached by the HTTP layer, too).
    const memo = this.#memo.get(key);
    // No run has ended since, and none of its results has aged: the same answer, in O(1).
    if (memo?.generation === this.#generation && now < memo.freshUntil && memo.shuttingDown === this.#shuttingDown) {
      return memo.report;
    }
    let same = memo?.shuttingDown === this.#shuttingDown;
    let fresh = true;
    for (let i = 0; i < runners.length; i++) {
      const result = (runners[i] as CheckRunner).fresh(now);
      if (result === undefined) {
        fresh = false;
        break;
      }
      if (same && memo?.results[i] !== result) same = false;
    }
    if (fresh && same && memo !== undefined) {
      this.#memo.set(key, { ...memo, generation: this.#generation });
      return memo.report;
    }
    if (fresh) {
      const results = runners.map((runner) => runner.fresh(now) as CheckResult);
      return this.#remember(key, results, this.#report(group, only, startingUp, results));
    }
    return this.#wait(key, group, only, startingUp, runners, now, deadlineMs);
  }

  #wait(
    key: string,
    group: string | undefined,
    only: string | undefined,
    startingUp: boolean,
    runners: readonly CheckRunner[],
    now: number,
    deadlineMs: number,
  ): Promise<HealthReport> {
    const results: (CheckResult | undefined)[] = [];
    const pending: number[] = [];
    const waits: Promise<CheckResult>[] = [];
    for (let i = 0; i < runners.length; i++) {
      const got = (runners[i] as CheckRunner).get(now);
      if (got instanceof Promise) {
        results.push(undefined);
        pending.push(i);
        waits.push(got);
      } else results.push(got);
    }
    const finish = (): HealthReport => {
      const done = results as CheckResult[];
      return this.#remember(key, done, this.#report(group, only, startingUp, done));
    };
    if (pending.length === 0) return Promise.resolve(finish());
    return new Promise<HealthReport>((resolve) => {
      let left = pending.length;
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        const at = this.#clock.now();
        for (const i of pending) results[i] ??= deadlineResult(runners[i] as CheckRunner, at, deadlineMs);
        resolve(finish());
      }, deadlineMs);
      pending.forEach((index, k) => {
        void (waits[k] as Promise<CheckResult>).then((result) => {
          if (done) return;
          results[index] = result;
          if (--left > 0) return;
          done = true;
          clearTimeout(timer);
          resolve(finish());
        });
      });
    });
  }

  /** The runners a question looks at, validated and remembered (until a check is added or removed). */
  #select(key: string, group: string | undefined, only: string | undefined, startingUp: boolean): CheckRunner[] {
    if (group !== undefined && !this.hasGroup(group)) {
      throw new InvalidOptionError('group', group, `one of ${this.groups.map((g) => JSON.stringify(g)).join(', ')}`);
    }
    if (only !== undefined && !this.hasCheck(only, group)) {
      throw new InvalidOptionError('check', only, `a check registered${group === undefined ? '' : ` in ${group}`}`);
    }
    const runners: CheckRunner[] = [];
    for (const runner of this.#runners.values()) {
      const { name, groups } = runner.config;
      if (only !== undefined ? name === only : inGroup(groups, group, startingUp)) runners.push(runner);
    }
    this.#selection.set(key, runners);
    return runners;
  }

  #remember(key: string, results: readonly CheckResult[], report: HealthReport): HealthReport {
    // Deadline failures are this answer's only: not worth remembering.
    let freshUntil = Number.POSITIVE_INFINITY;
    for (const result of results) {
      if (result.reason === 'deadline') return report;
      freshUntil = Math.min(freshUntil, result.time + (this.#runners.get(result.name)?.config.ttlMs ?? 0));
    }
    this.#memo.set(key, {
      results,
      report,
      shuttingDown: this.#shuttingDown,
      generation: this.#generation,
      freshUntil,
    });
    return report;
  }

  /** Stops the background runs and disposes every check. The health can still answer on demand. */
  dispose(): void {
    this.#scheduler.dispose();
    for (const runner of this.#runners.values()) runner.config.dispose?.();
  }

  #add(options: CheckOptions, option: string): CheckRunner {
    const config = resolveCheck(options, option);
    if (this.#runners.has(config.name)) throw new DuplicateCheckError(config.name);
    const runner = new CheckRunner(config, this.#clock, (result, previous) => {
      this.#onRun(result, previous);
    });
    this.#runners.set(config.name, runner);
    this.#forget();
    if (config.intervalMs !== undefined) this.#scheduler.add(runner);
    return runner;
  }

  #forget(): void {
    this.#selection.clear();
    this.#memo.clear();
  }

  #onRun(result: CheckResult, previous: HealthStatus | undefined): void {
    this.#generation++;
    this.events.emit('run', result);
    if (result.status !== previous && this.events.has('change')) {
      this.events.emit('change', { name: result.name, from: previous, to: result.status, result });
    }
  }

  #report(
    group: string | undefined,
    only: string | undefined,
    startingUp: boolean,
    found: CheckResult[],
  ): HealthReport {
    const checks = [...found];
    if (this.#shuttingDown && (group === undefined || group === 'readiness')) {
      checks.push(stateEntry('shutdown', this.#clock.now(), 'the service is shutting down'));
    }
    if (only !== undefined) {
      // Its own status, critical or not; but `fail` while shutting down, as readiness is.
      const shutdown = checks.length > found.length;
      return { status: shutdown ? 'fail' : (found[0] as CheckResult).status, group, checks };
    }
    let status = aggregateStatus(checks);
    if (startingUp) {
      if (status === 'fail') checks.push(stateEntry('startup', this.#clock.now(), 'not ready yet'));
      else this.#started = true;
    } else if (group === 'readiness' && status !== 'fail') {
      this.#started = true;
    }
    status = aggregateStatus(checks);
    return { status, group, checks };
  }
}

/** Whether a check of `groups` is evaluated for `group` (the startup probe looks at readiness too until started). */
function inGroup(groups: readonly string[], group: string | undefined, startingUp: boolean): boolean {
  return group === undefined || groups.includes(group) || (startingUp && groups.includes('readiness'));
}

function deadlineResult(runner: CheckRunner, time: number, deadlineMs: number): CheckResult {
  const { name, critical, componentType, componentId } = runner.config;
  return {
    name,
    // One more failure for the check's threshold, as a timeout would be (not recorded: the run goes on).
    status: runner.failingStatus,
    critical,
    outcome: { status: 'fail', output: `still running at the answer's deadline (${String(deadlineMs)} ms)` },
    time,
    durationMs: deadlineMs,
    reason: 'deadline',
    ...(componentType === undefined ? {} : { componentType }),
    ...(componentId === undefined ? {} : { componentId }),
  };
}

function stateEntry(name: 'shutdown' | 'startup', time: number, output: string): CheckResult {
  return {
    name,
    status: 'fail',
    critical: true,
    outcome: { status: 'fail', output },
    time,
    durationMs: 0,
    reason: name === 'shutdown' ? 'shutdown' : undefined,
    componentType: 'system',
  };
}

const DEFAULT_DEADLINE_MS = 900;
const NO_OPTIONS: RunOptions = Object.freeze({});

/** A question's last report and the results it was made of. */
interface Memo {
  readonly results: readonly CheckResult[];
  readonly report: HealthReport;
  readonly shuttingDown: boolean;
  /** `#generation` when it was checked to be made of the latest results. */
  readonly generation: number;
  /** When its first result stops being fresh. */
  readonly freshUntil: number;
}

function infoString(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 256) {
    throw new InvalidOptionError(option, value, 'a string of at most 256 characters');
  }
  return value;
}

/**
 * Creates a {@link Health}: named checks with timeouts, TTL caching and single flight, optional
 * background runs (one timer for all) and thresholds against flapping; groups (`liveness`,
 * `readiness`, `startup`, your own); an aggregate `pass` / `warn` / `fail` by criticality; answers
 * within a deadline. Serve it with `healthGuard` / `healthListener` or the `/express`, `/fastify`
 * and `/hono` subpaths; shut down gracefully with `createShutdown`.
 *
 * @param options - See {@link HealthOptions}.
 * @throws InvalidOptionError naming the option; DuplicateCheckError for a name used twice.
 *
 * @example
 * ```ts
 * import { createHealth, heapCheck, httpCheck } from '@portcullis/health';
 *
 * const health = createHealth({
 *   serviceId: 'orders-api',
 *   checks: [
 *     httpCheck({ name: 'payments', url: 'http://payments.internal/health', intervalMs: 5_000 }),
 *     { name: 'recommendations', check: () => 'pass', critical: false },
 *     heapCheck(),
 *   ],
 * });
 * const report = await health.run('readiness');
 * console.log(report.status); // 'pass' | 'warn' | 'fail'
 * ```
 */
export function createHealth(options?: HealthOptions): Health {
  return new Health(options);
}
