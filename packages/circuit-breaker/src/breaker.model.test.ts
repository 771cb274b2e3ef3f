import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { createBreaker, type Breaker } from './breaker.js';
import type { BreakerState } from './breaker-state.js';
import { isBrokenCircuitError } from './errors.js';
import { consecutiveFailures } from './trip/consecutive-failures.js';
import { failureRate } from './trip/failure-rate.js';
import { slowCallRate } from './trip/slow-call-rate.js';
import type { TripPolicy } from './trip/types.js';

// A reference model of the breaker written the naive way: every outcome kept in a list, windows
// recomputed by filtering it, probes in a map. The implementation (rings, running totals, slot
// arrays, generations, a clock-free fast path) must decide exactly as this does.

type WindowSpec = { calls: number } | { durationMs: number; buckets: number };
interface RateSpec {
  /** The threshold in hundredths: the breaker is given the decimal `0.07` for 7. */
  hundredths: number;
  minimumCalls: number;
  window: WindowSpec;
}
interface Config {
  consecutive: number | undefined;
  rate: RateSpec | undefined;
  slow: (RateSpec & { slowerThanMs: number }) | undefined;
  open: number | { initialMs: number; multiplier: number; maxMs: number };
  maxProbes: number;
  successesToClose: number;
  maxWaitMs: number;
}

interface Outcome {
  readonly at: number;
  readonly failed: boolean;
  readonly durationMs: number;
}

/** Whether a call was admitted as a closed call or a probe, and in which state generation. */
interface Admission {
  readonly generation: number;
  readonly probe: boolean;
  readonly start: number;
}

class Model {
  state: BreakerState = 'closed';
  generation = 0;
  openUntil = 0;
  consecutiveOpens = 0;
  /** Probes in flight: admission id → start time. */
  readonly probes = new Map<number, number>();
  probeSuccesses = 0;
  outcomes: Outcome[] = [];
  streak = 0;

  constructor(readonly config: Config) {}

  openDuration(opens: number): number {
    const { open } = this.config;
    if (typeof open === 'number') return open;
    return Math.min(open.maxMs, open.initialMs * open.multiplier ** (opens - 1));
  }

  transition(to: BreakerState): void {
    this.state = to;
    this.generation++;
    this.probes.clear();
    this.probeSuccesses = 0;
  }

  open(at: number): void {
    this.consecutiveOpens++;
    this.openUntil = at + this.openDuration(this.consecutiveOpens);
    this.transition('open');
  }

  close(): void {
    this.outcomes = [];
    this.streak = 0;
    this.consecutiveOpens = 0;
    this.transition('closed');
  }

  advance(now: number): void {
    for (;;) {
      if (this.state === 'open' && now >= this.openUntil) {
        this.transition('half-open');
      } else if (this.state === 'half-open' && this.probes.size > 0) {
        const expiry = Math.min(...this.probes.values()) + this.config.maxWaitMs;
        if (now < expiry) return;
        this.open(expiry);
      } else {
        return;
      }
    }
  }

  admit(id: number, now: number, admissions: Map<number, Admission>): boolean {
    this.advance(now);
    if (this.state === 'closed') {
      admissions.set(id, { generation: this.generation, probe: false, start: now });
      return true;
    }
    if (this.state === 'half-open' && this.probes.size < this.config.maxProbes) {
      this.probes.set(id, now);
      admissions.set(id, { generation: this.generation, probe: true, start: now });
      return true;
    }
    return false;
  }

  settle(id: number, admission: Admission, failed: boolean, now: number): void {
    if (admission.probe) this.advance(now);
    if (admission.generation !== this.generation) return;
    const durationMs = now - admission.start;
    if (!admission.probe) {
      this.outcomes.push({ at: now, failed, durationMs });
      this.streak = failed ? this.streak + 1 : 0;
      if (this.tripped(now)) this.open(now);
      return;
    }
    this.probes.delete(id);
    const slowMs = this.config.slow?.slowerThanMs ?? Infinity;
    if (failed || durationMs > slowMs) this.open(now);
    else if (++this.probeSuccesses >= this.config.successesToClose) this.close();
  }

  tripped(now: number): boolean {
    const { consecutive, rate, slow } = this.config;
    if (consecutive !== undefined && this.streak >= consecutive) return true;
    if (rate !== undefined) {
      const seen = this.inWindow(rate.window, now);
      const failures = seen.filter((o) => o.failed).length;
      if (seen.length >= minimumOf(rate) && failures * 100 >= rate.hundredths * seen.length) return true;
    }
    if (slow !== undefined) {
      const seen = this.inWindow(slow.window, now);
      const slowCalls = seen.filter((o) => o.durationMs > slow.slowerThanMs).length;
      if (seen.length >= minimumOf(slow) && slowCalls * 100 >= slow.hundredths * seen.length) return true;
    }
    return false;
  }

