import { fc, test } from '@fast-check/vitest';
import { consecutiveFailures } from '@portcullis/circuit-breaker';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { seededRandom } from '../../test/fixtures/seeded-random.js';
import { createLeastRequest } from '../balancers/least-request.js';
import type { LoadAwareBalancer } from '../balancers/types.js';
import type { DiscoveredEndpoint } from './discovery/source.js';
import type { UpstreamEndpoint } from './endpoint.js';
import type { EndpointLease, EndpointOutcome } from './lease.js';
import { createUpstreamPool, type UpstreamPool } from './pool.js';

/** The universe of endpoints updates draw from. */
const UNIVERSE = 10;
const idOf = (i: number): string => `127.0.0.1:${String(10_000 + i)}`;

const outcomes: readonly EndpointOutcome[] = [
  { status: 200, durationMs: 1 },
  { status: 404, durationMs: 1 },
  { status: 500, durationMs: 1 },
  { status: 503, durationMs: 1 },
  { failure: 'refused', durationMs: 1 },
  { failure: 'reset', durationMs: 1 },
  { failure: 'timeout', durationMs: 1 },
  { failure: 'aborted', durationMs: 1 },
  { failure: 'other', durationMs: 1 },
];

const op = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      key: fc.option(fc.string({ maxLength: 4 })),
      avoid: fc.subarray([...Array(UNIVERSE).keys()], { maxLength: 3 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('complete' as const),
      lease: fc.nat(),
      outcome: fc.nat(outcomes.length - 1),
      twice: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      members: fc.subarray([...Array(UNIVERSE).keys()], { minLength: 0 }),
      weights: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: UNIVERSE, maxLength: UNIVERSE }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('health' as const),
      down: fc.subarray([...Array(UNIVERSE).keys()], { maxLength: 4 }),
    }),
  },
);

const scenario = fc.record({
  ops: fc.array(op, { minLength: 10, maxLength: 120, size: 'max' }),
  initial: fc.integer({ min: 1, max: UNIVERSE }),
  // 100 % is where "never the last endpoint" alone holds the line: drawn often.
  maxEjectionPercent: fc.oneof(fc.constant(100), fc.integer({ min: 0, max: 100 })),
  panicThresholdPercent: fc.integer({ min: 0, max: 100 }),
  breaker: fc.boolean(),
  seed: fc.integer(),
});

function endpointList(members: readonly number[], weights: readonly number[]): DiscoveredEndpoint[] {
  return members.map((i) => ({ host: '127.0.0.1', port: 10_000 + i, weight: weights[i] ?? 1 }));
}

