import type { Clock, Emitter } from '@portcullis/core';
import type { BreakerEvents, TransitionReason } from './breaker-events.js';
import { resolveBreakerOptions, type BreakerConfig, type BreakerOptions } from './breaker-options.js';
import type { BreakerState } from './breaker-state.js';
import { BrokenCircuitError, isPolicyDisposedError } from './errors.js';
import { NO_SIGNAL_CONTEXT, type ExecuteOptions, type Policy, type Protected, rejectWith } from './policy.js';
import { rejecter, rejection } from './rejection.js';
import { withoutStack } from './stackless.js';
import type { TripMeter, TripReading } from './trip/types.js';

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const ISOLATED = 3;
type StateCode = typeof CLOSED | typeof OPEN | typeof HALF_OPEN | typeof ISOLATED;
const STATE_NAMES: readonly BreakerState[] = ['closed', 'open', 'half-open', 'isolated'];

/** A call admitted while closed (not a probe). */
const NOT_A_PROBE = -1;
/** A call refused. */
const REFUSED = -2;

/** How a call ended, as far as the breaker cares. */
const SUCCEEDED = 0;
const FAILED = 1;
/** The caller aborted: neither success nor failure. */
const IGNORED = 2;
type Verdict = typeof SUCCEEDED | typeof FAILED | typeof IGNORED;

/**
 * Counters since the breaker was created (monotonic: export them as Prometheus counters).
 */
export interface BreakerCounters {
  /** Calls admitted (run). */
  readonly calls: number;
  /** Admitted calls that succeeded (including errors `isFailure` does not count). */
  readonly successes: number;
  /** Admitted calls that failed. */
  readonly failures: number;
  /** Admitted calls whose outcome was not counted (the caller aborted). */
  readonly ignored: number;
  /** Calls refused without running. */
  readonly rejections: number;
}

/**
 * A breaker's state and counters at one moment, for a health check or a metrics exporter.
 *
 * @example
 * ```ts
 * const snap = breaker.snapshot();
 * if (snap.unhealthySince !== undefined && clock.now() - snap.unhealthySince > 5 * 60_000) alert(snap.name);
 * ```
 */
export interface BreakerSnapshot {
  /** The breaker's name. */
  readonly name: string;
  /** The current state (lazy transitions that are due applied). */
  readonly state: BreakerState;
  /** When the current state was entered (clock ms). */
  readonly since: number;
  /**
   * When the breaker last left `closed` (clock ms), kept through open → half-open → open cycles;
   * `undefined` while closed. "Open for more than 5 minutes" is `now - unhealthySince > 300_000`.
   */
  readonly unhealthySince: number | undefined;
  /** When open: when the open period ends (clock ms). */
  readonly openUntil: number | undefined;
  /** Opens since the breaker was last closed (drives a growing `openDuration`). */
  readonly consecutiveOpens: number;
  /** Probes in flight (half-open only). */
  readonly probesInFlight: number;
  /** Monotonic counters; see {@link BreakerCounters}. */
  readonly counters: BreakerCounters;
  /** Where each trip policy stands (windows as of now). */
  readonly policies: readonly TripReading[];
}

/**
 * One admitted call's handle, for code that cannot wrap the call in `execute` (the HTTP guard
 * admits a request, and learns its status only when the response ends). Report exactly one
 * outcome; later reports are ignored.
 *
 * @example
 * ```ts
 * const permit = breaker.acquire(); // throws BrokenCircuitError when refused
 * try {
 *   const res = await fetch(url);
 *   if (res.status >= 500) permit.failure();
 *   else permit.success();
 * } catch (error) {
 *   permit.failure();
 *   throw error;
 * }
 * ```
 */
export interface BreakerPermit {
  /** The call succeeded. */
  success(): void;
  /** The call failed (counted whatever `isFailure` would say). */
  failure(): void;
  /** The call ended without a verdict on the upstream (the client went away); frees a probe slot. */
  ignore(): void;
}