  inWindow(window: WindowSpec, now: number): Outcome[] {
    if ('calls' in window) return this.outcomes.slice(-window.calls);
    const bucketMs = window.durationMs / window.buckets;
    const newest = Math.floor(now / bucketMs);
    return this.outcomes.filter((o) => newest - Math.floor(o.at / bucketMs) < window.buckets);
  }
}

interface Real {
  readonly clock: ManualClock;
  readonly breaker: Breaker;
  readonly admissions: Map<number, Admission>;
  /** Calls started and not finished: id, and how to finish it. */
  readonly pending: { id: number; finish: (failed: boolean) => Promise<void> }[];
  nextId: number;
}

type Cmd = fc.AsyncCommand<Model, Real>;

/** Lets the breaker's settlement handlers run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function checkAgreement(model: Model, real: Real): void {
  const now = real.clock.now();
  model.advance(now);
  const snapshot = real.breaker.snapshot();
  expect(snapshot.state).toBe(model.state);
  expect(snapshot.consecutiveOpens).toBe(model.consecutiveOpens);
  expect(snapshot.openUntil).toBe(model.state === 'open' ? model.openUntil : undefined);
  expect(snapshot.probesInFlight).toBe(model.state === 'half-open' ? model.probes.size : 0);
}

/** A call that takes `durationMs` (the clock moves while it runs) and then fails or succeeds. */
class CallCommand implements Cmd {
  constructor(
    readonly failed: boolean,
    readonly durationMs: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const id = real.nextId++;
    const admitted = model.admit(id, real.clock.now(), real.admissions);
    let ran = false;
    const outcome = await real.breaker
      .execute(() => {
        ran = true;
        real.clock.advance(this.durationMs);
        return this.failed ? Promise.reject(new Error('upstream failed')) : Promise.resolve('ok');
      })
      .then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
    expect(ran).toBe(admitted);
    if (!admitted) {
      expect('error' in outcome && isBrokenCircuitError(outcome.error)).toBe(true);
    } else {
      expect('error' in outcome).toBe(this.failed);
      model.settle(id, real.admissions.get(id) as Admission, this.failed, real.clock.now());
    }
    checkAgreement(model, real);
  }
  toString(): string {
    return `call(${this.failed ? 'fail' : 'ok'}, ${this.durationMs}ms)`;
  }
}

/** Starts a call that stays in flight until a FinishCommand ends it. */
class StartCommand implements Cmd {
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    const id = real.nextId++;
    const admitted = model.admit(id, real.clock.now(), real.admissions);
    const before = real.breaker.snapshot().counters.rejections;
    let settle: ((failed: boolean) => void) | undefined;
    const result = real.breaker.execute(
      () =>
        new Promise<string>((resolve, reject) => {
          settle = (failed) => {
            if (failed) reject(new Error('upstream failed'));
            else resolve('ok');
          };
        }),
    );
    const refused = real.breaker.snapshot().counters.rejections > before;
    expect(refused).toBe(!admitted);
    const observed = result.then(
      () => undefined,
      () => undefined,
    );
    if (admitted) {
      real.pending.push({
        id,
        finish: async (failed) => {
          (settle as (failed: boolean) => void)(failed);
          await observed;
        },
      });
    } else {
      await expect(result).rejects.toSatisfy(isBrokenCircuitError);
    }
    checkAgreement(model, real);
  }
  toString(): string {
    return 'start';
  }
}

class FinishCommand implements Cmd {
  constructor(
    readonly pick: number,
    readonly failed: boolean,
  ) {}
  check(_model: Readonly<Model>): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    if (real.pending.length === 0) return;
    const [call] = real.pending.splice(this.pick % real.pending.length, 1);
    if (call === undefined) return;
    model.settle(call.id, real.admissions.get(call.id) as Admission, this.failed, real.clock.now());
    await call.finish(this.failed);
    await flush();
    checkAgreement(model, real);
  }
  toString(): string {
    return `finish(#${this.pick}, ${this.failed ? 'fail' : 'ok'})`;
  }
}

class AdvanceCommand implements Cmd {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    real.clock.advance(this.ms);
    await Promise.resolve();
    checkAgreement(model, real);
  }
  toString(): string {
    return `advance(${this.ms})`;
  }
}

class IsolateCommand implements Cmd {
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    model.advance(real.clock.now());
    if (model.state !== 'isolated') model.transition('isolated');
    real.breaker.isolate();
    await Promise.resolve();
    checkAgreement(model, real);
  }
  toString(): string {
    return 'isolate';
  }
}

