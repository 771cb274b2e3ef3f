import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { fixedWindow } from './fixed-window.js';
import { gcra } from './gcra.js';
import { slidingLog } from './sliding-log.js';
import { slidingWindow } from './sliding-window.js';
import { tokenBucket } from './token-bucket.js';
import type { Algorithm, LimitState } from './types.js';

/** One request of a schedule: how long after the previous one, and what it costs. */
interface Step {
  dt: number;
  cost: number;
}

const schedule = (maxCost: number, maxDt: number): fc.Arbitrary<Step[]> =>
  fc.array(fc.record({ dt: fc.nat({ max: maxDt }), cost: fc.integer({ min: 0, max: maxCost }) }), {
    minLength: 1,
    maxLength: 120,
  });

const T0 = 1_700_000_000_000;

/** Runs a schedule through an algorithm the way a store does: commit only what is allowed. */
function replay(algorithm: Algorithm, steps: readonly Step[]): { at: number; cost: number; allowed: boolean }[] {
  let state: LimitState | undefined;
  let now = T0;
  return steps.map(({ dt, cost }) => {
    now += dt;
    const result = algorithm.evaluate(state, now, cost);
    if (result.allowed) state = result.next;
    return { at: now, cost, allowed: result.allowed };
  });
}

/** Total cost admitted at instants in [from, to]. */
function admittedBetween(
  log: readonly { at: number; cost: number; allowed: boolean }[],
  from: number,
  to: number,
): number {
  return log.filter((e) => e.allowed && e.at >= from && e.at <= to).reduce((sum, e) => sum + e.cost, 0);
}

type Entry = ReturnType<typeof replay>[number];

describe('token bucket', () => {
  test.prop(
    [fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 100 }), fc.nat({ max: 5 }), schedule(20, 400)],
    {
      numRuns: 300,
    },
  )(
    'never admits more than capacity + overage + rate × elapsed in any interval',
    (capacity, perSecond, overage, steps) => {
      const log = replay(tokenBucket({ capacity, refillPerSecond: perSecond, overage }), steps);
      // Every interval [a.at, b.at] between two calls, by prefix sums over the calls in time order
      // (the same check as admittedBetween for every pair, without its pass over the log per pair,
      // which made this test cubic and slow enough to time out on a busy machine).
      const sorted = [...log].sort((x, y) => x.at - y.at);
      const prefix = [0];
      for (const e of sorted) prefix.push((prefix.at(-1) ?? 0) + (e.allowed ? e.cost : 0));
      const first = sorted.map((e, i) => (i > 0 && sorted[i - 1]?.at === e.at ? -1 : i));
      for (let i = 1; i < first.length; i++) if (first[i] === -1) first[i] = first[i - 1] ?? 0;
      const last = sorted.map((e, i) => (sorted[i + 1]?.at === e.at ? -1 : i));
      for (let i = last.length - 2; i >= 0; i--) if (last[i] === -1) last[i] = last[i + 1] ?? 0;
      let worst: { from: number; to: number; admitted: number; bound: number } | undefined;
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i; j < sorted.length; j++) {
          const from = (sorted[i] as Entry).at;
          const to = (sorted[j] as Entry).at;
          const admitted = (prefix[(last[j] ?? 0) + 1] ?? 0) - (prefix[first[i] ?? 0] ?? 0);
          const bound = capacity + overage + (perSecond / 1000) * (to - from);
          if (admitted > bound + 1e-9 && worst === undefined) worst = { from, to, admitted, bound };
        }
      }
      expect(worst).toBeUndefined();
    },
  );

  test.prop(
    [
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 20 }),
      // A power-of-two emission interval keeps both in exact arithmetic (1/6 per ms is not exact in
      // binary: a bucket then lands one ulp short of a boundary GCRA's integers meet exactly).
      fc.constantFrom(1, 2, 4, 8, 16),
      schedule(25, 300),
    ],
    {
      numRuns: 300,
    },
  )('decides exactly like GCRA with the same capacity and rate', (burst, limit, intervalMs, steps) => {
    const periodMs = limit * intervalMs;
    const bucket = replay(tokenBucket({ capacity: burst, refillPerSecond: (limit * 1000) / periodMs }), steps);
    const cell = replay(gcra({ limit, periodMs, burst }), steps);
    expect(cell.map((e) => e.allowed)).toEqual(bucket.map((e) => e.allowed));
  });
});

