import type { Clock } from '@portcullis/core';
import { nextCheckDelay, type HealthCheckSettings } from './active-health-check.js';
import type { UpstreamEndpoint } from './endpoint.js';
import { Member } from './member.js';

/** One check: resolves `undefined` when it passed, or what failed (`status 503`, `refused`...). */
export type CheckFunction = (endpoint: UpstreamEndpoint, signal: AbortSignal) => Promise<string | undefined>;

/** What the checker tells its pool. */
export interface HealthTransitions {
  /** `member` passed `healthyThreshold` checks in a row after being unhealthy. */
  healthy(member: Member, now: number): void;
  /** `member` failed `unhealthyThreshold` checks in a row after being healthy. */
  unhealthy(member: Member, lastFailure: string, now: number): void;
  /** `member` passed a check (the pool brings an ejected endpoint back after enough of them). */
  passed(member: Member, now: number): void;
  /** A check ended and others may be due: the pool should run {@link HealthChecker.run} again. */
  wake(): void;
}

/**
 * Active health checks over a pool's members, driven by the pool's one timer: `run` starts the
 * checks that are due (at most `maxConcurrent` in flight), fails those past their timeout, and
 * returns when it next needs to run. No timer of its own, none per check.
 */
export class HealthChecker {
  readonly #settings: HealthCheckSettings;
  readonly #check: CheckFunction;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #transitions: HealthTransitions;
  #running = 0;

  constructor(
    settings: HealthCheckSettings,
    check: CheckFunction,
    clock: Clock,
    random: () => number,
    transitions: HealthTransitions,
  ) {
    this.#settings = settings;
    this.#check = check;
    this.#clock = clock;
    this.#random = random;
    this.#transitions = transitions;
  }

  /** Schedules a new member's first check at a random point of the first interval, so a large set does not check all at once. */
  adopt(member: Member, now: number): void {
    member.nextCheckAt = now + this.#random() * this.#settings.intervalMs;
  }

  /** Starts due checks and times out late ones; returns when it next needs to run (Infinity: never). */
  run(members: readonly Member[], now: number): number {
    let wake = Infinity;
    for (const member of members) {
      if (member.check !== undefined && now >= member.checkDeadline) this.#finish(member, member.check, 'timeout', now);
      if (member.check === undefined && member.nextCheckAt <= now) {
        // At capacity, a finishing check wakes the pool: the waiting ones need no timer.
        if (this.#running >= this.#settings.maxConcurrent) continue;
        this.#start(member, now);
      }
      wake = Math.min(wake, member.check === undefined ? member.nextCheckAt : member.checkDeadline);
    }
    return wake;
  }

  /** Makes every member due now; resolves once each has finished a check started from now on. */
  async checkNow(members: readonly Member[]): Promise<void> {
    const waits = members.map(
      (member) =>
        new Promise<void>((resolve) => {
          member.nextWaiters.push(resolve);
          if (member.check === undefined) member.nextCheckAt = -Infinity;
        }),
    );
    this.#transitions.wake();
    await Promise.all(waits);
  }

  /** Forgets a member that left (or a closing pool's): aborts its check and releases its waiters. */
  drop(member: Member): void {
    const check = member.check;
    if (check !== undefined) {
      member.check = undefined;
      member.checkDeadline = Infinity;
      this.#running--;
      check.abort();
    }
    member.nextCheckAt = Infinity;
    Member.resolve(member.currentWaiters);
    Member.resolve(member.nextWaiters);
  }

  #start(member: Member, now: number): void {
    const controller = new AbortController();
    member.check = controller;
    member.checkDeadline = now + this.#settings.timeoutMs;
    member.nextCheckAt = Infinity;
    this.#running++;
    member.currentWaiters = member.nextWaiters;
    member.nextWaiters = [];
    // Through a promise chain, so a probe that throws synchronously is a failed check too.
    Promise.resolve()
      .then(() => this.#check(member.endpoint, controller.signal))
      .then(
        (failure) => {
          this.#finish(member, controller, failure, this.#clock.now());
          this.#transitions.wake();
        },
        (error: unknown) => {
          this.#finish(member, controller, describeFailure(error), this.#clock.now());
          this.#transitions.wake();
        },
      );
  }

  /** Records the end of `controller`'s check; ignored when that check was already timed out or dropped. */
  #finish(member: Member, controller: AbortController, failure: string | undefined, now: number): void {
    if (member.check !== controller) return;
    member.check = undefined;
    member.checkDeadline = Infinity;
    this.#running--;
    if (failure === 'timeout') controller.abort();
    // A `checkNow` that came while this check ran wants one more, at once.
    member.nextCheckAt = member.nextWaiters.length > 0 ? now : now + nextCheckDelay(this.#settings, this.#random);
    this.#record(member, failure, now);
    Member.resolve(member.currentWaiters);
  }

  #record(member: Member, failure: string | undefined, now: number): void {
    const { healthyThreshold, unhealthyThreshold } = this.#settings;
    if (failure === undefined) {
      member.failures = 0;
      member.passes++;
      if (member.unhealthy && member.passes >= healthyThreshold) {
        member.unhealthy = false;
        this.#transitions.healthy(member, now);
      }
      this.#transitions.passed(member, now);
      return;
    }
    member.passes = 0;
    member.failures++;
    if (!member.unhealthy && member.failures >= unhealthyThreshold) {
      member.unhealthy = true;
      this.#transitions.unhealthy(member, failure, now);
    }
  }
}

/** A short reason for a failed check: an error's code (`ECONNREFUSED`, `UND_ERR_SOCKET`) or message. */
export function describeFailure(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, cause } = error as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    if (cause !== undefined && cause !== error) return describeFailure(cause);
    if (error instanceof Error) return error.message.slice(0, 200);
  }
  return String(error).slice(0, 200);
}
