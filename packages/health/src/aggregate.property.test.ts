import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import type { CheckFunction } from './check.js';
import { createHealth } from './health.js';
import type { HealthStatus } from './status.js';

// The rule, stated on its own (not by calling the implementation): a critical check that fails
// (by answer, error, timeout or the deadline) fails the whole; otherwise any warning, or any
// non-critical failure, degrades it; otherwise it passes.

type Behaviour = 'pass' | 'warn' | 'fail' | 'throw' | 'reject' | 'nonsense' | 'timeout' | 'hang';

interface Spec {
  readonly behaviour: Behaviour;
  readonly critical: boolean;
}

const TIMEOUT_MS = 5;
const DEADLINE_MS = 40;

/** What each behaviour amounts to for one check, by definition. */
const FAILS: ReadonlySet<Behaviour> = new Set(['fail', 'throw', 'reject', 'nonsense', 'timeout', 'hang']);

function modelStatus(specs: readonly Spec[]): HealthStatus {
  if (specs.some((s) => s.critical && FAILS.has(s.behaviour))) return 'fail';
  if (specs.some((s) => s.behaviour === 'warn' || FAILS.has(s.behaviour))) return 'warn';
  return 'pass';
}

function checkFor(behaviour: Behaviour): { check: CheckFunction; timeoutMs: number } {
  switch (behaviour) {
    case 'pass':
      return { check: () => undefined, timeoutMs: TIMEOUT_MS };
    case 'warn':
      return { check: () => Promise.resolve({ status: 'warn', observedValue: 1 }), timeoutMs: TIMEOUT_MS };
    case 'fail':
      return { check: () => 'fail', timeoutMs: TIMEOUT_MS };
    case 'throw':
      return {
        check: () => {
          throw new Error('down');
        },
        timeoutMs: TIMEOUT_MS,
      };
    case 'reject':
      return { check: () => Promise.reject(new Error('down')), timeoutMs: TIMEOUT_MS };
    case 'nonsense':
      return { check: () => 42 as unknown as 'pass', timeoutMs: TIMEOUT_MS };
    case 'timeout':
      // Stops when told to: failed by its own timeout.
      return {
        check: (signal) =>
          new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              resolve('pass');
            });
          }),
        timeoutMs: TIMEOUT_MS,
      };
    case 'hang':
      // Ignores its signal, with a timeout past the deadline: failed by the deadline.
      return { check: () => new Promise<never>(() => undefined), timeoutMs: 60_000 };
  }
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  behaviour: fc.constantFrom<Behaviour>('pass', 'warn', 'fail', 'throw', 'reject', 'nonsense', 'timeout', 'hang'),
  critical: fc.boolean(),
});

describe('aggregation', () => {
  test.prop([fc.array(specArb, { maxLength: 8 })], { numRuns: 150 })(
    'the aggregate status is exactly the rule applied to the checks (criticality, warn, fail, timeout, deadline)',
    async (specs) => {
      const health = createHealth({
        checks: specs.map((spec, i) => ({
          name: `c${String(i)}`,
          critical: spec.critical,
          ...checkFor(spec.behaviour),
        })),
      });
      const report = await health.run(undefined, { deadlineMs: DEADLINE_MS });
      expect(report.status).toBe(modelStatus(specs));
      // Each check's own status and reason, by definition.
      specs.forEach((spec, i) => {
        const result = report.checks[i];
        expect(result?.name).toBe(`c${String(i)}`);
        expect(result?.status).toBe(FAILS.has(spec.behaviour) ? 'fail' : spec.behaviour);
        const reason = { throw: 'error', reject: 'error', timeout: 'timeout', hang: 'deadline' }[
          spec.behaviour as string
        ];
        expect(result?.reason).toBe(reason);
      });
      health.dispose();
    },
  );
});