describe('fixed window', () => {
  test.prop(
    [fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 2_000 }), fc.nat({ max: 5 }), schedule(10, 300)],
    {
      numRuns: 300,
    },
  )('never admits more than limit + overage in one window', (limit, windowMs, overage, steps) => {
    const log = replay(fixedWindow({ limit, windowMs, overage }), steps);
    const perWindow = new Map<number, number>();
    for (const e of log) {
      if (!e.allowed) continue;
      const k = Math.floor(e.at / windowMs);
      perWindow.set(k, (perWindow.get(k) ?? 0) + e.cost);
    }
    for (const used of perWindow.values()) expect(used).toBeLessThanOrEqual(limit + overage);
  });
});

describe('sliding log', () => {
  test.prop([fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 2_000 }), schedule(10, 300)], { numRuns: 300 })(
    'never admits more than the limit in any window of its length (exact)',
    (limit, windowMs, steps) => {
      const log = replay(slidingLog({ limit, windowMs }), steps);
      for (const e of log) expect(admittedBetween(log, e.at - windowMs + 1, e.at)).toBeLessThanOrEqual(limit);
    },
  );
});

describe('sliding window (two-bucket approximation)', () => {
  test.prop([fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 2_000 }), schedule(10, 300)], { numRuns: 300 })(
    'never exceeds the limit in an aligned window, nor twice the limit in any sliding window',
    (limit, windowMs, steps) => {
      const log = replay(slidingWindow({ limit, windowMs }), steps);
      for (const e of log) {
        const start = Math.floor(e.at / windowMs) * windowMs;
        expect(admittedBetween(log, start, e.at)).toBeLessThanOrEqual(limit);
        expect(admittedBetween(log, e.at - windowMs + 1, e.at)).toBeLessThanOrEqual(2 * limit);
      }
    },
  );
});

/** Counterexamples show the factory call, not the closure's source. */
function labelled<P extends object>(make: (p: P) => Algorithm, name: string): (p: P) => Algorithm {
  return (p) => Object.assign(make(p), { [fc.toStringMethod]: () => `${name}(${JSON.stringify(p)})` });
}

const anyAlgorithm: fc.Arbitrary<Algorithm> = fc.oneof(
  fc
    .record({ c: fc.integer({ min: 1, max: 40 }), r: fc.integer({ min: 1, max: 200 }), o: fc.nat({ max: 3 }) })
    .map(({ c, r, o }) => tokenBucket({ capacity: c, refillPerSecond: r, overage: o })),
  fc
    .record({
      l: fc.integer({ min: 1, max: 40 }),
      p: fc.integer({ min: 1, max: 5_000 }),
      b: fc.integer({ min: 1, max: 40 }),
    })
    .map(({ l, p, b }) => labelled(gcra, 'gcra')({ limit: l, periodMs: p, burst: b })),
  fc
    .record({ l: fc.integer({ min: 1, max: 40 }), w: fc.integer({ min: 1, max: 5_000 }), o: fc.nat({ max: 3 }) })
    .map(({ l, w, o }) => labelled(fixedWindow, 'fixedWindow')({ limit: l, windowMs: w, overage: o })),
  fc
    .record({ l: fc.integer({ min: 1, max: 40 }), w: fc.integer({ min: 1, max: 5_000 }) })
    .map(({ l, w }) => labelled(slidingWindow, 'slidingWindow')({ limit: l, windowMs: w })),
  fc
    .record({ l: fc.integer({ min: 1, max: 40 }), w: fc.integer({ min: 1, max: 5_000 }) })
    .map(({ l, w }) => labelled(slidingLog, 'slidingLog')({ limit: l, windowMs: w })),
);

