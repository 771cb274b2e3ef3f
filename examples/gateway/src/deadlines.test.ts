import { fc, test } from '@fast-check/vitest';
import { afterEach, beforeEach, describe, expect, vi } from 'vitest';
import { Cancellation } from './cancel.js';
import { AttemptTimeoutError, Deadlines, type DeadlineSignal } from './deadlines.js';

const MS = 2_000;

describe('attempt deadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test.prop(
    [
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('start' as const) }),
          fc.record({ op: fc.constant('settle' as const), pick: fc.nat() }),
          fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3 * MS }) }),
        ),
        { maxLength: 80 },
      ),
    ],
    { numRuns: 300 },
  )(
    'an attempt aborts with a timeout exactly when its deadline passes unsettled, never otherwise; one timer at most',
    (ops) => {
      const deadlines = new Deadlines(MS);
      const attempts: { signal: DeadlineSignal; startedAt: number; settledAt?: number; abortedAt?: number }[] = [];
      const now = (): number => performance.now();
      for (const step of ops) {
        if (step.op === 'start') {
          const entry: (typeof attempts)[number] = { signal: deadlines.start(), startedAt: now() };
          entry.signal.addEventListener('abort', () => {
            entry.abortedAt = now();
          });
          attempts.push(entry);
        } else if (step.op === 'settle') {
          const entry = attempts[step.pick % Math.max(1, attempts.length)];
          if (entry !== undefined && entry.settledAt === undefined && entry.abortedAt === undefined) {
            deadlines.settle(entry.signal);
            entry.settledAt = now();
          }
        } else {
          vi.advanceTimersByTime(step.ms);
        }
        expect(vi.getTimerCount()).toBeLessThanOrEqual(1);
        for (const entry of attempts) {
          const due = entry.startedAt + MS;
          if (entry.settledAt !== undefined && entry.settledAt < due) {
            expect(entry.signal.aborted).toBe(false);
          } else if (now() >= due) {
            // Not settled before its deadline: aborted at the deadline (the fake clock is exact).
            expect(entry.abortedAt).toBe(due);
            expect(entry.signal.reason).toBeInstanceOf(AttemptTimeoutError);
          } else {
            expect(entry.signal.aborted).toBe(false);
          }
        }
      }
      deadlines.close();
      expect(vi.getTimerCount()).toBe(0);
    },
  );

  test('an abort listener that starts another attempt does not delay the next deadline', () => {
    const deadlines = new Deadlines(MS);
    const first = deadlines.start();
    vi.advanceTimersByTime(MS / 2);
    const second = deadlines.start();
    let third: DeadlineSignal | undefined;
    first.addEventListener('abort', () => {
      third = deadlines.start();
    });
    vi.advanceTimersByTime(MS / 2);
    expect(first.aborted).toBe(true);
    expect(second.aborted).toBe(false);
    vi.advanceTimersByTime(MS / 2);
    expect(second.aborted).toBe(true);
    expect(third?.aborted).toBe(false);
    vi.advanceTimersByTime(MS / 2);
    expect(third?.aborted).toBe(true);
    deadlines.close();
  });
});

describe('cancellation', () => {
  test.prop(
    [
      fc.array(fc.oneof(fc.constant('add'), fc.constant('remove'), fc.constant('abort')), { maxLength: 30 }),
      fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
    ],
    { numRuns: 300 },
  )('runs its listeners as an AbortSignal does: once each, in order, not once removed or added after', (ops, picks) => {
    const ours = new Cancellation();
    const controller = new AbortController();
    const calls: { ours: number[]; theirs: number[] } = { ours: [], theirs: [] };
    const listeners: { ours: () => void; theirs: () => void }[] = [];
    ops.forEach((op, i) => {
      if (op === 'add') {
        const id = listeners.length;
        const pair = { ours: () => calls.ours.push(id), theirs: () => calls.theirs.push(id) };
        listeners.push(pair);
        ours.addEventListener('abort', pair.ours);
        controller.signal.addEventListener('abort', pair.theirs, { once: true });
      } else if (op === 'remove') {
        const pair = listeners[(picks[i] ?? 0) % Math.max(1, listeners.length)];
        if (pair !== undefined) {
          ours.removeEventListener('abort', pair.ours);
          controller.signal.removeEventListener('abort', pair.theirs);
        }
      } else {
        ours.abort('why');
        controller.abort('why');
      }
      expect(ours.aborted).toBe(controller.signal.aborted);
      expect(calls.ours).toEqual(calls.theirs);
    });
    expect(ours.reason).toBe(ours.aborted ? 'why' : undefined);
  });
});
