import { Emitter, finiteNumber, InvalidOptionError, nonEmptyString, systemClock, type Clock } from '@portcullis/core';
import {
  createBreaker,
  isBrokenCircuitError,
  type BreakerPermit,
  type BreakerState,
  type StateChangeEvent,
} from '@portcullis/circuit-breaker';
import { createSlowStart, type SlowStart } from '../balancers/slow-start.js';
import type { Balancer } from '../balancers/types.js';
import { randomOption, uniform } from '../balancers/uniform.js';
import { healthCheckSettings, type HealthCheckSettings } from './active-health-check.js';
import { balancerFactoryOption, checkedBalancer } from './balancer-choice.js';
import type { DiscoveredEndpoint } from './discovery/source.js';
import { upstreamEndpoints, type UpstreamEndpoint } from './endpoint.js';
import { EmptyDiscoveryError } from './errors.js';
import { HealthChecker, type CheckFunction } from './health-checker.js';
import { httpProbe } from './http-probe.js';
import type { EndpointLease, EndpointOutcome, EndpointPicker } from './lease.js';
import { Member } from './member.js';
import { outcomeKind } from './outcome-kind.js';
import {
  ejectionCap,
  outlierSettings,
  recordOutcome,
  startEjection,
  type EjectionReason,
  type OutlierSettings,
} from './outlier-detection.js';
import type { UpstreamPoolEvents } from './pool-events.js';
import type { EndpointBreakerOptions, UpstreamPoolOptions } from './pool-options.js';
import { SingleTimer } from './single-timer.js';
import { tlsOption, type UpstreamTlsOptions } from './tls.js';

/** One endpoint's state in a {@link UpstreamPoolSnapshot}. */
export interface UpstreamEndpointState {
  readonly endpoint: UpstreamEndpoint;
  /** Active checks' verdict (always true without active checks). */
  readonly healthy: boolean;
  /** Ejected by outlier detection. */
  readonly ejected: boolean;
  /** When the ejection ends (clock ms), while ejected. */
  readonly ejectedUntil: number | undefined;
  /** Ejections in a row (as of the last one; it decays while the endpoint stays in). */
  readonly ejections: number;
  /** The endpoint's breaker's state (`undefined` without breakers). */
  readonly breaker: BreakerState | undefined;
  /** Leases on it not completed yet. */
  readonly inFlight: number;
  /** The weight its balancer reads now: 0 when it is kept out of picks, less than its weight while ramping up. */
  readonly effectiveWeight: number;
}

/**
 * A pool's state at one moment, for a status page or a metrics exporter.
 *
 * @example
 * ```ts
 * const state = pool.snapshot();
 * metrics.gauge('pool.available', state.available, { pool: state.name });
 * for (const e of state.endpoints) if (e.ejected) console.log(e.endpoint.id, 'ejected until', e.ejectedUntil);
 * ```
 */
export interface UpstreamPoolSnapshot {
  readonly name: string;
  /** Picking among all endpoints because too few are available. */
  readonly panic: boolean;
  /** Endpoints with a weight above 0 that are healthy, not ejected and not refused by their breaker. */
  readonly available: number;
  /** Endpoints with a weight above 0. */
  readonly total: number;
  /** Leases not completed yet (removed endpoints' included). */
  readonly inFlight: number;
  readonly endpoints: readonly UpstreamEndpointState[];
}

/**
 * An upstream's endpoints, their health and the balancer that picks among them; see
 * {@link createUpstreamPool}. It is an {@link EndpointPicker}: `acquire` hands out a lease whose
 * `complete(outcome)` feeds outlier detection, the endpoint's breaker and the balancer.
 *
 * @example
 * ```ts
 * import { createUpstreamPool, type UpstreamPool } from '@portcullis/router';
 *
 * const pool: UpstreamPool = createUpstreamPool({ name: 'orders', endpoints: [{ host: '10.0.0.9', port: 80 }] });
 * const lease = pool.acquire();
 * lease?.complete({ status: 200, durationMs: 4 });
 * pool.update([{ host: '10.0.0.9', port: 80 }, { host: '10.0.0.10', port: 80 }]); // atomic; nothing dropped
 * await pool.close();
 * ```
 */
