import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect, test as example } from 'vitest';
import { createSlowStart } from './slow-start.js';
import { createSmoothWeightedRoundRobin } from './smooth-weighted-round-robin.js';

interface Upstream {
  readonly id: string;
  readonly weight: number;
  readySince?: number | undefined;
}

describe('slow start', () => {
  test.prop(
    [
      fc.integer({ min: 1, max: 600_000 }),
      fc.double({ min: 0.1, max: 10, noNaN: true }),
      fc.double({ min: 0.01, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 100 }),
      fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 50 }),
    ],
    { numRuns: 500 },
  )(
    'ramps the weight monotonically from minWeightRatio × w up to exactly w at the end of the window, and stays there',
    (windowMs, aggression, minWeightRatio, full, steps) => {
      const clock = new ManualClock(1_000_000);
      const upstream: Upstream = { id: 'a', weight: full, readySince: clock.now() };
      const ramp = createSlowStart<Upstream>({
        windowMs,
        aggression,
        minWeightRatio,
        clock,
        readySince: (u) => u.readySince,
        weight: (u) => u.weight,
      });
      let previous = ramp.weight(upstream);
      expect(previous).toBeCloseTo(full * minWeightRatio, 9);
      for (const step of steps) {
        clock.advance(step);
        const weight = ramp.weight(upstream);
        expect(weight).toBeGreaterThanOrEqual(previous);
        expect(weight).toBeLessThanOrEqual(full);
        previous = weight;
      }
      clock.advance(Math.max(0, 1_000_000 + windowMs - clock.now()));
      expect(ramp.weight(upstream)).toBe(full);
      expect(ramp.factor(upstream)).toBe(1);
      expect(ramp.rampsUntil([upstream])).toBeUndefined();
      clock.advance(123_456);
      expect(ramp.weight(upstream)).toBe(full);
    },
  );

  example('linear by default: half the window gives half the weight; rampsUntil tells the last ramp’s end', () => {
    const clock = new ManualClock(0);
    const fresh: Upstream = { id: 'b', weight: 10, readySince: 0 };
    const older: Upstream = { id: 'a', weight: 10 };
    const ramp = createSlowStart<Upstream>({
      windowMs: 30_000,
      clock,
      readySince: (u) => u.readySince,
      weight: (u) => u.weight,
    });
    expect(ramp.weight(fresh)).toBe(1); // 10 % floor
    expect(ramp.weight(older)).toBe(10);
    expect(ramp.rampsUntil([older, fresh])).toBe(30_000);
    clock.advance(15_000);
    expect(ramp.weight(fresh)).toBe(5);
    clock.advance(15_000);
    expect(ramp.weight(fresh)).toBe(10);
  });

  example('drives a weighted balancer: a recovered endpoint’s share grows as the pool updates it', () => {
    const clock = new ManualClock(0);
    const upstreams: Upstream[] = [
      { id: 'a', weight: 10 },
      { id: 'b', weight: 10, readySince: 0 },
    ];
    const ramp = createSlowStart<Upstream>({
      windowMs: 10_000,
      clock,
      readySince: (u) => u.readySince,
      weight: (u) => u.weight,
    });
    const balancer = createSmoothWeightedRoundRobin({ endpoints: upstreams, id: (u) => u.id, weight: ramp.weight });
    const shares: number[] = [];
    for (let second = 0; second <= 10; second++) {
      let b = 0;
      for (let i = 0; i < 1_100; i++) if (balancer.pick()?.id === 'b') b++;
      shares.push(b / 1_100);
      clock.advance(1_000);
      balancer.update(upstreams);
    }
    for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThanOrEqual(shares[i - 1]!);
    expect(shares[0]).toBeCloseTo(1 / 11, 2);
    expect(shares.at(-1)).toBeCloseTo(0.5, 2);
  });

  example('validates its options', () => {
    const readySince = (): undefined => undefined;
    const bad = [
      { windowMs: 0, readySince },
      { windowMs: Number.NaN, readySince },
      { windowMs: 1_000, readySince: 'x' },
      { windowMs: 1_000, readySince, aggression: 0 },
      { windowMs: 1_000, readySince, minWeightRatio: 0 },
      { windowMs: 1_000, readySince, minWeightRatio: 1.5 },
      { windowMs: 1_000, readySince, weight: 3 },
      { windowMs: 1_000, readySince, clock: {} },
    ];
    for (const options of bad) {
      expect(() => createSlowStart(options as never)).toThrow(expect.toSatisfy(isInvalidOptionError));
    }
  });
});
