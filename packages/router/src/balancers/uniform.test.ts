import { fc, test } from '@fast-check/vitest';
import { describe, expect, test as example } from 'vitest';
import { uniform } from './uniform.js';

describe('uniform', () => {
  // 100,000 draws in 10 bins: each bin's count is Binomial(n, 0.1); five standard deviations.
  example('draws evenly in [0, 1) from its own generator by default', () => {
    const n = 100_000;
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const u = uniform(undefined);
      expect(u >= 0 && u < 1).toBe(true);
      bins[Math.floor(u * 10)]!++;
    }
    for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThanOrEqual(5 * Math.sqrt(n * 0.1 * 0.9));
  });

  test.prop([fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })])('uses the random source given', (u) => {
    expect(uniform(() => u)).toBe(u);
  });
});
