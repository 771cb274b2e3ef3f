import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { seededRandom } from '../../test/fixtures/seeded-random.js';
import { aliasDraw, aliasTable } from './alias-table.js';
import { drawTwo } from './two-choices.js';

const weights = fc.array(fc.oneof(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.integer({ min: 1, max: 100 })), {
  minLength: 1,
  maxLength: 64,
});

describe('alias table', () => {
  // Exact, not statistical: column c answers itself with probability p[c] and its alias otherwise,
  // so outcome i comes out with probability (p[i] + Σ_{alias[c] = i} (1 - p[c])) / size.
  test.prop([weights], { numRuns: 500 })('gives every outcome exactly its share of the weight', (w) => {
    const table = aliasTable(w);
    const total = w.reduce((a, b) => a + b, 0);
    const probability = w.map(() => 0);
    for (let c = 0; c < table.size; c++) {
      probability[c]! += table.probability[c]! / table.size;
      probability[table.alias[c]!]! += (1 - table.probability[c]!) / table.size;
    }
    w.forEach((x, i) => {
      expect(probability[i]).toBeCloseTo(x / total, 9);
    });
  });

  test.prop([weights, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })], { numRuns: 500 })(
    'draws an outcome in range for any u in [0, 1)',
    (w, u) => {
      const drawn = aliasDraw(aliasTable(w), u);
      expect(Number.isInteger(drawn) && drawn >= 0 && drawn < w.length).toBe(true);
    },
  );
});

describe('two choices', () => {
  test.prop([weights.filter((w) => w.length >= 2), fc.integer()], { numRuns: 300 })(
    'draws two distinct candidates, even when one holds nearly all the weight',
    (w, seed) => {
      const skewed = [1e9, ...w];
      const random = seededRandom(seed);
      const out = new Int32Array(2);
      for (const table of [aliasTable(w), aliasTable(skewed)]) {
        for (let i = 0; i < 200; i++) {
          drawTwo(table, random, out);
          expect(out[0]).not.toBe(out[1]);
          expect(out[1]! >= 0 && out[1]! < table.size).toBe(true);
        }
      }
    },
  );

  // The first candidate is an alias draw: Binomial(n, w_i / Σw). Five standard deviations.
  test.prop([fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 8 }), fc.integer()], { numRuns: 30 })(
    'draws the first candidate in proportion to weight',
    (w, seed) => {
      const table = aliasTable(w);
      const random = seededRandom(seed);
      const out = new Int32Array(2);
      const n = 20_000;
      const counts = w.map(() => 0);
      for (let i = 0; i < n; i++) {
        drawTwo(table, random, out);
        counts[out[0]!]!++;
      }
      const total = w.reduce((a, b) => a + b, 0);
      w.forEach((x, i) => {
        const p = x / total;
        expect(Math.abs(counts[i]! - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)));
      });
    },
  );
});
