import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createBatchLimiter, type QueuedBatch } from './batch-limiter.js';

type Step =
  { readonly kind: 'acquire' } | { readonly kind: 'release' } | { readonly kind: 'cancel'; readonly pick: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: 'acquire' as const }),
  fc.constant({ kind: 'release' as const }),
  fc.nat().map((pick) => ({ kind: 'cancel' as const, pick })),
);

describe('batch limiter', () => {
  test.prop([fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.array(stepArb, { maxLength: 60 })], {
    numRuns: 1_000,
  })(
    'runs at most maxConcurrent, queues at most maxQueue, starts the oldest waiter first, and a cancelled one never',
    (maxConcurrent, maxQueue, steps) => {
      const limiter = createBatchLimiter({ maxConcurrent, maxQueue });
      // The model: ids running and ids queued in order.
      let running = 0;
      const queue: { id: number; entry: QueuedBatch }[] = [];
      const started: number[] = [];
      const expectedStarts: number[] = [];
      let next = 0;
      for (const step of steps) {
        if (step.kind === 'acquire') {
          const id = next++;
          const result = limiter.acquire(() => started.push(id));
          if (running < maxConcurrent) {
            expect(result).toBe('started');
            running++;
            expectedStarts.push(id);
          } else if (queue.length < maxQueue) {
            expect(typeof result).toBe('object');
            queue.push({ id, entry: result as QueuedBatch });
          } else {
            expect(result).toBe('full');
          }
        } else if (step.kind === 'release') {
          if (running === 0) continue;
          limiter.release();
          const head = queue.shift();
          if (head === undefined) running--;
          else expectedStarts.push(head.id);
        } else {
          if (queue.length === 0) continue;
          const [removed] = queue.splice(step.pick % queue.length, 1);
          expect(limiter.cancel((removed as { entry: QueuedBatch }).entry)).toBe(true);
          expect(limiter.cancel((removed as { entry: QueuedBatch }).entry)).toBe(false);
        }
        expect(limiter.running).toBe(running);
        expect(limiter.queued).toBe(queue.length);
        expect(limiter.running).toBeLessThanOrEqual(maxConcurrent);
        expect(limiter.queued).toBeLessThanOrEqual(maxQueue);
      }
      expect(started).toEqual(expectedStarts);
    },
  );

  test.prop([fc.oneof(fc.constant(0), fc.constant(-1), fc.constant(1.5), fc.constant(Number.NaN), fc.string())])(
    'rejects a maxConcurrent that is not a whole number >= 1',
    (bad) => {
      expect(() => createBatchLimiter({ maxConcurrent: bad as number })).toThrow(/"maxConcurrent"/);
    },
  );
});
