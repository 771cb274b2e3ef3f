import { fc, test as prop } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { ManualClock } from '../src/index.js';

describe('ManualClock', () => {
  test('starts at 1_700_000_000_000 by default, or at the given time', () => {
    expect(new ManualClock().now()).toBe(1_700_000_000_000);
    expect(new ManualClock(0).now()).toBe(0);
  });

  test('does not move by itself', () => {
    const clock = new ManualClock(5);
    expect(clock.now()).toBe(5);
    expect(clock.now()).toBe(5);
  });

  test('advance(ms) moves forward and returns the new time', () => {
    const clock = new ManualClock(1_000);
    expect(clock.advance(250)).toBe(1_250);
    expect(clock.advance(0)).toBe(1_250);
    expect(clock.now()).toBe(1_250);
  });

  test('set(ms) jumps to any finite time, backwards included', () => {
    const clock = new ManualClock(1_000);
    expect(clock.set(10)).toBe(10);
    expect(clock.now()).toBe(10);
  });

  test.each([-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'advance(%s) throws a TypeError and leaves the time alone',
    (ms) => {
      const clock = new ManualClock(1_000);
      expect(() => clock.advance(ms)).toThrow(TypeError);
      expect(clock.now()).toBe(1_000);
    },
  );

  test('set and the constructor reject non-finite times with a TypeError', () => {
    const clock = new ManualClock(1_000);
    expect(() => clock.set(Number.NaN)).toThrow(TypeError);
    expect(clock.now()).toBe(1_000);
    expect(() => new ManualClock(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });

  prop.prop([fc.integer({ min: 0, max: 2 ** 40 }), fc.array(fc.integer({ min: 0, max: 1e9 }))])(
    'now() is the start plus the sum of all advances',
    (start, steps) => {
      const clock = new ManualClock(start);
      for (const step of steps) clock.advance(step);
      expect(clock.now()).toBe(start + steps.reduce((sum, step) => sum + step, 0));
    },
  );
});