describe('every algorithm', () => {
  test.prop([anyAlgorithm, schedule(15, 500), fc.integer({ min: 1, max: 15 })], { numRuns: 500 })(
    'a denial’s retry-after is honest: waiting that long (with no other traffic) admits the same cost',
    (algorithm, steps, cost) => {
      let state: LimitState | undefined;
      let now = T0;
      for (const step of steps) {
        now += step.dt;
        const r = algorithm.evaluate(state, now, step.cost);
        if (r.allowed) state = r.next;
      }
      const denied = algorithm.evaluate(state, now, cost);
      if (denied.allowed) return;
      if (cost > algorithm.limit + algorithm.overage) {
        expect(denied.retryAfterMs).toBe(Infinity);
        return;
      }
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect(algorithm.evaluate(state, now + denied.retryAfterMs, cost).allowed).toBe(true);
    },
  );

  test.prop([anyAlgorithm, schedule(15, 500)], { numRuns: 500 })(
    'remaining never exceeds the limit, and allowed decisions report remaining = what is left',
    (algorithm, steps) => {
      let state: LimitState | undefined;
      let now = T0;
      for (const step of steps) {
        now += step.dt;
        const r = algorithm.evaluate(state, now, step.cost);
        expect(r.remaining).toBeGreaterThanOrEqual(0);
        expect(r.remaining).toBeLessThanOrEqual(algorithm.limit);
        expect(r.overage).toBeLessThanOrEqual(algorithm.overage);
        expect(r.resetAt).toBeGreaterThanOrEqual(now);
        if (r.allowed) {
          state = r.next;
          // Stored state always expires: the store sets a TTL from this.
          if (r.next !== undefined) expect(r.ttlMs).toBeGreaterThan(0);
        }
      }
    },
  );

  test.prop([anyAlgorithm, schedule(15, 500), fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 10 })], {
    numRuns: 500,
  })(
    'refunds never give back more than was charged, nor lift usage above a pristine state',
    (algorithm, steps, refunds) => {
      let state: LimitState | undefined;
      let now = T0;
      const charges: { at: number; cost: number }[] = [];
      for (const step of steps) {
        now += step.dt;
        const r = algorithm.evaluate(state, now, step.cost);
        if (r.allowed) {
          state = r.next;
          charges.push({ at: now, cost: step.cost });
        }
      }
      const pristine = algorithm.evaluate(undefined, now, 0).remaining;
      for (const [i, amount] of refunds.entries()) {
        const charge = charges[i % Math.max(1, charges.length)];
        if (charge === undefined) break;
        const before = algorithm.evaluate(state, now, 0);
        const take = Math.min(amount, charge.cost);
        const after = algorithm.refund(state, now, take, charge.at);
        expect(after.remaining).toBeLessThanOrEqual(pristine);
        // Remaining is floored, so a refund may move it by one more than the fraction it returned.
        expect(after.remaining + after.overage * -1).toBeLessThanOrEqual(before.remaining - before.overage + take + 1);
        state = after.next;
      }
    },
  );
});

/** Rates that are not exact in binary: thirds, sevenths, tenths, per-minute rates. */
const awkwardRate: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(1 / 3, 2 / 3, 0.1, 1 / 7, 100 / 60, 0.001 / 3),
  fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 97 })).map(([a, b]) => a / b),
);

const bucketLike: fc.Arbitrary<Algorithm> = fc.oneof(
  fc
    .record({ c: fc.integer({ min: 1, max: 20 }), r: awkwardRate, o: fc.nat({ max: 2 }) })
    .map(({ c, r, o }) => labelled(tokenBucket, 'tokenBucket')({ capacity: c, refillPerSecond: r, overage: o })),
  fc
    .record({ c: fc.double({ min: 0.5, max: 20, noNaN: true }), r: awkwardRate })
    .map(({ c, r }) => labelled(tokenBucket, 'tokenBucket')({ capacity: c, refillPerSecond: r })),
  fc
    .record({ l: fc.integer({ min: 1, max: 20 }), p: awkwardRate, b: fc.integer({ min: 1, max: 20 }) })
    .map(({ l, p, b }) => labelled(gcra, 'gcra')({ limit: l, periodMs: p * 10_000, burst: b })),
);

