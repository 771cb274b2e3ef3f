import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { names } from '../../test/fixtures/seeded-random.js';
import { createSmoothWeightedRoundRobin } from './smooth-weighted-round-robin.js';

/** nginx's own algorithm (ngx_http_upstream_get_peer), O(n) per pick: the oracle. */
function nginx(weights: readonly number[]): () => number {
  const current = weights.map(() => 0);
  const total = weights.reduce((a, b) => a + b, 0);
  return () => {
    let best = -1;
    for (let i = 0; i < weights.length; i++) {
      if (weights[i] === 0) continue;
      current[i]! += weights[i]!;
      if (best === -1 || current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    return best;
  };
}

function balancerFor(weights: readonly number[]) {
  const endpoints = names(weights.length);
  return createSmoothWeightedRoundRobin({ endpoints, weight: (e) => weights[endpoints.indexOf(e)]! });
}

const integerWeights = fc
  .array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 12 })
  .filter((w) => w.some((x) => x > 0));

describe('smooth weighted round robin', () => {
  test('weights {5, 1, 1} give a a b a c a a, then again (nginx’s example)', () => {
    const weights: Record<string, number> = { a: 5, b: 1, c: 1 };
    const balancer = createSmoothWeightedRoundRobin({ endpoints: ['a', 'b', 'c'], weight: (e) => weights[e]! });
    const picks = Array.from({ length: 14 }, () => balancer.pick());
    expect(picks.join(' ')).toBe('a a b a c a a a a b a c a a');
  });

  test.prop([integerWeights, fc.nat(1_000)], { numRuns: 300 })(
    'picks each endpoint exactly w_i times in every run of Σw consecutive picks (and 0-weight ones never)',
    (weights, offset) => {
      const balancer = balancerFor(weights);
      const total = weights.reduce((a, b) => a + b, 0);
      for (let i = 0; i < offset; i++) balancer.pick();
      for (let window = 0; window < 2; window++) {
        const counts = weights.map(() => 0);
        for (let i = 0; i < total; i++) counts[Number(balancer.pick()!.slice(1))]!++;
        expect(counts).toEqual(weights);
      }
    },
  );

  test.prop([integerWeights], { numRuns: 300 })('is nginx’s sequence, pick for pick', (weights) => {
    const balancer = balancerFor(weights);
    const oracle = nginx(weights);
    const total = weights.reduce((a, b) => a + b, 0);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < 3 * total + 5; i++) {
      ours.push(Number(balancer.pick()!.slice(1)));
      theirs.push(oracle());
    }
    expect(ours).toEqual(theirs);
  });

  // Fractional weights (slow start) and very large sums are scaled to integers q_i summing to about
  // B = 65,536 (for up to 64 endpoints): each share q_i / Σq is then off by at most
  // (1 + k) / (B - k) < 0.0006 for k <= 32 endpoints. Counted over 2^20 picks, the part of a period
  // left over adds at most k / 2^20 (nginx's sequence never strays more than k picks from the
  // exact share), so 0.001 holds with room.
  test.prop(
    [
      fc.array(fc.oneof(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.integer({ min: 1, max: 1_000_000 })), {
        minLength: 2,
        maxLength: 32,
      }),
    ],
    { numRuns: 40 },
  )('follows fractional or huge weights within 0.1 % of each share', (weights) => {
    const balancer = balancerFor(weights);
    const total = weights.reduce((a, b) => a + b, 0);
    const counts = weights.map(() => 0);
    const picks = 1 << 20;
    for (let i = 0; i < picks; i++) counts[Number(balancer.pick()!.slice(1))]!++;
    weights.forEach((w, i) => {
      expect(Math.abs(counts[i]! / picks - w / total)).toBeLessThan(0.001);
    });
  });

  test('an update keeps the place in the period (scaled), so frequent updates do not favour the first endpoints', () => {
    const weights: Record<string, number> = { a: 5, b: 1, c: 1 };
    const balancer = createSmoothWeightedRoundRobin({ endpoints: ['a', 'b', 'c'], weight: (e) => weights[e]! });
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    // Update after every pick: restarting at the period's start would give only 'a'.
    for (let i = 0; i < 700; i++) {
      counts[balancer.pick()!]!++;
      balancer.update(['a', 'b', 'c']);
    }
    expect(counts).toEqual({ a: 500, b: 100, c: 100 });
  });
});
