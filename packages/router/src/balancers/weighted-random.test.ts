import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { names, seededRandom } from '../../test/fixtures/seeded-random.js';
import { createWeightedRandom } from './weighted-random.js';

describe('weighted random', () => {
  // Independent draws: Binomial(n, w_i / Σw) counts, accepted within five standard deviations.
  test.prop(
    [
      fc
        .array(fc.oneof(fc.integer({ min: 0, max: 10 }), fc.double({ min: 0.1, max: 5, noNaN: true })), {
          minLength: 1,
          maxLength: 16,
        })
        .filter((w) => w.some((x) => x > 0)),
      fc.integer(),
    ],
    { numRuns: 50 },
  )('picks each endpoint in proportion to its weight (0-weight ones never)', (weights, seed) => {
    const endpoints = names(weights.length);
    const balancer = createWeightedRandom({
      endpoints,
      weight: (e) => weights[Number(e.slice(1))]!,
      random: seededRandom(seed),
    });
    const n = 20_000;
    const counts = weights.map(() => 0);
    for (let i = 0; i < n; i++) counts[Number(balancer.pick()!.slice(1))]!++;
    const total = weights.reduce((a, b) => a + b, 0);
    weights.forEach((w, i) => {
      const p = w / total;
      expect(Math.abs(counts[i]! - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)) + 1e-9);
    });
  });
});
