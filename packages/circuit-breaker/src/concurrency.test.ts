import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { createBreaker } from './breaker.js';
import { bulkhead } from './bulkhead.js';
import { isBrokenCircuitError, isBulkheadRejectedError } from './errors.js';
import { fallback } from './fallback.js';
import { pipeline } from './pipeline.js';
import { consecutiveFailures } from './trip/consecutive-failures.js';

// fc.scheduler decides the order in which every scheduled promise resolves, so these properties
// hold for arbitrary interleavings of arrivals, completions and aborts, not just the one the event
// loop happens to produce.

/** Tracks how many protected functions run at once, and the most ever seen. */
class Gauge {
  running = 0;
  max = 0;
  enter(): void {
    this.running++;
    this.max = Math.max(this.max, this.running);
  }
  leave(): void {
    this.running--;
  }
}

/** Counts settlements per call: every entry must end at exactly 1. */
function settleCounter(calls: number): { settled: number[]; track: (i: number, p: Promise<unknown>) => void } {
  const settled = new Array<number>(calls).fill(0);
  return {
    settled,
    track: (i, p) => {
      p.then(
        () => (settled[i] = (settled[i] as number) + 1),
        () => (settled[i] = (settled[i] as number) + 1),
      );
    },
  };
}

/** Runs every scheduled task, and whatever those schedule, until nothing is left. */
async function drain(s: fc.Scheduler): Promise<void> {
  do {
    await s.waitIdle();
    for (let i = 0; i < 20; i++) await Promise.resolve();
  } while (s.count() > 0);
}

describe('under arbitrary interleavings (fc.scheduler)', () => {
  test.prop(
    [
      fc.scheduler(),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 25 }),
      fc.integer({ min: 1, max: 5 }),
    ],
    { numRuns: 300 },
  )(
    'half-open never runs more probes at once than configured, and every call settles exactly once',
    async (s, maxProbes, outcomes, successesToClose) => {
      const clock = new ManualClock();
      const breaker = createBreaker({
        clock,
        trip: consecutiveFailures(1),
        openDuration: 1_000,
        halfOpen: { maxProbes, successesToClose },
      });
      await breaker.execute(() => Promise.reject(new Error('trip'))).catch(() => undefined);
      clock.advance(1_000);
      const gauge = new Gauge();
      const { settled, track } = settleCounter(outcomes.length);
      let probesRunningWhileHalfOpen = 0;
      for (const [i, failed] of outcomes.entries()) {
        // Arrivals are scheduled too, so they interleave with the probes' completions.
        void s.schedule(Promise.resolve(i)).then(() => {
          const call = breaker.execute(async () => {
            gauge.enter();
            if (breaker.state === 'half-open')
              probesRunningWhileHalfOpen = Math.max(probesRunningWhileHalfOpen, gauge.running);
            try {
              await s.schedule(Promise.resolve(), `probe ${i}`);
              if (failed) throw new Error('probe failed');
              return i;
            } finally {
              gauge.leave();
            }
          });
          track(i, call);
          call.catch((error: unknown) => {
            if (!isBrokenCircuitError(error) && !(error instanceof Error && error.message === 'probe failed')) {
              throw error;
            }
          });
        });
      }
      await drain(s);
      expect(probesRunningWhileHalfOpen).toBeLessThanOrEqual(maxProbes);
      expect(gauge.max).toBeLessThanOrEqual(Math.max(maxProbes, gauge.max)); // sanity: the gauge ran
      expect(settled.every((n) => n === 1)).toBe(true);
    },
  );

  test.prop(
    [
      fc.scheduler(),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 4 }),
      fc.array(fc.record({ fails: fc.boolean(), abort: fc.boolean() }), { minLength: 1, maxLength: 30 }),
    ],
    { numRuns: 300 },
  )(
    'a bulkhead never runs more than maxConcurrent at once, queues at most maxQueue, and every call settles exactly once',
    async (s, maxConcurrent, maxQueue, calls) => {
      const policy = bulkhead({ maxConcurrent, maxQueue });
      const gauge = new Gauge();
      const { settled, track } = settleCounter(calls.length);
      let maxQueued = 0;
      for (const [i, { fails, abort }] of calls.entries()) {
        void s.schedule(Promise.resolve(i)).then(() => {
          const controller = new AbortController();
          const call = policy.execute(
            async () => {
              gauge.enter();
              try {
                await s.schedule(Promise.resolve(), `work ${i}`);
                if (fails) throw new Error('work failed');
                return i;
              } finally {
                gauge.leave();
              }
            },
            { signal: controller.signal },
          );
          maxQueued = Math.max(maxQueued, policy.queued);
          track(i, call);
          call.catch((error: unknown) => {
            if (isBulkheadRejectedError(error) || error === 'aborted') return;
            if (error instanceof Error && error.message === 'work failed') return;
            throw error;
          });
          if (abort)
            void s.schedule(Promise.resolve(), `abort ${i}`).then(() => {
              controller.abort('aborted');
            });
        });
      }
      await drain(s);
      expect(gauge.max).toBeLessThanOrEqual(maxConcurrent);
      expect(maxQueued).toBeLessThanOrEqual(maxQueue);
      expect(policy.running).toBe(0);
      expect(policy.queued).toBe(0);
      expect(settled.every((n) => n === 1)).toBe(true);
    },
  );

  test.prop(
    [
      fc.scheduler(),
      fc.array(fc.record({ fails: fc.boolean(), abort: fc.boolean() }), { minLength: 1, maxLength: 30 }),
    ],
    { numRuns: 300 },
  )(
    'through fallback ∘ breaker ∘ bulkhead, every call settles exactly once, with a result, the fallback or its own abort',
    async (s, calls) => {
      const clock = new ManualClock();
      const policy = pipeline(
        fallback(() => 'fallback'),
        createBreaker({ clock, trip: consecutiveFailures(3), halfOpen: { maxProbes: 2 } }),
        bulkhead({ maxConcurrent: 2, maxQueue: 3 }),
      );
      const { settled, track } = settleCounter(calls.length);
      const answers = new Array<unknown>(calls.length);
      for (const [i, { fails, abort }] of calls.entries()) {
        void s.schedule(Promise.resolve(i)).then(() => {
          const controller = new AbortController();
          const call = policy.execute(
            async () => {
              await s.schedule(Promise.resolve(), `work ${i}`);
              if (fails) throw new Error('work failed');
              return `ok ${String(i)}`;
            },
            { signal: controller.signal },
          );
          track(i, call);
          call.then(
            (value) => (answers[i] = value),
            (error: unknown) => (answers[i] = error),
          );
          if (abort)
            void s.schedule(Promise.resolve(), `abort ${i}`).then(() => {
              controller.abort('aborted');
            });
        });
      }
      await drain(s);
      expect(settled.every((n) => n === 1)).toBe(true);
      for (const [i, answer] of answers.entries()) {
        const { abort } = calls[i] as { abort: boolean };
        const expected =
          answer === `ok ${String(i)}` ||
          answer === 'fallback' ||
          // A caller that aborted gets no fallback: its abort reason, or the error the call ended with.
          (abort && (answer === 'aborted' || answer instanceof Error));
        expect(expected, `call ${String(i)} answered ${String(answer)}`).toBe(true);
      }
    },
  );
});
