import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { names } from '../../test/fixtures/seeded-random.js';
import { createRendezvous } from './rendezvous.js';

const KEYS = Array.from({ length: 2_000 }, (_, i) => `user-${String(i)}`);

const weightedSet = fc
  .array(fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 10 }), fc.double({ min: 0.1, max: 5, noNaN: true })), {
    minLength: 2,
    maxLength: 24,
  })
  .filter((w) => w.filter((x) => x > 0).length >= 2);

function balancerFor(weights: readonly number[], prefix: string, without?: number) {
  const endpoints = names(weights.length, prefix).filter((_, i) => i !== without);
  return createRendezvous({ endpoints, weight: (e) => weights[Number(e.slice(prefix.length))]! });
}

describe('rendezvous hashing', () => {
  test.prop([weightedSet, fc.nat(), fc.string({ minLength: 1, maxLength: 6 })], { numRuns: 100 })(
    'moves only the removed endpoint’s keys when one is removed (and only to it when it is added back)',
    (weights, at, prefix) => {
      const removed = at % weights.length;
      const all = balancerFor(weights, prefix);
      const fewer = balancerFor(weights, prefix, removed);
      const removedName = `${prefix}${String(removed)}`;
      for (const key of KEYS) {
        const before = all.pick(key);
        const after = fewer.pick(key);
        if (before !== removedName) expect(after).toBe(before);
        else expect(after).not.toBe(removedName);
      }
    },
  );

  test.prop([weightedSet, fc.string({ minLength: 1, maxLength: 6 })], { numRuns: 50 })(
    'is sticky and does not depend on the order of the list',
    (weights, prefix) => {
      const forward = balancerFor(weights, prefix);
      const endpoints = [...forward.endpoints].reverse();
      const reversed = createRendezvous({ endpoints, weight: (e) => weights[Number(e.slice(prefix.length))]! });
      for (const key of KEYS.slice(0, 1_000)) {
        const first = forward.pick(key);
        expect(forward.pick(key)).toBe(first);
        expect(reversed.pick(key)).toBe(first);
      }
    },
  );

  // Each key lands on endpoint i with probability w_i / Σw if the hashes behave like random
  // functions: Binomial(n, p) counts, accepted within five standard deviations.
  test.prop([weightedSet, fc.string({ minLength: 1, maxLength: 6 })], { numRuns: 40 })(
    'gives each endpoint its share of the keys by weight (0-weight endpoints none)',
    (weights, prefix) => {
      const balancer = balancerFor(weights, prefix);
      const counts = weights.map(() => 0);
      const n = 20_000;
      for (let i = 0; i < n; i++) counts[Number(balancer.pick(`k${String(i)}`)!.slice(prefix.length))]!++;
      const total = weights.reduce((a, b) => a + b, 0);
      weights.forEach((w, i) => {
        const p = w / total;
        expect(Math.abs(counts[i]! - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)) + 1e-9);
      });
    },
  );

  test('picks at random (by weight) without a key', () => {
    const balancer = createRendezvous({ endpoints: ['a', 'b'], weight: (e) => (e === 'a' ? 0 : 1), random: () => 0.9 });
    expect(balancer.pick()).toBe('b');
  });
});