describe('resetAt and retryAfterMs are promises that hold', () => {
  test.prop([fc.oneof(bucketLike, anyAlgorithm), schedule(15, 5_000), fc.nat({ max: 100_000 })], { numRuns: 500 })(
    'at resetAt (and any time after), the limit is whole again: a request of limit + overage is allowed',
    (algorithm, steps, later) => {
      const hard = algorithm.limit + algorithm.overage;
      let state: LimitState | undefined;
      let now = T0 + 0.5; // not on a whole ms either
      for (const step of steps) {
        now += step.dt;
        const r = algorithm.evaluate(state, now, step.cost);
        // What the store holds afterwards: the new state only when it charged.
        if (r.allowed && step.cost > 0) state = r.next;
        expect(r.resetAt).toBeGreaterThanOrEqual(now);
        for (const at of [r.resetAt, r.resetAt + later]) {
          const whole = algorithm.evaluate(state, at, 0);
          expect(whole.remaining).toBe(Math.floor(algorithm.limit));
          expect(algorithm.evaluate(state, at, hard).allowed).toBe(true);
        }
        if (!r.allowed && Number.isFinite(r.retryAfterMs)) {
          expect(r.retryAfterMs).toBeGreaterThan(0);
          expect(algorithm.evaluate(state, now + r.retryAfterMs, step.cost).allowed).toBe(true);
        }
      }
    },
  );

  test.each([
    ['three charges', [697, 3_358, 4_364], [1, 1, 1]],
    ['charges, then a denial (resetAt of the state left as it was)', [2_761, 6_278, 6_324], [2, 1, 1]],
  ])('a bucket of 2 refilled at 1/3 per second is full at its resetAt: %s', (_, at, costs) => {
    const bucket = tokenBucket({ capacity: 2, refillPerSecond: 1 / 3 });
    let state: LimitState | undefined;
    let last = bucket.evaluate(state, T0, 0);
    for (const [i, dt] of at.entries()) {
      last = bucket.evaluate(state, T0 + dt, costs[i] as number);
      if (last.allowed) state = last.next;
    }
    expect(bucket.evaluate(state, last.resetAt, 0).remaining).toBe(2);
    expect(bucket.evaluate(state, last.resetAt, 2).allowed).toBe(true);
  });
});

describe('sliding log refunds', () => {
  test('give back exactly the refunded decision’s units when two charges share a millisecond', () => {
    const log = slidingLog({ limit: 10, windowMs: 60_000 });
    const small = log.evaluate(undefined, T0, 1);
    const large = log.evaluate(small.next, T0, 3);
    expect(large.remaining).toBe(6);
    // Refund the cost-3 decision, charged in the same millisecond as the cost-1 one.
    const refunded = log.refund(large.next, T0 + 10, 3, T0);
    expect(refunded.remaining).toBe(9);
    // And then the cost-1 one: back to the whole limit, nothing more.
    expect(log.refund(refunded.next, T0 + 20, 1, T0).remaining).toBe(10);
  });

  test.prop(
    [
      fc.integer({ min: 1, max: 30 }),
      fc.array(fc.record({ dt: fc.constantFrom(0, 0, 0, 1, 7), cost: fc.integer({ min: 1, max: 4 }) }), {
        minLength: 1,
        maxLength: 30,
      }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 10 }),
    ],
    { numRuns: 300 },
  )(
    'a refund of a charge still in the window frees exactly min(amount, what is left of that charge)',
    (limit, charges, refunds) => {
      const log = slidingLog({ limit, windowMs: 1_000_000 });
      let state: LimitState | undefined;
      let now = T0;
      const granted: { at: number; left: number }[] = [];
      for (const c of charges) {
        now += c.dt;
        const r = log.evaluate(state, now, c.cost);
        if (r.allowed) {
          state = r.next;
          granted.push({ at: now, left: c.cost });
        }
      }
      for (const [pick, amount] of refunds) {
        const charge = granted[pick % Math.max(1, granted.length)];
        if (charge === undefined) return;
        const before = log.evaluate(state, now, 0).remaining;
        const give = Math.min(amount, charge.left);
        const after = log.refund(state, now, give, charge.at);
        expect(after.remaining).toBe(before + give);
        charge.left -= give;
        state = after.next;
      }
    },
  );
});

describe('options whose arithmetic would round to 0 or overflow', () => {
  test.each([
    [
      'a refill that rounds to 0 per ms',
      'refillPerSecond',
      () => tokenBucket({ capacity: 1, refillPerSecond: 5e-324 }),
    ],
    ['a GCRA interval that overflows', 'periodMs', () => gcra({ limit: 0.1, periodMs: 1e308 })],
    ['a GCRA interval that underflows', 'periodMs', () => gcra({ limit: 1e300, periodMs: 1e-300 })],
  ])('%s is a typed error naming the option', (_, option, make) => {
    expect(make).toThrow(expect.objectContaining({ code: 'ERR_PORTCULLIS_INVALID_OPTION', option }));
  });
});