/**
 * A circuit breaker: closed / open / half-open (and isolated), with composable trip policies, an
 * open period that may grow, limited half-open probing and manual control. Create one with
 * {@link createBreaker}; it is a {@link Policy}, so it composes in a `pipeline`.
 *
 * The breaker holds no timer: open → half-open, and a hanging probe's expiry, are decided on the
 * next call or read, from the clock. A closed call allocates nothing beyond the promise it
 * returns and reads the clock never (`consecutiveFailures`, count windows), once (time windows)
 * or twice (to time it for a slow-call policy); a refusal returns a promise rejected with a
 * shared, stackless error.
 *
 * @example
 * ```ts
 * import { createBreaker, isBrokenCircuitError } from '@portcullis/circuit-breaker';
 *
 * const breaker = createBreaker({ name: 'orders' });
 * try {
 *   const order = await breaker.execute(({ signal }) => fetch('http://orders.internal/42', { signal }));
 * } catch (error) {
 *   if (isBrokenCircuitError(error)) {
 *     // fast failure: orders is down; serve something else
 *   }
 * }
 * ```
 */
export class Breaker implements Policy {
  /** The breaker's name (in errors, events and snapshots). */
  readonly name: string;
  /** State changes and refusals; see {@link BreakerEvents}. */
  readonly events: Emitter<BreakerEvents>;

  readonly #clock: Clock;
  /** Validated settings, shared with the registry's other breakers of the same service settings. */
  readonly #config: BreakerConfig;
  readonly #meters: readonly TripMeter[];

  #state: StateCode = CLOSED;
  /** Bumped on every transition: outcomes of calls admitted in an earlier state are not counted. */
  #generation = 0;
  #since: number;
  #unhealthySince: number | undefined;
  #openUntil = 0;
  #consecutiveOpens = 0;
  /** Start time of each probe slot's call; NaN when free. Allocated when first half-open. */
  #probeStarts: Float64Array | undefined;
  #probes = 0;
  #probeSuccesses = 0;
  /** The error every refusal of the current state shares, built on the first one. */
  #refusal: BrokenCircuitError | undefined;
  /** Rejects with `#refusal`: shared by the refusals of the current state, like the error. */
  #rejectRefusal: (() => Promise<never>) | undefined;

  #calls = 0;
  #successes = 0;
  #failures = 0;
  #ignored = 0;
  #rejections = 0;

  /**
   * Settlement handlers for clock-free closed calls of the current generation, shared by all of
   * them; made on the first such call (a breaker used only through `acquire` never needs them).
   */
  #closedFulfilled: ((value: unknown) => unknown) | undefined;
  #closedRejected: ((error: unknown) => PromiseLike<never>) | undefined;

  /** @param options - See {@link BreakerOptions}; validated here. */
  constructor(options: BreakerOptions = {}) {
    const { name, config } = resolveBreakerOptions(options);
    this.name = name;
    this.events = config.events;
    this.#clock = config.clock;
    this.#config = config;
    const now = config.clock.now();
    this.#meters = config.trip.map((policy) => policy.createMeter(now));
    this.#since = now;
  }

