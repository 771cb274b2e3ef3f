import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { names, seededRandom } from '../../test/fixtures/seeded-random.js';
import { aliasTable } from './alias-table.js';
import { createLeastRequest } from './least-request.js';
import { drawTwo } from './two-choices.js';

/** A run: endpoint weights, then a sequence of picks and releases. */
const run = fc.record({
  weights: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 10 }),
  ops: fc.array(fc.oneof(fc.constant('pick' as const), fc.nat(1_000)), { minLength: 1, maxLength: 300 }),
  seed: fc.integer(),
});

describe('least request (power of two choices)', () => {
  // The balancer and a replica of its sampler read the same random sequence, so the test knows
  // the two candidates of every pick.
  test.prop([run], { numRuns: 300 })(
    'picks one of two distinct candidates, never the busier one (in flight per unit of weight)',
    ({ weights, ops, seed }) => {
      const endpoints = names(weights.length);
      const weightOf = (e: string): number => weights[Number(e.slice(1))]!;
      const balancer = createLeastRequest({ endpoints, weight: weightOf, random: seededRandom(seed) });
      const replay = seededRandom(seed);
      const table = aliasTable(weights);
      const pair = new Int32Array(2);
      const inFlight = weights.map(() => 0);
      const picked: string[] = [];
      for (const op of ops) {
        if (op === 'pick') {
          drawTwo(table, replay, pair);
          const [a, b] = [pair[0]!, pair[1]!];
          expect(a).not.toBe(b);
          const chosen = Number(balancer.pick()!.slice(1));
          expect([a, b]).toContain(chosen);
          const other = chosen === a ? b : a;
          expect(inFlight[chosen]! / weights[chosen]!).toBeLessThanOrEqual(inFlight[other]! / weights[other]!);
          inFlight[chosen]!++;
          picked.push(endpoints[chosen]!);
        } else if (picked.length > 0) {
          const [released] = picked.splice(op % picked.length, 1);
          balancer.release(released!);
          inFlight[Number(released!.slice(1))]!--;
        }
        expect(endpoints.map((e) => balancer.inFlight(e))).toEqual(inFlight);
        expect(balancer.totalInFlight).toBe(picked.length);
      }
    },
  );

  test.prop([fc.array(fc.nat(20), { minLength: 2, maxLength: 2 }), fc.integer()], { numRuns: 200 })(
    'with two endpoints, always takes the less loaded one',
    ([busyA, busyB], seed) => {
      // Load each alone: a set of one gets every pick, and counts follow ids across updates.
      const balancer = createLeastRequest({ endpoints: ['a'], random: seededRandom(seed) });
      for (let i = 0; i < busyA!; i++) balancer.pick();
      balancer.update(['b']);
      for (let i = 0; i < busyB!; i++) balancer.pick();
      balancer.update(['a', 'b']);
      expect([balancer.inFlight('a'), balancer.inFlight('b')]).toEqual([busyA, busyB]);
      const a = balancer.inFlight('a');
      const b = balancer.inFlight('b');
      const chosen = balancer.pick();
      if (a < b) expect(chosen).toBe('a');
      if (b < a) expect(chosen).toBe('b');
    },
  );

  // Idle endpoints tie at 0 in flight, and a tie goes to the first candidate, drawn by weight:
  // with every request released before the next, shares follow the weights (five sigmas).
  test.prop([fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 6 }), fc.integer()], { numRuns: 30 })(
    'shares idle traffic in proportion to weight',
    (weights, seed) => {
      const endpoints = names(weights.length);
      const balancer = createLeastRequest({
        endpoints,
        weight: (e) => weights[Number(e.slice(1))]!,
        random: seededRandom(seed),
      });
      const n = 20_000;
      const counts = weights.map(() => 0);
      for (let i = 0; i < n; i++) {
        const e = balancer.pick()!;
        counts[Number(e.slice(1))]!++;
        balancer.release(e);
      }
      const total = weights.reduce((a, b) => a + b, 0);
      weights.forEach((w, i) => {
        const p = w / total;
        expect(Math.abs(counts[i]! - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)));
      });
    },
  );

  test('keeps counting requests in flight across updates; releases of a removed endpoint touch no other', () => {
    const balancer = createLeastRequest({ endpoints: ['a', 'b'], random: seededRandom(1) });
    const first = balancer.pick()!;
    const second = balancer.pick()!;
    expect([first, second].sort()).toEqual(['a', 'b']);
    balancer.update(['a', 'b', 'c']);
    expect(balancer.inFlight('a')).toBe(1);
    expect(balancer.inFlight('b')).toBe(1);
    expect(balancer.totalInFlight).toBe(2);
    balancer.update(['b', 'c']); // 'a' leaves with one request in flight
    expect(balancer.totalInFlight).toBe(1);
    balancer.release('a');
    balancer.release('a'); // an extra release is ignored
    expect(balancer.inFlight('a')).toBe(0);
    expect(balancer.inFlight('b')).toBe(1);
    expect(balancer.totalInFlight).toBe(1);
    balancer.update(['a', 'b', 'c']); // 'a' is back, fresh
    expect(balancer.inFlight('a')).toBe(0);
  });

  test('a removed endpoint that comes back before its requests end keeps their count', () => {
    const balancer = createLeastRequest({ endpoints: ['a'], random: seededRandom(2) });
    balancer.pick();
    balancer.pick();
    balancer.update(['b']);
    balancer.release('a');
    balancer.update(['a', 'b']);
    expect(balancer.inFlight('a')).toBe(1);
    expect(balancer.totalInFlight).toBe(1);
  });
});
