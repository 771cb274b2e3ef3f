import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isInvalidOptionError } from './errors.js';
import {
  duration,
  finiteNumber,
  isFunctionOption,
  nonEmptyString,
  nonNegativeInteger,
  oneOf,
  positiveInteger,
  positiveNumber,
  ratio,
} from './validate.js';

function rejection(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('option validation', () => {
  test.prop([fc.anything()], { numRuns: 300 })(
    'accepts exactly the values in range and names the option otherwise',
    (value) => {
      const checks: [(v: unknown, o: string) => unknown, (v: unknown) => boolean][] = [
        [positiveInteger, (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1],
        [nonNegativeInteger, (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0],
        [positiveNumber, (v) => typeof v === 'number' && Number.isFinite(v) && v > 0],
        [duration, (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0],
        [ratio, (v) => typeof v === 'number' && v >= 0 && v <= 1],
      ];
      for (const [validate, valid] of checks) {
        const error = rejection(() => validate(value, 'opts.x'));
        if (valid(value)) {
          expect(error).toBeUndefined();
          expect(validate(value, 'opts.x')).toBe(value);
        } else {
          expect(isInvalidOptionError(error)).toBe(true);
          expect((error as { option: string }).option).toBe('opts.x');
          expect(Object.is((error as { value: unknown }).value, value)).toBe(true);
        }
      }
    },
  );

  test.prop([fc.oneof(fc.double(), fc.integer())])('bounds are inclusive unless marked exclusive', (n) => {
    const inside = Number.isFinite(n) && n >= -5 && n <= 5;
    expect(rejection(() => finiteNumber(n, 'n', { min: -5, max: 5 })) === undefined).toBe(inside);
    expect(rejection(() => finiteNumber(n, 'n', { min: -5, minExclusive: true })) === undefined).toBe(
      Number.isFinite(n) && n > -5,
    );
  });

  test('the message says what was expected', () => {
    expect(() => ratio(1.5, 'failureRate')).toThrow(
      'Invalid option "failureRate": expected a finite number >= 0 and <= 1, got 1.5',
    );
    expect(() => positiveInteger(Infinity, 'limit')).toThrow('expected an integer >= 1, got Infinity');
    expect(() => oneOf('sideways', ['open', 'closed'], 'failMode')).toThrow('expected one of "open", "closed"');
    expect(oneOf('open', ['open', 'closed'], 'failMode')).toBe('open');
    expect(() => isFunctionOption(undefined as unknown as () => void, 'key')).toThrow('expected a function');
    expect(() => nonEmptyString('', 'prefix')).toThrow('a non-empty string');
    expect(() => nonEmptyString('abc', 'prefix', 2)).toThrow('at most 2 characters');
    expect(nonEmptyString('abc', 'prefix')).toBe('abc');
  });
});
