import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { fixedWindow } from './algorithms/fixed-window.js';
import { gcra } from './algorithms/gcra.js';
import { slidingLog } from './algorithms/sliding-log.js';
import { slidingWindow } from './algorithms/sliding-window.js';
import { tokenBucket } from './algorithms/token-bucket.js';
import { evaluationSlot, type Algorithm } from './algorithms/types.js';
import type { Decision } from './decision.js';
import { createDecisionBuffer, createRateLimiter, type DecisionBuffer, type Policy } from './limiter.js';
import { MemoryStore } from './stores/memory-store.js';

/** Builders of each algorithm from small numbers, so two limiters get equal (not shared) policies. */
const algorithmMaker: fc.Arbitrary<() => Algorithm> = fc.oneof(
  fc.record({ c: fc.integer({ min: 1, max: 6 }), r: fc.integer({ min: 1, max: 20 }) }).map(
    ({ c, r }) =>
      () =>
        tokenBucket({ capacity: c, refillPerSecond: r, overage: 1 }),
  ),
  fc.record({ l: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 100, max: 2_000 }) }).map(
    ({ l, w }) =>
      () =>
        fixedWindow({ limit: l, windowMs: w, overage: 1 }),
  ),
  fc.record({ l: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 100, max: 2_000 }) }).map(
    ({ l, w }) =>
      () =>
        slidingWindow({ limit: l, windowMs: w }),
  ),
  fc.record({ l: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 100, max: 2_000 }) }).map(
    ({ l, w }) =>
      () =>
        slidingLog({ limit: l, windowMs: w }),
  ),
  fc.record({ l: fc.integer({ min: 1, max: 6 }), p: fc.integer({ min: 100, max: 2_000 }) }).map(
    ({ l, p }) =>
      () =>
        gcra({ limit: l, periodMs: p }),
  ),
);

const step = fc.oneof(
  fc.record({
    op: fc.constant('limit' as const),
    dt: fc.nat({ max: 700 }),
    key: fc.constantFrom('a', 'b', 'c'),
    cost: fc.constantFrom(0, 1, 1, 1, 2, 3, 50),
    pool: fc.constantFrom(undefined, undefined, 'team'),
  }),
  fc.record({ op: fc.constant('refund' as const), amount: fc.constantFrom(undefined, 1, 2) }),
);

/** Everything a caller can read of a decision, as plain data (a buffer changes after the call). */
function snapshot(d: Decision): unknown {
  return {
    allowed: d.allowed,
    cost: d.cost,
    reportedBy: d.reportedBy,
    remaining: d.remaining,
    limit: d.limit,
    windowMs: d.windowMs,
    resetAt: d.resetAt,
    retryAfterMs: d.retryAfterMs,
    limitedBy: d.limitedBy,
    overLimit: d.overLimit,
    dimensions: d.dimensions.map((u) => ({ ...u })),
    decidedAt: d.decidedAt,
    source: d.source,
  };
}

function sync<T>(value: T | Promise<T>): T {
  if (value instanceof Promise) throw new Error('expected a synchronous answer');
  return value;
}

function pair(makers: readonly (() => Algorithm)[], poolMaker: (() => Algorithm) | undefined) {
  const build = () => {
    const clock = new ManualClock();
    const policy: Record<string, Algorithm> = {};
    makers.forEach((make, i) => (policy[`d${String(i)}`] = make()));
    const poolLimits: Policy | undefined = poolMaker === undefined ? undefined : { shared: poolMaker() };
    const limiter = createRateLimiter({
      store: new MemoryStore({ clock, maxKeys: 4 }),
      clock,
      limits: policy,
      ...(poolLimits === undefined ? {} : { poolLimits }),
    });
    return { clock, limiter };
  };
  return { fresh: build(), reused: build() };
}