  /** The current state, applying any transition that is due (open period over, probe expired). */
  get state(): BreakerState {
    this.#advance(this.#clock.now());
    return STATE_NAMES[this.#state] as BreakerState;
  }

  /**
   * Runs `fn` if the breaker admits the call, recording its outcome; otherwise rejects at once with
   * a {@link BrokenCircuitError} (`fn` does not run). A caller signal that is already aborted
   * rejects with its reason without running `fn`.
   */
  execute<T>(fn: Protected<T>, options?: ExecuteOptions): Promise<T> {
    if (this.#state === CLOSED && !this.#config.timesCalls && options?.signal === undefined) {
      // The hot path: nothing to decide, nothing to time, handlers shared by the generation (a
      // time window reads the clock once, when the call ends).
      this.#calls++;
      let result: T | PromiseLike<T>;
      try {
        result = fn(NO_SIGNAL_CONTEXT);
      } catch (error) {
        return rejectWith(this.#recordError(this.#generation, NOT_A_PROBE, error, undefined, NaN, this.#endTime()));
      }
      if (this.#closedFulfilled === undefined) this.#makeClosedHandlers();
      const onFulfilled = this.#closedFulfilled as (value: unknown) => unknown;
      const onRejected = this.#closedRejected as (error: unknown) => PromiseLike<never>;
      if (result instanceof Promise) return result.then(onFulfilled, onRejected) as Promise<T>;
      return Promise.resolve(result).then(onFulfilled, onRejected) as Promise<T>;
    }
    return this.#execute(fn, options?.signal);
  }

  /**
   * Admits one call and returns its permit, or throws a {@link BrokenCircuitError} (stackless and
   * shared, so refusing is cheap) when refused. For code that cannot use {@link Breaker.execute}.
   */
  acquire(): BreakerPermit {
    const now = this.#clock.now();
    const slot = this.#admit(now);
    if (slot === REFUSED) throw this.#refuse();
    this.#calls++;
    const generation = this.#generation;
    let settled = false;
    const settle = (verdict: Verdict): void => {
      if (settled) return;
      settled = true;
      this.#settle(generation, slot, verdict, now, this.#clock.now());
    };
    return {
      success: () => {
        settle(SUCCEEDED);
      },
      failure: () => {
        settle(FAILED);
      },
      ignore: () => {
        settle(IGNORED);
      },
    };
  }

  /**
   * Milliseconds until the breaker lets a call through: 0 when closed or half-open (a probe slot
   * frees when a probe ends), the rest of the open period when open, `Infinity` when isolated.
   */
  retryAfterMs(): number {
    const now = this.#clock.now();
    this.#advance(now);
    if (this.#state === OPEN) return this.#openUntil - now;
    return this.#state === ISOLATED ? Infinity : 0;
  }

  /** Opens the breaker by hand, refusing every call until {@link Breaker.reset}. */
  isolate(): void {
    const now = this.#clock.now();
    this.#advance(now);
    if (this.#state !== ISOLATED) this.#transition(ISOLATED, now, 'isolated');
  }

  /** Closes the breaker by hand and forgets every recorded outcome and consecutive open. */
  reset(): void {
    const now = this.#clock.now();
    this.#advance(now);
    for (const meter of this.#meters) meter.reset(now);
    this.#consecutiveOpens = 0;
    if (this.#state !== CLOSED) this.#transition(CLOSED, now, 'reset');
  }

  /** State, counters and trip readings now; see {@link BreakerSnapshot}. */
  snapshot(): BreakerSnapshot {
    const now = this.#clock.now();
    this.#advance(now);
    return {
      name: this.name,
      state: STATE_NAMES[this.#state] as BreakerState,
      since: this.#since,
      unhealthySince: this.#unhealthySince,
      openUntil: this.#state === OPEN ? this.#openUntil : undefined,
      consecutiveOpens: this.#consecutiveOpens,
      probesInFlight: this.#state === HALF_OPEN ? this.#probes : 0,
      counters: {
        calls: this.#calls,
        successes: this.#successes,
        failures: this.#failures,
        ignored: this.#ignored,
        rejections: this.#rejections,
      },
      policies: this.#meters.map((meter) => meter.read(now)),
    };
  }

  /** The breaker holds no timer: nothing to dispose. Present so a breaker fits a `pipeline`. */
  dispose(): void {
    // Deliberately empty: all of the breaker's time-based behaviour is decided lazily.
  }

  /** The general path: any state, a caller signal, or a trip policy that needs the clock. */
  #execute<T>(fn: Protected<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal?.aborted === true) return rejectWith(signal.reason);
    // A closed call needs its start time only to be timed (a slow-call policy): one clock read saved.
    const start = this.#state === CLOSED && !this.#config.timesCalls ? NaN : this.#clock.now();
    const slot = this.#admit(start);
    if (slot === REFUSED) return this.#refusedPromise();
    this.#calls++;
    return this.#run(fn, signal, this.#generation, slot, start);
  }

  /** Runs an admitted call and records its outcome (an async method: no closure per call). */
  async #run<T>(
    fn: Protected<T>,
    signal: AbortSignal | undefined,
    generation: number,
    slot: number,
    start: number,
  ): Promise<T> {
    let value: T;
    try {
      value = await fn(signal === undefined ? NO_SIGNAL_CONTEXT : { signal });
    } catch (error) {
      throw this.#recordError(generation, slot, error, signal, start, this.#clock.now());
    }
    this.#recordResult(generation, slot, value, start, this.#clock.now());
    return value;
  }

  /** Makes the shared settlement handlers of the untimed closed path, for the current generation. */
  #makeClosedHandlers(): void {
    const generation = this.#generation;
    this.#closedFulfilled = (value) => {
      this.#recordResult(generation, NOT_A_PROBE, value, NaN, this.#endTime());
      return value;
    };
    this.#closedRejected = (error) =>
      rejection(this.#recordError(generation, NOT_A_PROBE, error, undefined, NaN, this.#endTime()));
  }

  /** When a closed call ended: the clock if a time window needs it, else NaN (no read). */
  #endTime(): number {
    return this.#config.needsClock ? this.#clock.now() : NaN;
  }

  /**
   * Records a call that returned `value`. When `isFailureResult` throws, the outcome is not
   * counted (a probe's slot is freed all the same) and its error is thrown, for the call to reject with.
   */
  #recordResult(generation: number, slot: number, value: unknown, start: number, now: number): void {
    let verdict: Verdict = SUCCEEDED;
    const isFailureResult = this.#config.isFailureResult;
    if (isFailureResult !== undefined) {
      try {
        if (isFailureResult(value)) verdict = FAILED;
      } catch (predicateError) {
        this.#settle(generation, slot, IGNORED, start, now);
        throw predicateError;
      }
    }
    this.#settle(generation, slot, verdict, start, now);
  }

  /**
   * Records a call that failed with `error`; returns what the call rejects with: `error`, or the
   * error `isFailure` threw (the outcome then not counted, a probe's slot freed). An error after
   * the caller's own abort, or a `PolicyDisposedError` (a pipeline disposed while the call was in
   * flight), says nothing about the upstream: not counted either.
   */
  #recordError(
    generation: number,
    slot: number,
    error: unknown,
    signal: AbortSignal | undefined,
    start: number,
    now: number,
  ): unknown {
    let verdict: Verdict = FAILED;
    const isFailure = this.#config.isFailure;
    if (signal?.aborted === true || isPolicyDisposedError(error)) {
      verdict = IGNORED;
    } else if (isFailure !== undefined) {
      try {
        verdict = isFailure(error) ? FAILED : SUCCEEDED;
      } catch (predicateError) {
        this.#settle(generation, slot, IGNORED, start, now);
        return predicateError;
      }
    }
    this.#settle(generation, slot, verdict, start, now);
    return error;
  }

  /** Decides whether a call may run at `now`: NOT_A_PROBE, a probe slot, or REFUSED. */
  #admit(now: number): number {
    this.#advance(now);
    if (this.#state === CLOSED) return NOT_A_PROBE;
    if (this.#state !== HALF_OPEN || this.#probes >= this.#config.maxProbes) return REFUSED;
    const starts = this.#probeStarts as Float64Array;
    let slot = 0;
    while (!Number.isNaN(starts[slot])) slot++;
    starts[slot] = now;
    this.#probes++;
    return slot;
  }

  /**
   * A promise that rejects with the refusal, a microtask from now, without a throw or an
   * unhandled-rejection check (see `rejection.ts`): a refusal allocates one promise.
   */
  #refusedPromise(): Promise<never> {
    const refusal = this.#refuse();
    this.#rejectRefusal ??= rejecter(refusal);
    return this.#rejectRefusal();
  }

  /** Counts a refusal and returns the error it rejects with. */
  #refuse(): BrokenCircuitError {
    this.#rejections++;
    const state = STATE_NAMES[this.#state] as Exclude<BreakerState, 'closed'>;
    if (this.events.has('rejection')) this.events.emit('rejection', { breaker: this.name, state });
    this.#refusal ??= withoutStack(() =>
      Object.freeze(new BrokenCircuitError(this.name, state, this.#state === OPEN ? this.#openUntil : undefined)),
    );
    return this.#refusal;
  }

  /**
   * Applies the transitions time alone causes, dated when they fell due: the end of an open
   * period, and a probe running past `maxWaitMs`. Cheap when nothing is due.
   */
  #advance(now: number): void {
    for (;;) {
      if (this.#state === OPEN) {
        if (now < this.#openUntil) return;
        this.#transition(HALF_OPEN, this.#openUntil, 'open-elapsed');
      } else if (this.#state === HALF_OPEN && this.#probes > 0) {
        let oldest = Infinity;
        for (const start of this.#probeStarts as Float64Array) if (start < oldest) oldest = start;
        const expiry = oldest + this.#config.maxWaitMs;
        if (now < expiry) return;
        this.#open(expiry, 'probe-timed-out', undefined);
      } else {
        return;
      }
    }
  }

  /**
   * Records an admitted call's outcome; ignored when the breaker changed state since admitting it.
   * `start` is NaN for closed calls that need no timing, and `now` too when no policy needs time.
   */
  #settle(generation: number, slot: number, verdict: Verdict, start: number, now: number): void {
    if (verdict === SUCCEEDED) this.#successes++;
    else if (verdict === FAILED) this.#failures++;
    else this.#ignored++;
    if (slot !== NOT_A_PROBE) this.#advance(now);
    if (generation !== this.#generation) return;
    if (slot === NOT_A_PROBE) {
      if (verdict === IGNORED) return;
      const failed = verdict === FAILED;
      const durationMs = now - start;
      const meters = this.#meters;
      let tripped = -1;
      for (let i = 0; i < meters.length; i++) {
        if ((meters[i] as TripMeter).record(failed, durationMs, now) && tripped === -1) tripped = i;
      }
      // A NaN time comes from the clock-free path, which reads the clock only now that it must.
      if (tripped !== -1)
        this.#open(Number.isNaN(now) ? this.#clock.now() : now, 'tripped', this.#config.policyNames[tripped]);
      return;
    }
    (this.#probeStarts as Float64Array)[slot] = NaN;
    this.#probes--;
    if (verdict === IGNORED) return;
    if (verdict === FAILED || now - start > this.#config.slowProbeMs) {
      this.#open(now, 'probe-failed', undefined);
    } else if (++this.#probeSuccesses >= this.#config.successesToClose) {
      for (const meter of this.#meters) meter.reset(now);
      this.#consecutiveOpens = 0;
      this.#transition(CLOSED, now, 'probes-succeeded');
    }
  }

  #open(at: number, reason: TransitionReason, policy: string | undefined): void {
    this.#consecutiveOpens++;
    this.#openUntil = at + this.#config.openDurationFor(this.#consecutiveOpens);
    this.#transition(OPEN, at, reason, policy);
  }

  #transition(to: StateCode, at: number, reason: TransitionReason, policy?: string): void {
    const from = this.#state;
    this.#state = to;
    this.#generation++;
    this.#since = at;
    this.#refusal = undefined;
    this.#rejectRefusal = undefined;
    if (to === CLOSED) {
      this.#unhealthySince = undefined;
      // The next clock-free closed call makes handlers for the new generation.
      this.#closedFulfilled = undefined;
      this.#closedRejected = undefined;
    } else {
      this.#unhealthySince ??= at;
    }
    if (to === HALF_OPEN || from === HALF_OPEN) {
      // Most breakers never open: the slots are allocated on the first half-open.
      (this.#probeStarts ??= new Float64Array(this.#config.maxProbes)).fill(NaN);
      this.#probes = 0;
      this.#probeSuccesses = 0;
    }
    if (this.events.has('stateChange')) {
      this.events.emit('stateChange', {
        breaker: this.name,
        from: STATE_NAMES[from] as BreakerState,
        to: STATE_NAMES[to] as BreakerState,
        at,
        reason,
        policy,
        openUntil: to === OPEN ? this.#openUntil : undefined,
      });
    }
  }
}

/**
 * Creates a {@link Breaker}.
 *
 * @param options - See {@link BreakerOptions}.
 * @throws InvalidOptionError naming the option when one is invalid.
 *
 * @example
 * ```ts
 * import { createBreaker, failureRate, slowCallRate } from '@portcullis/circuit-breaker';
 *
 * // Opens at 50% failures or 1% of calls over 2 s (p99 > 2 s) in the last 30 s; 30 s open.
 * const orders = createBreaker({
 *   name: 'orders',
 *   trip: [
 *     failureRate({ threshold: 0.5, minimumCalls: 20, window: { durationMs: 30_000 } }),
 *     slowCallRate({ slowerThanMs: 2_000, threshold: 0.01, minimumCalls: 100, window: { durationMs: 30_000 } }),
 *   ],
 *   openDuration: 30_000,
 * });
 * ```
 */
export function createBreaker(options: BreakerOptions = {}): Breaker {
  return new Breaker(options);
}