class ResetCommand implements Cmd {
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    model.advance(real.clock.now());
    model.outcomes = [];
    model.streak = 0;
    model.consecutiveOpens = 0;
    if (model.state !== 'closed') model.transition('closed');
    real.breaker.reset();
    await Promise.resolve();
    checkAgreement(model, real);
  }
  toString(): string {
    return 'reset';
  }
}

/** The minimum a rate policy waits for: a count window never holds more than its size. */
function minimumOf(rate: RateSpec): number {
  return 'calls' in rate.window ? Math.min(rate.minimumCalls, rate.window.calls) : rate.minimumCalls;
}

/** The policy's options, the threshold written as a decimal (`0.07`), as a user would. */
function rateOptions({ hundredths, minimumCalls, window }: RateSpec) {
  const threshold = hundredths === 100 ? 1 : Number(`0.${String(hundredths).padStart(2, '0')}`);
  return { threshold, minimumCalls, window };
}

const windowArb: fc.Arbitrary<WindowSpec> = fc.oneof(
  fc.record({ calls: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ durationMs: fc.integer({ min: 10, max: 200 }), buckets: fc.integer({ min: 1, max: 5 }) }),
);
const rateArb: fc.Arbitrary<RateSpec> = fc.record({
  hundredths: fc.oneof(fc.constantFrom(20, 25, 28, 50, 55, 60, 70, 100), fc.integer({ min: 5, max: 100 })),
  minimumCalls: fc.integer({ min: 1, max: 5 }),
  window: windowArb,
});
const configArb: fc.Arbitrary<Config> = fc
  .record({
    consecutive: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    rate: fc.option(rateArb, { nil: undefined }),
    slow: fc.option(
      rateArb.chain((r) =>
        fc
          .oneof(fc.constantFrom(0, 5, 10, 20), fc.integer({ min: 0, max: 40 }))
          .map((slowerThanMs) => ({ ...r, slowerThanMs })),
      ),
      { nil: undefined },
    ),
    open: fc.oneof(
      fc.oneof(fc.constantFrom(10, 20, 40), fc.integer({ min: 10, max: 100 })),
      fc.record({
        initialMs: fc.integer({ min: 5, max: 40 }),
        multiplier: fc.constantFrom(1, 1.5, 2, 3),
        maxMs: fc.integer({ min: 40, max: 200 }),
      }),
    ),
    maxProbes: fc.integer({ min: 1, max: 3 }),
    successesToClose: fc.integer({ min: 1, max: 3 }),
    maxWaitMs: fc.oneof(fc.constantFrom(10, 20, 40), fc.integer({ min: 10, max: 150 })),
  })
  .filter((c) => c.consecutive !== undefined || c.rate !== undefined || c.slow !== undefined);

function tripPolicies(config: Config): TripPolicy[] {
  const trip: TripPolicy[] = [];
  if (config.consecutive !== undefined) trip.push(consecutiveFailures(config.consecutive));
  if (config.rate !== undefined) trip.push(failureRate(rateOptions(config.rate)));
  if (config.slow !== undefined)
    trip.push(slowCallRate({ ...rateOptions(config.slow), slowerThanMs: config.slow.slowerThanMs }));
  return trip;
}

const commandArbs: fc.Arbitrary<Cmd>[] = [
  fc
    .tuple(fc.boolean(), fc.oneof(fc.constantFrom(0, 5, 10, 20, 40), fc.integer({ min: 0, max: 60 })))
    .map(([failed, ms]) => new CallCommand(failed, ms)),
  fc.constant(new StartCommand()),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, failed]) => new FinishCommand(pick, failed)),
  fc.oneof(fc.constantFrom(5, 10, 20, 40, 100), fc.integer({ min: 1, max: 120 })).map((ms) => new AdvanceCommand(ms)),
  fc.constant(new IsolateCommand()),
  fc.constant(new ResetCommand()),
];
const commandsArb = fc.commands(commandArbs, { maxCommands: 120, size: 'large' });

describe('breaker state machine (model-based)', () => {
  test.prop([configArb, commandsArb], { numRuns: 400 })(
    'for any sequence of successes, failures, slow and hanging calls, clock advances, isolate and reset, states and admissions match the reference model',
    async (config, commands) => {
      const clock = new ManualClock(1_000_000);
      const breaker = createBreaker({
        name: 'model',
        clock,
        trip: tripPolicies(config),
        openDuration: config.open,
        halfOpen: {
          maxProbes: config.maxProbes,
          successesToClose: config.successesToClose,
          maxWaitMs: config.maxWaitMs,
        },
      });
      const real: Real = { clock, breaker, admissions: new Map(), pending: [], nextId: 0 };
      await fc.asyncModelRun(() => ({ model: new Model(config), real }), commands);
      // Finish whatever is still in flight, so nothing is left pending.
      for (const call of real.pending.splice(0)) await call.finish(false);
    },
  );
});