export interface UpstreamPool extends EndpointPicker {
  /** The pool's name. */
  readonly name: string;
  /** Every change of an endpoint's state and of the pool's; see {@link UpstreamPoolEvents}. */
  readonly events: Emitter<UpstreamPoolEvents>;
  /** The TLS settings to reach the endpoints with, when they speak TLS (for the forwarder). */
  readonly tls: UpstreamTlsOptions | undefined;
  /** The current endpoint set, in discovery's order. */
  readonly endpoints: readonly UpstreamEndpoint[];
  /** Leases not completed yet. */
  readonly inFlight: number;
  /** True while the pool panics (too few endpoints available: picks go to all). */
  readonly panic: boolean;
  /**
   * Replaces the endpoint set (validated, then applied at once; an invalid set throws an
   * `InvalidEndpointsError` and changes nothing). Endpoints that stay keep their health, ejection
   * and breaker; removed ones drain: their leases complete normally. An empty list is applied
   * (unlike discovery's): the pool then offers no endpoint. With `discovery`, its next set
   * replaces this one.
   */
  update(endpoints: readonly DiscoveredEndpoint[]): void;
  /** State of the pool and each endpoint. */
  snapshot(): UpstreamPoolSnapshot;
  /**
   * Checks every endpoint now (after a check in flight, if any) and resolves once each has
   * finished; a no-op without active checks. For start-up ("check before serving") and tests.
   */
  checkNow(): Promise<void>;
  /**
   * Stops the pool: discovery unsubscribed, the timer and checks stopped, the check connections
   * closed. `acquire` then answers `undefined`; leases already handed out still complete. Idempotent.
   */
  close(): Promise<void>;
}

/** Picks tried through the balancer before scanning (a pick can hit an avoided id or a breaker's full probe slots). */
const PICK_ATTEMPTS = 3;
/** Slow start refreshes weights this many times per window. */
const RAMP_STEPS = 10;

/**
 * Creates an upstream pool: endpoints (with weights, zones, metadata) from a fixed list or a
 * discovery source, a balancer picking among those that are fit, active health checks on one
 * scheduler, passive outlier detection from every lease's outcome, a panic threshold, and one
 * circuit breaker per endpoint.
 *
 * - **Updates** are validated, built aside and swapped in at once; endpoints that stay keep their
 *   state; removed ones drain (their leases still complete and count normally). 10,000 endpoints
 *   at most (`MAX_ENDPOINTS`).
 * - **Who gets picked**: endpoints with a weight above 0 that are healthy (active checks), not
 *   ejected (outlier detection) and whose breaker is not open. Below `panicThresholdPercent`
 *   of those, every endpoint whose breaker is not open. A half-open breaker lets its probes through
 *   and refuses the rest, which then go elsewhere.
 * - **Time**: one timer per pool (unref'd), none per request or endpoint; ejections and breaker
 *   periods that are due are also applied on the next `acquire`, so a manual clock drives them.
 *
 * @param options - See {@link UpstreamPoolOptions}; validated here (`InvalidOptionError` naming the option).
 * @throws InvalidOptionError for an invalid option; InvalidEndpointsError for an invalid `endpoints` list.
 *
 * @example
 * ```ts
 * import { createUpstreamPool } from '@portcullis/router';
 *
 * const pool = createUpstreamPool({
 *   name: 'users',
 *   endpoints: [
 *     { host: '10.0.0.7', port: 8080 },
 *     { host: '10.0.0.8', port: 8080, weight: 2, zone: 'eu-west-1b' },
 *   ],
 *   healthCheck: { path: '/health', intervalMs: 5_000 },
 *   outlierDetection: { consecutiveGatewayErrors: 3 },
 * });
 *
 * const lease = pool.acquire(); // undefined when no endpoint can be offered
 * if (lease !== undefined) {
 *   const started = performance.now();
 *   try {
 *     const response = await fetch(`${lease.origin}/users/42`);
 *     lease.complete({ status: response.status, durationMs: performance.now() - started });
 *   } catch {
 *     lease.complete({ failure: 'refused', durationMs: performance.now() - started });
 *   }
 * }
 * await pool.close();
 * ```
 */
export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  return new Pool(options);
}

