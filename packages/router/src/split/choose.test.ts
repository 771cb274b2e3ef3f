import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseByScores, chooseCandidate, keyHashOf, type WeightedCandidate } from './choose.js';
import { seedOf } from './hash.js';

// Weights as users set them (shares, percentages, fractions) and the edges: zero, tiny, huge.
const weight = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.constantFrom(0, 1e-300, 5e-324, 1e-12, 1e12, 1e300, Number.MAX_VALUE),
);
const candidates = fc
  .array(weight, { minLength: 1, maxLength: 6 })
  .map((weights): WeightedCandidate[] =>
    weights.map((w, i) => ({ name: `v${String(i)}`, weight: w, seed: seedOf(`split\u0000v${String(i)}`) })),
  );

describe('chooseCandidate', () => {
  it('answers exactly what the full scores answer, for any weights and keys', () => {
    fc.assert(
      fc.property(candidates, fc.array(fc.string({ maxLength: 24 }), { minLength: 1, maxLength: 50 }), (cs, keys) => {
        for (const key of keys) expect(chooseCandidate(cs, key)).toBe(chooseByScores(cs, keyHashOf(key)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('answers exactly what the full scores answer on close calls (weights a hair apart, many keys)', () => {
    // Two candidates whose race times are often within a few percent: the bounds leave these to
    // the logarithms, and the answer must not change.
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 100, noNaN: true }),
        fc.double({ min: 0.999, max: 1.001, noNaN: true }),
        (w, f) => {
          const cs = [
            { name: 'a', weight: w, seed: seedOf('close\u0000a') },
            { name: 'b', weight: w * f, seed: seedOf('close\u0000b') },
          ];
          for (let i = 0; i < 500; i++) {
            const key = `user-${String(i)}`;
            expect(chooseCandidate(cs, key)).toBe(chooseByScores(cs, keyHashOf(key)));
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
