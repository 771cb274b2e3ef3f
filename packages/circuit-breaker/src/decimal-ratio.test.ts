import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { DecimalRatio } from './decimal-ratio.js';

/** A decimal of up to 15 significant digits (so it reads back as written) and its exact value. */
const decimalArb = (maxPlaces: number) =>
  fc
    .record({ digits: fc.bigInt({ min: 0n, max: 10n ** 15n }), places: fc.integer({ min: 0, max: maxPlaces }) })
    .map(({ digits, places }) => {
      const text = `${digits.toString()}e-${String(places)}`;
      return { value: Number(text), digits, scale: 10n ** BigInt(places) };
    })
    .filter(({ value, digits }) => value > 0 || digits === 0n);

describe('DecimalRatio', () => {
  test.prop(
    [decimalArb(320), fc.bigInt({ min: -(2n ** 45n), max: 2n ** 45n }), fc.bigInt({ min: 0n, max: 2n ** 45n })],
    {
      numRuns: 2_000,
    },
  )('compares count with value × of exactly, in doubles or in bigint', ({ value, digits, scale }, count, of) => {
    const exact = count * scale - digits * of;
    expect(Math.sign(new DecimalRatio(value).compare(Number(count), Number(of)))).toBe(
      exact > 0n ? 1 : exact < 0n ? -1 : 0,
    );
  });

  test.prop([decimalArb(12), fc.integer({ min: 0, max: 1_000_000 })], {
    numRuns: 2_000,
  })(
    'is 0 exactly at the boundary (the count that makes count / of equal to the decimal)',
    ({ value, digits, scale }, multiple) => {
      if (digits === 0n) return;
      // of = scale / gcd × multiple makes value × of a whole number.
      let [a, b] = [digits, scale];
      while (b !== 0n) [a, b] = [b, a % b];
      const of = (scale / a) * BigInt(multiple);
      const count = (digits * of) / scale;
      // Counts are whole numbers a double holds exactly.
      fc.pre(of <= 2n ** 53n && count <= 2n ** 53n);
      expect(new DecimalRatio(value).compare(Number(count), Number(of))).toBe(0);
    },
  );

  test('reads large and tiny values too', () => {
    expect(new DecimalRatio(1e21).compare(1e21, 1)).toBe(0);
    expect(new DecimalRatio(1e-300).compare(1, 1e10)).toBeGreaterThan(0);
    expect(new DecimalRatio(0).compare(0, 5)).toBe(0);
  });
});