/** The members and their index by id: replaced as a whole on each update. */
interface View {
  readonly members: readonly Member[];
  readonly byId: ReadonlyMap<string, Member>;
}

/** No breaker: nothing to report to. */
const NO_PERMIT = null;
/** The breaker refused the call. */
const REFUSED = undefined;

class Pool implements UpstreamPool {
  readonly name: string;
  readonly events: Emitter<UpstreamPoolEvents> = new Emitter<UpstreamPoolEvents>();
  readonly tls: UpstreamTlsOptions | undefined;

  readonly #clock: Clock;
  readonly #random: (() => number) | undefined;
  readonly #scheme: 'http' | 'https';
  readonly #outlier: OutlierSettings | undefined;
  readonly #panicThreshold: number;
  readonly #breakerOptions: EndpointBreakerOptions | undefined;
  readonly #slowStart: SlowStart<Member> | undefined;
  readonly #rampStepMs: number;
  readonly #balancer: Balancer<UpstreamEndpoint>;
  readonly #health: HealthChecker | undefined;
  readonly #closeProbe: (() => Promise<void>) | undefined;
  readonly #timer: SingleTimer;
  readonly #unsubscribe: (() => void) | undefined;

  #view: View = { members: [], byId: new Map() };
  /** The weights the balancer reads on its next `update` (its `weight` accessor looks them up here). */
  #weights = new Map<UpstreamEndpoint, number>();
  /** Members with an effective weight above 0: where a scan looks when picks fail. */
  #routable: readonly Member[] = [];
  #panic = false;
  #inFlight = 0;
  /** The earliest ejection end, breaker retry or slow-start step (clock ms). */
  #nextDeadline = Infinity;
  /** True once a first set was applied: later endpoints ramp up (slow start). */
  #seeded = false;
  /** Inside a batch of changes (an update, a maintenance pass): rebuild once at its end. */
  #batching = false;
  #dirty = false;
  #closing: Promise<void> | undefined;

