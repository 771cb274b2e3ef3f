import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { Hysteresis } from './hysteresis.js';
import type { HealthStatus } from './status.js';

const statusArb = fc.constantFrom<HealthStatus>('pass', 'warn', 'fail');
// Flapping is the interesting case: runs drawn with long streaks of one kind as well as alternations.
const runsArb = fc.array(
  fc.tuple(statusArb, fc.integer({ min: 1, max: 6 })).map(([status, times]) => Array<HealthStatus>(times).fill(status)),
  { minLength: 1, maxLength: 25 },
);
const thresholdArb = fc.integer({ min: 1, max: 5 });

const failing = (status: HealthStatus): boolean => status === 'fail';

/** Feeds `runs` and returns the reported status after each. */
function reported(runs: readonly HealthStatus[], failureThreshold: number, successThreshold: number): HealthStatus[] {
  const h = new Hysteresis(failureThreshold, successThreshold);
  return runs.map((run) => h.record(run));
}

describe('hysteresis', () => {
  test.prop([runsArb, thresholdArb, thresholdArb], { numRuns: 500 })(
    'the status crosses fail / not-fail only after its threshold of consecutive runs of the other kind',
    (chunks, failureThreshold, successThreshold) => {
      const runs = chunks.flat();
      const out = reported(runs, failureThreshold, successThreshold);
      expect(out[0]).toBe(runs[0]);
      for (let i = 1; i < runs.length; i++) {
        const before = out[i - 1] as HealthStatus;
        const after = out[i] as HealthStatus;
        if (failing(before) === failing(after)) continue;
        // A crossing at run i: the last `threshold` runs were all of the new kind…
        const threshold = failing(after) ? failureThreshold : successThreshold;
        expect(i + 1).toBeGreaterThanOrEqual(threshold);
        for (let k = i - threshold + 1; k <= i; k++) expect(failing(runs[k] as HealthStatus)).toBe(failing(after));
        // …and the new status is the run that crossed.
        expect(after).toBe(runs[i]);
      }
    },
  );

  test.prop([runsArb, thresholdArb, thresholdArb], { numRuns: 500 })(
    'a streak of its threshold of runs of the other kind always moves the status (it never sticks)',
    (chunks, failureThreshold, successThreshold) => {
      const runs = chunks.flat();
      const out = reported(runs, failureThreshold, successThreshold);
      for (let i = 0; i < runs.length; i++) {
        const now = runs[i] as HealthStatus;
        const threshold = failing(now) ? failureThreshold : successThreshold;
        if (i + 1 < threshold) continue;
        const streak = runs.slice(i + 1 - threshold, i + 1);
        if (streak.every((r) => failing(r) === failing(now)))
          expect(failing(out[i] as HealthStatus)).toBe(failing(now));
      }
    },
  );

  test.prop([runsArb, thresholdArb, thresholdArb], { numRuns: 300 })(
    'on the healthy side, pass and warn follow each run at once',
    (chunks, failureThreshold, successThreshold) => {
      const runs = chunks.flat();
      const out = reported(runs, failureThreshold, successThreshold);
      runs.forEach((run, i) => {
        if (!failing(run) && !failing(out[i] as HealthStatus)) expect(out[i]).toBe(run);
      });
    },
  );

  test.prop([runsArb, statusArb, thresholdArb, thresholdArb], { numRuns: 300 })(
    'peek tells what recording a run would report, and records nothing',
    (chunks, next, failureThreshold, successThreshold) => {
      const runs = chunks.flat();
      const h = new Hysteresis(failureThreshold, successThreshold);
      for (let i = 0; i <= runs.length; i++) {
        const before = [h.status, h.streak];
        const peeked = h.peek(next);
        expect([h.status, h.streak]).toEqual(before);
        // A twin with the same past, recording `next`, reports what was peeked.
        const twin = new Hysteresis(failureThreshold, successThreshold);
        for (const run of runs.slice(0, i)) twin.record(run);
        expect(twin.record(next)).toBe(peeked);
        if (i < runs.length) h.record(runs[i] as HealthStatus);
      }
    },
  );

  test('three failures in a row to fail, two successes back (scenario 7)', () => {
    const out = reported(
      ['pass', 'fail', 'fail', 'pass', 'fail', 'fail', 'fail', 'pass', 'fail', 'pass', 'pass'],
      3,
      2,
    );
    expect(out).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'fail', 'fail', 'fail', 'fail', 'pass']);
  });
});
