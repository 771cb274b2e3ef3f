import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { createHealth, type Health, type HealthReport } from './health.js';
import type { HealthStatus } from './status.js';

// Any number of requests, arriving in bursts while time moves (a manual clock) and the check
// answers whenever it answers: the check starts at most once per TTL, never twice at once, and
// every request of a burst gets the same run's answer. And not less often than that: a burst
// starts a run exactly when none is in flight and the last result is at least a TTL old (so a
// cache that never expires, or expires late or early, fails too). Some steps move the clock to
// the TTL's edge (a millisecond before, at, after), where an off-by-one would show.

type Step =
  | { readonly kind: 'requests'; readonly questions: readonly Question[] }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'edge'; readonly delta: -1 | 0 | 1 }
  | { readonly kind: 'answer'; readonly status: HealthStatus };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc
    .array(fc.constantFrom<Question>('readiness', 'all', 'one'), { minLength: 1, maxLength: 25 })
    .map((questions) => ({ kind: 'requests' as const, questions })),
  fc.integer({ min: 0, max: 400 }).map((ms) => ({ kind: 'advance' as const, ms })),
  fc.constantFrom<-1 | 0 | 1>(-1, 0, 1).map((delta) => ({ kind: 'edge' as const, delta })),
  fc.constantFrom<HealthStatus>('pass', 'warn', 'fail').map((status) => ({ kind: 'answer' as const, status })),
);

/** Three questions that all read the check (each keeps its own last answer). */
type Question = 'readiness' | 'all' | 'one';

function ask(health: Health, question: Question): Promise<HealthReport> {
  const deadlineMs = 600_000;
  if (question === 'all') return health.run(undefined, { deadlineMs });
  return health.run('readiness', { deadlineMs, check: question === 'one' ? 'dep' : undefined });
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TTL and single flight', () => {
  test.prop([fc.array(stepArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 500 })], { numRuns: 200 })(
    'a check runs at most once per TTL, never twice at once, and again as soon as its result is a TTL old, under any number of concurrent requests',
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
          const lastEnd = ends.at(-1);
          const stale = pending === undefined && (lastEnd === undefined || clock.now() - lastEnd >= ttlMs);
          const before = starts.length;
          const burst = step.questions.map((question) => ask(health, question));
          bursts.push(burst);
          answered.push(...burst);
          expect(starts.length - before).toBe(stale ? 1 : 0);
        } else if (step.kind === 'advance') {
          clock.advance(step.ms);
        } else if (step.kind === 'edge') {
          // To a millisecond before, at, or after the last result's TTL ends (when that is ahead).
          const lastEnd = ends.at(-1);
          if (lastEnd !== undefined) clock.advance(Math.max(0, lastEnd + ttlMs + step.delta - clock.now()));
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
