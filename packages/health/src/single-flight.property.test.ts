import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { createHealth, type HealthReport } from './health.js';
import type { HealthStatus } from './status.js';

// Any number of requests, arriving in bursts while time moves (a manual clock) and the check
// answers whenever it answers: the check starts at most once per TTL, never twice at once, and
// every request of a burst gets the same run's answer.

type Step =
  | { readonly kind: 'requests'; readonly count: number }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'answer'; readonly status: HealthStatus };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.integer({ min: 1, max: 25 }).map((count) => ({ kind: 'requests' as const, count })),
  fc.integer({ min: 0, max: 400 }).map((ms) => ({ kind: 'advance' as const, ms })),
  fc.constantFrom<HealthStatus>('pass', 'warn', 'fail').map((status) => ({ kind: 'answer' as const, status })),
);

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TTL and single flight', () => {
  test.prop([fc.array(stepArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 500 })], { numRuns: 200 })(
    'a check runs at most once per TTL and never twice at once, under any number of concurrent requests',
    async (steps, ttlMs) => {
      const clock = new ManualClock(0);
      const starts: number[] = [];
      const ends: number[] = [];
      let pending: ((status: HealthStatus) => void) | undefined;
      let outstanding = 0;
      let maxOutstanding = 0;
      const health = createHealth({
        clock,
        checks: [
          {
            name: 'dep',
            ttlMs,
            timeoutMs: 600_000,
            check: () => {
              starts.push(clock.now());
              outstanding++;
              maxOutstanding = Math.max(maxOutstanding, outstanding);
              return new Promise<HealthStatus>((resolve) => {
                pending = (status) => {
                  outstanding--;
                  ends.push(clock.now());
                  resolve(status);
                };
              });
            },
          },
        ],
      });
      const answered: Promise<HealthReport>[] = [];
      const bursts: Promise<HealthReport>[][] = [];
      for (const step of steps) {
        if (step.kind === 'requests') {
          const burst = Array.from({ length: step.count }, () => health.run('readiness', { deadlineMs: 600_000 }));
          bursts.push(burst);
          answered.push(...burst);
        } else if (step.kind === 'advance') {
          clock.advance(step.ms);
        } else {
          const answer = pending;
          pending = undefined;
          answer?.(step.status);
        }
        await flush();
      }
      // Whatever is still running answers, so every request settles.
      while (pending !== undefined) {
        const answer = pending;
        pending = undefined;
        answer('pass');
        await flush();
      }
      await Promise.all(answered);

      expect(maxOutstanding).toBeLessThanOrEqual(1);
      for (let i = 1; i < starts.length; i++) {
        expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(ttlMs);
        expect((starts[i] as number) - (ends[i - 1] as number)).toBeGreaterThanOrEqual(ttlMs);
      }
      // A burst (same instant, no answer in between) shares one run: one result object.
      for (const burst of bursts) {
        const reports = await Promise.all(burst);
        const first = reports[0]?.checks[0];
        for (const report of reports) expect(report.checks[0]).toBe(first);
      }
      health.dispose();
    },
  );
});