describe('upstream pool (properties)', () => {
  test.prop([scenario], { numRuns: 150 })(
    'ejection stays within max % and never takes the last endpoint; no lease outside panic goes to an ejected or unhealthy endpoint; every lease completes once and all counts return to 0',
    async ({ ops, initial, maxEjectionPercent, panicThresholdPercent, breaker, seed }) => {
      const clock = new ManualClock();
      const down = new Set<string>();
      let balancer: LoadAwareBalancer<UpstreamEndpoint> | undefined;
      const pool: UpstreamPool = createUpstreamPool({
        name: 'prop',
        endpoints: endpointList([...Array(initial).keys()], []),
        balancer: (options) => (balancer = createLeastRequest(options)),
        clock,
        random: seededRandom(seed),
        panicThresholdPercent,
        outlierDetection: {
          consecutive5xx: 2,
          consecutiveGatewayErrors: 2,
          baseEjectionTimeMs: 1_000,
          maxEjectionPercent,
        },
        healthCheck: {
          probe: (endpoint) => !down.has(endpoint.id),
          unhealthyThreshold: 1,
          healthyThreshold: 1,
          intervalMs: 1e9,
        },
        breaker: breaker ? { trip: consecutiveFailures(3), openDuration: 2_000 } : false,
      });
      const held: EndpointLease[] = [];
      let outstanding = 0;
      const cap = (n: number): number => Math.max(0, Math.min(n - 1, Math.floor((n * maxEjectionPercent) / 100)));
      try {
        for (const step of ops) {
          switch (step.kind) {
            case 'acquire': {
              const avoid = new Set(step.avoid.map(idOf));
              const lease = pool.acquire(step.key ?? undefined, avoid);
              if (lease === undefined) break;
              held.push(lease);
              outstanding++;
              const state = pool.snapshot();
              const chosen = state.endpoints.find((e) => e.endpoint.id === lease.id);
              expect(chosen).toBeDefined();
              expect(chosen?.endpoint.weight).toBeGreaterThan(0);
              if (!state.panic) {
                expect(chosen?.ejected).toBe(false);
                expect(chosen?.healthy).toBe(true);
              }
              // Avoided ids only when nothing else could be offered.
              if (avoid.has(lease.id)) {
                const others = state.endpoints.filter((e) => !avoid.has(e.endpoint.id) && e.effectiveWeight > 0);
                expect(others.every((e) => e.breaker === 'open' || e.breaker === 'half-open')).toBe(true);
              }
              break;
            }
            case 'complete': {
              if (held.length === 0) break;
              const [lease] = held.splice(step.lease % held.length, 1) as [EndpointLease];
              lease.complete(outcomes[step.outcome] as EndpointOutcome);
              outstanding--;
              if (step.twice) lease.complete(outcomes[0] as EndpointOutcome);
              break;
            }
            case 'advance':
              clock.advance(step.ms);
              break;
            case 'update':
              pool.update(endpointList(step.members, step.weights));
              break;
            case 'health':
              down.clear();
              for (const i of step.down) down.add(idOf(i));
              await pool.checkNow();
              break;
          }
          const state = pool.snapshot();
          const ejected = state.endpoints.filter((e) => e.ejected).length;
          expect(ejected).toBeLessThanOrEqual(cap(state.endpoints.length));
          expect(pool.inFlight).toBe(outstanding);
        }
        for (const lease of held.splice(0)) lease.complete(outcomes[0] as EndpointOutcome);
        expect(pool.inFlight).toBe(0);
        expect(pool.snapshot().endpoints.every((e) => e.inFlight === 0)).toBe(true);
        expect(balancer?.totalInFlight).toBe(0);
        for (const endpoint of pool.endpoints) expect(balancer?.inFlight(endpoint)).toBe(0);
      } finally {
        await pool.close();
      }
    },
  );

  test.prop(
    [
      fc.record({
        total: fc.integer({ min: 2, max: 12 }),
        out: fc.integer({ min: 1, max: 11 }),
        threshold: fc.integer({ min: 1, max: 100 }),
        // Half the runs put the threshold at the available share, ±1, where `<` and `<=` differ.
        atBoundary: fc.boolean(),
        shift: fc.integer({ min: -1, max: 1 }),
        seed: fc.integer(),
      }),
    ],
    { numRuns: 200 },
  )(
    'below the panic threshold every endpoint gets picks; at or above it, only the available ones',
    async ({ total, out, atBoundary, shift, seed, ...drawn }) => {
      const unavailable = Math.min(out, total);
      const available = total - unavailable;
      const threshold = atBoundary
        ? Math.max(0, Math.min(100, Math.floor((available * 100) / total) + shift))
        : drawn.threshold;
      const down = new Set<string>();
      const pool = createUpstreamPool({
        name: 'panic',
        endpoints: endpointList([...Array(total).keys()], []),
        balancer: 'round-robin',
        random: seededRandom(seed),
        panicThresholdPercent: threshold,
        breaker: false,
        healthCheck: { probe: (endpoint) => !down.has(endpoint.id), unhealthyThreshold: 1, intervalMs: 1e9 },
      });
      try {
        for (let i = 0; i < unavailable; i++) down.add(idOf(i));
        await pool.checkNow();
        const panic = available * 100 < threshold * total;
        expect(pool.panic).toBe(panic);
        const picked = new Set<string>();
        for (let i = 0; i < 2 * total; i++) {
          const lease = pool.acquire();
          if (lease === undefined) break;
          picked.add(lease.id);
          lease.complete({ status: 200, durationMs: 1 });
        }
        const expected = [...Array(total).keys()].map(idOf).filter((id) => panic || !down.has(id));
        expect([...picked].sort()).toEqual(expected.sort());
      } finally {
        await pool.close();
      }
    },
  );
});
