import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect, test as example } from 'vitest';
import { names } from '../../test/fixtures/seeded-random.js';
import { endpointSet } from './endpoint-set.js';
import { createMaglev } from './maglev.js';
import { maglevTable } from './maglev-table.js';
import { isPrime, nextPrime } from './prime.js';

function slotCounts(weights: readonly number[], size: number, prefix = 'e'): number[] {
  const endpoints = names(weights.length, prefix);
  const set = endpointSet(endpoints, { id: undefined, weight: (e) => weights[Number(e.slice(prefix.length))]! });
  const counts = weights.map(() => 0);
  for (const i of maglevTable(set, size)) counts[i]!++;
  return counts;
}

/** A prime table size of at least 100 slots per endpoint: the smallest such, or up to 4× more. */
const tableFor = (n: number) => fc.nat(3 * 100 * n).map((extra) => nextPrime(100 * n + extra));

describe('Maglev', () => {
  test.prop(
    [
      fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), tableFor(n))),
      fc.string({ minLength: 1, maxLength: 5 }),
    ],
    { numRuns: 200 },
  )('fills a table of M >= 100 n slots with equal weights to within 1 % of each share', ([n, size], prefix) => {
    const counts = slotCounts(new Array<number>(n).fill(1), size, prefix);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(size);
    // Imbalance = most slots / average - 1; slot counts differ by at most one.
    expect(Math.max(...counts) / (size / n) - 1).toBeLessThanOrEqual(0.01);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  // Envoy's weighting: endpoint i (x_i = w_i / max w) claims in rounds 0, 1/x_i, 2/x_i..., so after R
  // full rounds it holds ceil(R·x_i), plus at most one in the round cut short. Since Σ counts = M,
  // count_i = M·w_i/W + d_i with -k·w_i/W - 1 < d_i < 1 + x_i (k endpoints; W = Σ w).
  // For two endpoints of weights 1:2 (visited in id order) c_b - 2·c_a is 0, -1 or -2, so c_b / c_a
  // is within 2 ± 2 / c_a; tested with room at 3.5 / c_a: ± 5 % at M = 211 (the smallest table for
  // two), ± 0.02 % at the default 65,537.
  test.prop([fc.nat(2_000).map((x) => nextPrime(200 + x * 31))], { numRuns: 100 })(
    'gives weights 1:2 slot counts in the ratio 1:2 (within 3.5 / c_a)',
    (size) => {
      const [a, b] = slotCounts([1, 2], size);
      expect(Math.abs(b! / a! - 2)).toBeLessThanOrEqual(3.5 / a!);
    },
  );

  example('1:2 at the default size is within 0.02 %', () => {
    const [a, b] = slotCounts([1, 2], 65_537);
    expect(Math.abs(b! / a! - 2)).toBeLessThanOrEqual(0.0002 * 2);
  });

  test.prop(
    [
      fc
        .array(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.double({ min: 0.05, max: 3, noNaN: true })), {
          minLength: 1,
          maxLength: 40,
        })
        .chain((w) => fc.tuple(fc.constant(w), tableFor(w.length))),
    ],
    { numRuns: 200 },
  )('honours any weights: count_i within (-k·w_i/W - 1, 1 + w_i/max w) of M·w_i/W', ([weights, size]) => {
    const counts = slotCounts(weights, size);
    const total = weights.reduce((x, y) => x + y, 0);
    const max = Math.max(...weights);
    weights.forEach((w, i) => {
      const d = counts[i]! - (size * w) / total;
      expect(d).toBeLessThan(1 + w / max + 1e-6);
      expect(d).toBeGreaterThan(-(weights.length * w) / total - 1 - 1e-6);
    });
  });

  // Measured over 4,000 random cases (bench/src/maglev-disruption.ts: n from 2 to 128, random names,
  // a random endpoint removed): of the others' keys, a median of 1.9 % moves with the smallest tables
  // (M ≈ 100 n), p99.9 4.3 %, max 7.1 % (n = 14); 0.5 % with 65,537 slots, max 1.1 %. The tail of
  // the small tables is real (a table's property, not sampling noise): a 6 % bound failed once at
  // 6.01 % (n = 18, seed 449702871). The bounds tested: 10 % of all keys at M >= 100 n, 1.5 % at
  // M >= 500 n (the default 65,537 up to 131 endpoints). A hash that is not consistent moves most.
  test.prop([fc.integer({ min: 2, max: 128 }), fc.nat(), fc.string({ minLength: 1, maxLength: 5 }), fc.boolean()], {
    numRuns: 40,
  })(
    'removing one of n endpoints moves its keys and only a few others (1/n + 10 %, or 1/n + 1.5 % with M >= 500 n)',
    (n, at, prefix, large) => {
      const size = large ? 65_537 : nextPrime(100 * n);
      const endpoints = names(n, prefix);
      const removed = endpoints[at % n]!;
      const all = createMaglev({ endpoints, tableSize: size });
      const fewer = createMaglev({ endpoints: endpoints.filter((e) => e !== removed), tableSize: size });
      expect(fewer.tableSize).toBe(size);
      const keys = 10_000;
      // The removed endpoint's own keys must move; of the others, only a few may. Counting the others
      // alone keeps the sampled share of the removed endpoint (about 1/n ± 0.5 % over 10,000 keys) out
      // of the bound: with n = 2 that noise alone once exceeded 1/n + 1.5 % (seed -987270107).
      let movedOthers = 0;
      for (let i = 0; i < keys; i++) {
        const key = `user-${String(i)}`;
        const before = all.pick(key);
        const after = fewer.pick(key);
        if (before === removed) expect(after).not.toBe(removed);
        else if (before !== after) movedOthers++;
      }
      expect(movedOthers / keys).toBeLessThanOrEqual(large ? 0.015 : 0.1);
    },
  );

  test.prop([fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 12 })], { numRuns: 50 })(
    'builds the same table whatever the order of the list',
    (weights) => {
      const endpoints = names(weights.length);
      const weight = (e: string): number => weights[Number(e.slice(1))]!;
      const a = createMaglev({ endpoints, weight, tableSize: 1_009 });
      const b = createMaglev({ endpoints: [...endpoints].reverse(), weight, tableSize: 1_009 });
      for (let i = 0; i < 2_000; i++) expect(b.pick(`k${String(i)}`)).toBe(a.pick(`k${String(i)}`));
    },
  );

  example('grows the table to keep 100 slots per endpoint (a prime), and refuses sizes that are not prime', () => {
    const balancer = createMaglev({ endpoints: names(3), tableSize: 307 });
    expect(balancer.tableSize).toBe(307);
    balancer.update(names(4));
    expect(balancer.tableSize).toBe(nextPrime(614));
    expect(isPrime(balancer.tableSize)).toBe(true);
    expect(createMaglev({ endpoints: names(700) }).tableSize).toBe(nextPrime(131_074));
    for (const tableSize of [100, 65_536, 1.5, Number.NaN, 2 ** 25]) {
      expect(() => createMaglev({ tableSize })).toThrow(expect.toSatisfy(isInvalidOptionError));
    }
  });
});