  constructor(options: UpstreamPoolOptions) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object with at least a name');
    }
    this.name = nonEmptyString(options.name, 'name', 100);
    this.#clock = clockOption(options.clock);
    this.#random = randomOption(options.random);
    this.tls = tlsOption(options.tls);
    this.#scheme = this.tls === undefined ? 'http' : 'https';
    this.#outlier = outlierSettings(options.outlierDetection);
    this.#panicThreshold = finiteNumber(options.panicThresholdPercent ?? 50, 'panicThresholdPercent', {
      min: 0,
      max: 100,
    });
    this.#breakerOptions = breakerOption(options.breaker, this.name, this.#clock);
    const slowStart = options.slowStart ?? false;
    this.#slowStart =
      slowStart === false
        ? undefined
        : createSlowStart<Member>({
            windowMs: slowStart.windowMs,
            aggression: slowStart.aggression,
            minWeightRatio: slowStart.minWeightRatio,
            readySince: (member) => member.readySince,
            weight: (member) => member.endpoint.weight,
            clock: this.#clock,
          });
    this.#rampStepMs = slowStart === false ? Infinity : slowStart.windowMs / RAMP_STEPS;
    if (options.endpoints !== undefined && options.discovery !== undefined) {
      throw new InvalidOptionError(
        'discovery',
        options.discovery,
        'absent when `endpoints` is given (one source of endpoints)',
      );
    }
    const discovery = options.discovery;
    if (discovery !== undefined && typeof (discovery as { subscribe?: unknown } | null)?.subscribe !== 'function') {
      throw new InvalidOptionError('discovery', discovery, 'a DiscoverySource ({ subscribe(listener) })');
    }
    const initial = options.endpoints === undefined ? undefined : upstreamEndpoints(options.endpoints, this.#scheme);
    this.#balancer = checkedBalancer(
      balancerFactoryOption(options.balancer)({
        id: endpointId,
        weight: (endpoint) => this.#weights.get(endpoint) ?? 0,
        ...(this.#random === undefined ? {} : { random: this.#random }),
      }),
    );
    const health = healthCheckSettings(options.healthCheck);
    let check: CheckFunction | undefined;
    if (health?.probe !== undefined) {
      const probe = health.probe;
      check = async (endpoint, signal) => ((await probe(endpoint, signal)) ? undefined : 'probe answered false');
    } else if (health !== undefined) {
      const http = httpProbe(health, this.tls);
      check = http.check;
      this.#closeProbe = () => http.close();
    }
    this.#health = health === undefined || check === undefined ? undefined : this.#healthChecker(health, check);
    this.#timer = new SingleTimer(this.#clock, () => {
      this.#tick(this.#clock.now());
    });
    if (initial !== undefined) this.#apply(initial, this.#clock.now());
    // Last: a source may report its first set synchronously, into a fully built pool.
    this.#unsubscribe = discovery === undefined ? undefined : this.#follow(discovery);
  }

  get endpoints(): readonly UpstreamEndpoint[] {
    return this.#view.members.map((member) => member.endpoint);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get panic(): boolean {
    return this.#panic;
  }

  acquire(key?: string, avoid?: ReadonlySet<string>): EndpointLease | undefined {
    if (this.#closing !== undefined) return undefined;
    const now = this.#clock.now();
    if (now >= this.#nextDeadline) this.#maintain(now);
    const avoiding = avoid !== undefined && avoid.size > 0;
    for (let attempt = 0; attempt < PICK_ATTEMPTS; attempt++) {
      // A retry after a refusal draws afresh: the same key would hash to the same endpoint.
      const endpoint = this.#balancer.pick(attempt === 0 ? key : undefined);
      if (endpoint === undefined) return undefined;
      const member = this.#view.byId.get(endpoint.id);
      if (member !== undefined && !(avoiding && avoid.has(endpoint.id))) {
        const permit = admit(member);
        if (permit !== REFUSED) return this.#lease(member, permit, true);
      }
      this.#balancer.release(endpoint);
    }
    return this.#scan(avoiding ? avoid : undefined) ?? (avoiding ? this.#scan(undefined) : undefined);
  }

  update(endpoints: readonly DiscoveredEndpoint[]): void {
    if (this.#closing !== undefined) return;
    this.#apply(upstreamEndpoints(endpoints, this.#scheme), this.#clock.now());
  }

  snapshot(): UpstreamPoolSnapshot {
    const now = this.#clock.now();
    if (now >= this.#nextDeadline) this.#maintain(now);
    let available = 0;
    let total = 0;
    const endpoints = this.#view.members.map((member): UpstreamEndpointState => {
      if (member.endpoint.weight > 0) {
        total++;
        if (member.available) available++;
      }
      return {
        endpoint: member.endpoint,
        healthy: !member.unhealthy,
        ejected: member.ejected,
        ejectedUntil: member.ejected ? member.ejectedUntil : undefined,
        ejections: member.outlier.ejections,
        breaker: member.breaker?.state,
        inFlight: member.inFlight,
        effectiveWeight: this.#weights.get(member.endpoint) ?? 0,
      };
    });
    return { name: this.name, panic: this.#panic, available, total, inFlight: this.#inFlight, endpoints };
  }

  async checkNow(): Promise<void> {
    if (this.#health === undefined || this.#closing !== undefined) return;
    await this.#health.checkNow(this.#view.members);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#unsubscribe?.();
    this.#timer.close();
    for (const member of this.#view.members) this.#health?.drop(member);
    await this.#closeProbe?.();
  }

  /** Hands out a lease on `member`. */
  #lease(member: Member, permit: BreakerPermit | null, fromBalancer: boolean): EndpointLease {
    member.inFlight++;
    this.#inFlight++;
    return new PoolLease(this, member, permit, fromBalancer);
  }

  /**
   * The slow path, when picks kept failing (avoided ids, breakers refusing): the routable members
   * in turn from a random one. A lease found here did not come through the balancer, so it is not
   * counted in a least-request balancer's load (it will not be released there either).
   */
  #scan(avoid: ReadonlySet<string> | undefined): EndpointLease | undefined {
    const routable = this.#routable;
    const n = routable.length;
    const start = Math.floor(uniform(this.#random) * n);
    for (let i = 0; i < n; i++) {
      const member = routable[(start + i) % n] as Member;
      if (avoid?.has(member.endpoint.id) === true) continue;
      const permit = admit(member);
      if (permit !== REFUSED) return this.#lease(member, permit, false);
    }
    return undefined;
  }

  /** A lease's outcome (called once per lease, by {@link PoolLease.complete}). */
  settle(member: Member, permit: BreakerPermit | null, fromBalancer: boolean, outcome: EndpointOutcome): void {
    member.inFlight--;
    this.#inFlight--;
    if (fromBalancer) this.#balancer.release(member.endpoint);
    const kind = outcomeKind(outcome);
    if (permit !== NO_PERMIT) {
      if (kind === 'success') permit.success();
      else if (kind === 'ignored') permit.ignore();
      else permit.failure();
    }
    const outlier = this.#outlier;
    if (outlier === undefined || member.removed || member.ejected || this.#closing !== undefined) return;
    const reason = recordOutcome(member.outlier, kind, outlier);
    if (reason !== undefined) this.#eject(member, reason, outlier, this.#clock.now());
  }

  #eject(member: Member, reason: EjectionReason, outlier: OutlierSettings, now: number): void {
    const members = this.#view.members;
    let ejected = 0;
    for (const m of members) if (m.ejected) ejected++;
    // At the cap the run stays counted: the next failure tries again, once another endpoint is back.
    if (ejected >= ejectionCap(members.length, outlier)) return;
    const until = now + startEjection(member.outlier, now, outlier);
    member.ejected = true;
    member.ejectedUntil = until;
    // Active checks bring it back after `healthyThreshold` passes from now on.
    member.passes = 0;
    this.#deadline(until);
    if (this.events.has('ejected')) {
      this.events.emit('ejected', {
        pool: this.name,
        endpoint: member.endpoint,
        at: now,
        reason,
        ejections: member.outlier.ejections,
        until,
      });
    }
    this.#changed();
  }

  #restore(member: Member, reason: 'elapsed' | 'active-check' | 'cap', now: number): void {
    // An ejection that ran out is applied lazily (next acquire or timer), but dated when it ended.
    const at = reason === 'elapsed' ? Math.min(now, member.ejectedUntil) : now;
    member.ejected = false;
    member.ejectedUntil = Infinity;
    member.outlier.restoredAt = at;
    member.readySince = at;
    this.events.emit('restored', { pool: this.name, endpoint: member.endpoint, at, reason });
    this.#changed();
  }

  /** Applies what time made due: ejections ended, breakers to probe, slow-start steps. */
  #maintain(now: number): void {
    this.#batch(() => {
      let next = Infinity;
      for (const member of this.#view.members) {
        if (member.ejected) {
          if (now >= member.ejectedUntil) this.#restore(member, 'elapsed', now);
          else next = Math.min(next, member.ejectedUntil);
        }
        // Asking the breaker applies its own lazy open → half-open, whose event unblocks the member.
        if (member.breakerBlocked && now >= member.breakerRetryAt) member.breaker?.retryAfterMs();
        if (member.breakerBlocked) next = Math.min(next, member.breakerRetryAt);
      }
      this.#nextDeadline = next;
      // A ramp in progress needs its weights refreshed; the rebuild schedules the next step.
      if (this.#slowStart !== undefined) this.#dirty = true;
    });
  }

  /** The timer fired (or checks finished): maintenance, then health checks, then the next wake. */
  #tick(now: number): void {
    if (this.#closing !== undefined) return;
    if (now >= this.#nextDeadline) this.#maintain(now);
    const checksDue = this.#health?.run(this.#view.members, now) ?? Infinity;
    this.#timer.set(Math.min(this.#nextDeadline, checksDue));
  }

  #deadline(at: number): void {
    if (at < this.#nextDeadline) this.#nextDeadline = at;
    this.#timer.wakeBy(at);
  }

  /** Something that decides picks changed: rebuild now, or at the end of the current batch. */
  #changed(): void {
    if (this.#batching) this.#dirty = true;
    else this.#rebuild(this.#clock.now());
  }

  #batch(body: () => void): void {
    if (this.#batching) {
      body();
      return;
    }
    this.#batching = true;
    try {
      body();
    } finally {
      this.#batching = false;
    }
    if (this.#dirty) {
      this.#dirty = false;
      this.#rebuild(this.#clock.now());
    }
  }

  /**
   * Recomputes every endpoint's effective weight (0 when out of picks) and the panic state, then
   * updates the balancer: it builds its new state aside and swaps it in at once.
   */
  #rebuild(now: number): void {
    const members = this.#view.members;
    let total = 0;
    let available = 0;
    for (const member of members) {
      if (member.endpoint.weight > 0) {
        total++;
        if (member.available) available++;
      }
    }
    const panic = total > 0 && available * 100 < this.#panicThreshold * total;
    const weights = new Map<UpstreamEndpoint, number>();
    const routable: Member[] = [];
    let ramping = false;
    for (const member of members) {
      const pickable = !member.breakerBlocked && (panic || member.available);
      let weight = pickable ? member.endpoint.weight : 0;
      if (weight > 0 && this.#slowStart !== undefined) {
        const factor = this.#slowStart.factor(member);
        if (factor < 1) ramping = true;
        weight *= factor;
      }
      weights.set(member.endpoint, weight);
      if (weight > 0) routable.push(member);
    }
    this.#weights = weights;
    this.#balancer.update(members.map((member) => member.endpoint));
    this.#routable = routable;
    if (ramping) this.#deadline(now + this.#rampStepMs);
    if (panic !== this.#panic) {
      this.#panic = panic;
      this.events.emit(panic ? 'panicEntered' : 'panicLeft', { pool: this.name, available, total, at: now });
    }
  }

  /** Applies a validated endpoint set: members kept by id, new ones created, removed ones drained. */
  #apply(endpoints: readonly UpstreamEndpoint[], now: number): void {
    const old = this.#view;
    const byId = new Map<string, Member>();
    const added: string[] = [];
    const changed: string[] = [];
    const members = endpoints.map((endpoint) => {
      let member = old.byId.get(endpoint.id);
      if (member === undefined) {
        member = this.#member(endpoint, now);
        added.push(endpoint.id);
      } else if (!sameEndpoint(member.endpoint, endpoint)) {
        member.endpoint = endpoint;
        changed.push(endpoint.id);
      }
      byId.set(endpoint.id, member);
      return member;
    });
    const removed = old.members.filter((member) => !byId.has(member.endpoint.id));
    this.#seeded = true;
    if (added.length === 0 && removed.length === 0 && changed.length === 0) return;
    this.#batch(() => {
      this.#view = { members, byId };
      for (const member of removed) {
        member.removed = true;
        this.#health?.drop(member);
      }
      this.#enforceEjectionCap(now);
      this.#dirty = true;
    });
    if (this.#health !== undefined)
      this.#timer.wakeBy(Math.min(...added.map((id) => byId.get(id)?.nextCheckAt ?? Infinity)));
    this.events.emit('endpointsUpdated', {
      pool: this.name,
      added,
      removed: removed.map((member) => member.endpoint.id),
      changed,
      total: members.length,
      at: now,
    });
  }

  /** After a shrink, brings back the ejected endpoints due back soonest until the cap holds again. */
  #enforceEjectionCap(now: number): void {
    if (this.#outlier === undefined) return;
    const members = this.#view.members;
    const ejected = members.filter((member) => member.ejected).sort((a, b) => a.ejectedUntil - b.ejectedUntil);
    const excess = ejected.length - ejectionCap(members.length, this.#outlier);
    for (let i = 0; i < excess; i++) this.#restore(ejected[i] as Member, 'cap', now);
  }

  #member(endpoint: UpstreamEndpoint, now: number): Member {
    const options = this.#breakerOptions;
    const breaker =
      options === undefined
        ? undefined
        : createBreaker({ ...options, name: `${this.name}/${endpoint.id}`.slice(0, 200), clock: this.#clock });
    const member = new Member(endpoint, now, this.#seeded ? now : undefined, breaker);
    breaker?.events.on('stateChange', (event) => {
      this.#breakerChanged(member, event);
    });
    this.#health?.adopt(member, now);
    return member;
  }

  #breakerChanged(member: Member, event: StateChangeEvent): void {
    if (member.removed) return;
    const blocked = event.to === 'open' || event.to === 'isolated';
    member.breakerRetryAt = event.to === 'open' ? (event.openUntil ?? Infinity) : Infinity;
    if (event.to === 'open') this.#deadline(member.breakerRetryAt);
    this.events.emit('breakerStateChange', {
      pool: this.name,
      endpoint: member.endpoint,
      at: event.at,
      from: event.from,
      to: event.to,
      reason: event.reason,
    });
    if (blocked !== member.breakerBlocked) {
      member.breakerBlocked = blocked;
      this.#changed();
    }
  }

  #healthChecker(settings: HealthCheckSettings, check: CheckFunction): HealthChecker {
    const random = this.#random ?? Math.random;
    return new HealthChecker(settings, check, this.#clock, random, {
      healthy: (member, now) => {
        member.readySince = now;
        this.events.emit('healthy', { pool: this.name, endpoint: member.endpoint, at: now });
        this.#changed();
      },
      unhealthy: (member, lastFailure, now) => {
        this.events.emit('unhealthy', { pool: this.name, endpoint: member.endpoint, at: now, lastFailure });
        this.#changed();
      },
      passed: (member, now) => {
        if (member.ejected && member.passes >= settings.healthyThreshold) this.#restore(member, 'active-check', now);
      },
      wake: () => {
        this.#tick(this.#clock.now());
      },
    });
  }

  #follow(discovery: NonNullable<UpstreamPoolOptions['discovery']>): () => void {
    const report = (error: unknown): void => {
      if (this.#closing !== undefined) return;
      this.events.emit('discoveryError', { pool: this.name, error, at: this.#clock.now() });
    };
    return discovery.subscribe({
      update: (endpoints) => {
        if (this.#closing !== undefined) return;
        try {
          if (Array.isArray(endpoints) && endpoints.length === 0) throw new EmptyDiscoveryError(this.name);
          this.update(endpoints);
        } catch (error) {
          report(error);
        }
      },
      error: report,
    });
  }
}

/** One endpoint handed out for one request; reports its outcome to the pool once. */
class PoolLease implements EndpointLease {
  readonly id: string;
  readonly origin: string;
  readonly #pool: Pool;
  readonly #member: Member;
  readonly #permit: BreakerPermit | null;
  readonly #fromBalancer: boolean;
  #done = false;

  constructor(pool: Pool, member: Member, permit: BreakerPermit | null, fromBalancer: boolean) {
    this.id = member.endpoint.id;
    this.origin = member.endpoint.origin;
    this.#pool = pool;
    this.#member = member;
    this.#permit = permit;
    this.#fromBalancer = fromBalancer;
  }

  complete(outcome: EndpointOutcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#pool.settle(this.#member, this.#permit, this.#fromBalancer, outcome);
  }
}

/** Asks `member`'s breaker for a permit: the permit, {@link NO_PERMIT} without a breaker, or {@link REFUSED}. */
function admit(member: Member): BreakerPermit | null | undefined {
  const breaker = member.breaker;
  if (breaker === undefined) return NO_PERMIT;
  try {
    return breaker.acquire();
  } catch (error) {
    if (isBrokenCircuitError(error)) return REFUSED;
    throw error;
  }
}

function endpointId(endpoint: UpstreamEndpoint): string {
  return endpoint.id;
}

function sameEndpoint(a: UpstreamEndpoint, b: UpstreamEndpoint): boolean {
  return a.weight === b.weight && a.zone === b.zone && sameMetadata(a.metadata, b.metadata);
}

function sameMetadata(a: UpstreamEndpoint['metadata'], b: UpstreamEndpoint['metadata']): boolean {
  if (a === undefined || b === undefined) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function clockOption(clock: Clock | undefined): Clock {
  if (clock === undefined) return systemClock;
  if (typeof (clock as Partial<Clock> | null)?.now !== 'function') {
    throw new InvalidOptionError('clock', clock, 'a Clock ({ now(): number })');
  }
  return clock;
}

/** Validates the `breaker` option by building one breaker with it (its own checks name the bad option). */
function breakerOption(
  options: EndpointBreakerOptions | false | undefined,
  name: string,
  clock: Clock,
): EndpointBreakerOptions | undefined {
  if (options === false) return undefined;
  if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
    throw new InvalidOptionError('breaker', options, 'an object of breaker options, or false');
  }
  const settings: EndpointBreakerOptions = {
    trip: options?.trip,
    openDuration: options?.openDuration,
    halfOpen: options?.halfOpen,
  };
  createBreaker({ ...settings, name, clock });
  return settings;
}