describe('limitInto (a reused decision buffer)', () => {
  test.prop(
    [
      fc.array(algorithmMaker, { minLength: 1, maxLength: 3 }),
      fc.option(algorithmMaker, { nil: undefined }),
      fc.array(step, { minLength: 1, maxLength: 80 }),
    ],
    { numRuns: 400 },
  )(
    'decides exactly as limit() on the same schedule (fields, dimensions, refunds), and never changes what limit() returned',
    (makers, poolMaker, steps) => {
      const { fresh, reused } = pair(makers, poolMaker);
      const buffer = createDecisionBuffer();
      // Decisions from limit() on the buffer's own limiter, with what they said when made.
      const kept: [Decision, unknown][] = [];
      let last: Decision | undefined;
      for (const s of steps) {
        if (s.op === 'refund') {
          if (last === undefined) continue;
          expect(sync(reused.limiter.refund(buffer, s.amount))).toBe(sync(fresh.limiter.refund(last, s.amount)));
          continue;
        }
        fresh.clock.advance(s.dt);
        reused.clock.advance(s.dt);
        // With a pool, only when the policy has pool limits (otherwise the pool would be refused alike).
        const options = { cost: s.cost, ...(s.pool !== undefined && poolMaker !== undefined ? { pool: s.pool } : {}) };
        last = sync(fresh.limiter.limit(s.key, options));
        const into = sync(reused.limiter.limitInto(buffer, s.key, options));
        expect(into).toBe(buffer);
        expect(snapshot(buffer)).toEqual(snapshot(last));
        // An owned decision from the same limiter, interleaved: later buffer writes must not touch it.
        const own = sync(reused.limiter.peek(s.key));
        kept.push([own, snapshot(own)]);
      }
      for (const [decision, then] of kept) expect(snapshot(decision)).toEqual(then);
    },
  );

  test('a decision listener gets its own decision, not the buffer', () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter({
      store: new MemoryStore({ clock }),
      clock,
      limits: { perSecond: fixedWindow({ limit: 2, windowMs: 1_000 }) },
    });
    const heard: Decision[] = [];
    limiter.events.on('decision', ({ decision }) => heard.push(decision));
    const buffer = createDecisionBuffer();
    sync(limiter.limitInto(buffer, 'a'));
    const first = snapshot(heard[0] as Decision);
    sync(limiter.limitInto(buffer, 'a'));
    sync(limiter.limitInto(buffer, 'a'));
    expect(heard).toHaveLength(3);
    expect(heard).not.toContain(buffer);
    expect(snapshot(heard[0] as Decision)).toEqual(first);
    expect(buffer.allowed).toBe(false);
    expect((heard[2] as Decision).allowed).toBe(false);
  });

  test('refuses anything but a buffer from createDecisionBuffer()', () => {
    const limiter = createRateLimiter({ limits: { perSecond: fixedWindow({ limit: 2, windowMs: 1_000 }) } });
    const owned = sync(limiter.limit('a'));
    for (const into of [owned, { ...owned }, undefined, null]) {
      let thrown: unknown;
      try {
        void limiter.limitInto(into as unknown as DecisionBuffer, 'a');
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown)).toBe(true);
    }
  });
});

describe('evaluateInto (an evaluation written into a reused slot)', () => {
  test.prop(
    [
      algorithmMaker,
      fc.array(fc.record({ dt: fc.nat({ max: 700 }), cost: fc.constantFrom(0, 1, 1, 2, 3, 50) }), {
        minLength: 1,
        maxLength: 60,
      }),
    ],
    { numRuns: 400 },
  )('equals evaluate() whatever the slot held before, and leaves the state it was given alone', (make, steps) => {
    const algorithm = make();
    if (algorithm.evaluateInto === undefined) throw new Error('every built-in algorithm writes in place');
    // One slot for the whole schedule, also used for a peek of another key in between: stale content.
    const slot = evaluationSlot();
    let state: number[] | undefined;
    let other: number[] | undefined;
    let now = 1_700_000_000_000;
    for (const { dt, cost } of steps) {
      now += dt;
      const given = state === undefined ? undefined : [...state];
      const expected = algorithm.evaluate(state, now, cost);
      algorithm.evaluateInto(state, now, cost, slot);
      expect(state).toEqual(given);
      expect({
        allowed: slot.allowed,
        remaining: slot.remaining,
        overage: slot.overage,
        resetAt: slot.resetAt,
        retryAfterMs: slot.retryAfterMs,
        ttlMs: slot.ttlMs,
        next: slot.nextLength === 0 ? undefined : slot.next.slice(0, slot.nextLength),
      }).toEqual(expected);
      if (expected.allowed && cost > 0) state = expected.next === undefined ? undefined : [...expected.next];
      // Another key's charge through the same slot: the next evaluation must not read what it left.
      algorithm.evaluateInto(other, now, 1, slot);
      if (slot.allowed) other = slot.nextLength === 0 ? undefined : slot.next.slice(0, slot.nextLength);
    }
  });
});
