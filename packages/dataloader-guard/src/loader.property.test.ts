import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createBatchLimiter } from './batch-limiter.js';
import { isLoaderAbortedError } from './errors.js';
import { createLoader } from './loader.js';

// fc.scheduler decides when every operation runs and when every batch function answers, so these
// invariants hold for arbitrary interleavings of loads, answers and aborts, not just the one the
// event loop happens to produce.

/** What a test program does: loads, primes, clears, in an order the scheduler picks. */
type Op =
  | { readonly kind: 'load'; readonly key: number }
  | { readonly kind: 'loadMany'; readonly keys: readonly number[] }
  | { readonly kind: 'prime'; readonly key: number }
  | { readonly kind: 'clear'; readonly key: number };

const keyArb = fc.integer({ min: 0, max: 15 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: keyArb.map((key) => ({ kind: 'load' as const, key })) },
  { weight: 2, arbitrary: fc.array(keyArb, { maxLength: 8 }).map((keys) => ({ kind: 'loadMany' as const, keys })) },
  { weight: 1, arbitrary: keyArb.map((key) => ({ kind: 'prime' as const, key })) },
  { weight: 1, arbitrary: keyArb.map((key) => ({ kind: 'clear' as const, key })) },
);

/** The value of a key, and the per-key error of the keys that have none (multiples of 5). */
const valueOf = (key: number): number => key * 10 + 1;
class KeyError extends Error {
  constructor(readonly key: number) {
    super(`no value for ${String(key)}`);
  }
}
const answerOf = (key: number): number | Error => (key % 5 === 0 ? new KeyError(key) : valueOf(key));
/** A batch with key 13 in it fails as a whole. */
const POISON = 13;

/** Lets timers, process.nextTick and promise jobs run until the scheduler has nothing left. */
async function drain(s: fc.Scheduler): Promise<void> {
  for (let round = 0; round < 1_000; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (s.count() === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      if (s.count() === 0) return;
    }
    await s.waitNext(1);
  }
  throw new Error('the scheduler never ran dry');
}

/** Records how each load settled: every entry must end at exactly one settlement. */
class Settlements {
  readonly counts: number[] = [];
  readonly wrong: string[] = [];

  /** Tracks a load of `key`: resolved with its own value, or rejected with its own key's error or a batch-wide one. */
  track(key: number, load: Promise<number>): void {
    const i = this.counts.push(0) - 1;
    load.then(
      (value) => {
        this.counts[i] = (this.counts[i] as number) + 1;
        if (value !== valueOf(key)) this.wrong.push(`load(${String(key)}) resolved with ${String(value)}`);
      },
      (error: unknown) => {
        this.counts[i] = (this.counts[i] as number) + 1;
        if (error instanceof KeyError && error.key !== key) {
          this.wrong.push(`load(${String(key)}) rejected with the error of key ${String(error.key)}`);
        }
        if (!(error instanceof Error)) this.wrong.push(`load(${String(key)}) rejected with a non-error`);
      },
    );
  }
}

describe('under arbitrary interleavings (fc.scheduler)', () => {
  test.prop(
    [
      fc.scheduler(),
      fc.array(opArb, { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 40 }),
      fc.boolean(),
    ],
    { numRuns: 400 },
  )(
    'every load settles once with its own value or error; batches, concurrency and keys stay within their caps',
    async (s, ops, maxBatchSize, maxConcurrentBatches, maxKeys, isolate) => {
      let inFlight = 0;
      let mostInFlight = 0;
      let firstCallKeys = 0;
      const violations: string[] = [];
      const loader = createLoader<number, number>(
        (keys, { signal }) => {
          if (keys.length > maxBatchSize) violations.push(`batch of ${String(keys.length)} > ${String(maxBatchSize)}`);
          inFlight++;
          mostInFlight = Math.max(mostInFlight, inFlight);
          let over = false;
          const leave = (): void => {
            if (!over) inFlight--;
            over = true;
          };
          signal.addEventListener('abort', leave, { once: true });
          return s.schedule(Promise.resolve(keys), `answer ${keys.join(',')}`).then((answered) => {
            leave();
            if (answered.includes(POISON)) throw new Error('poisoned batch');
            return answered.map(answerOf);
          });
        },
        { maxBatchSize, maxConcurrentBatches, maxQueuedBatches: 1_000, maxKeys, isolateFailures: isolate },
      );
      loader.events.on('batch', (e) => {
        // First calls only: retries of a split batch send keys already counted.
        if (e.calls >= 1 && e.outcome !== 'refused') firstCallKeys += e.size;
      });
      const settlements = new Settlements();
      for (const op of ops) {
        void s.schedule(Promise.resolve(op), op.kind).then((o) => {
          switch (o.kind) {
            case 'load':
              settlements.track(o.key, loader.load(o.key));
              break;
            case 'loadMany':
              settlements.track(
                -1,
                loader.loadMany(o.keys).then((results) => {
                  results.forEach((r, i) => {
                    const key = o.keys[i] as number;
                    if (r instanceof KeyError && r.key !== key) violations.push(`loadMany mixed ${String(key)}`);
                    if (!(r instanceof Error) && r !== valueOf(key))
                      violations.push(`loadMany(${String(key)}) = ${String(r)}`);
                  });
                  return valueOf(-1);
                }),
              );
              break;
            case 'prime':
              loader.prime(o.key, valueOf(o.key));
              break;
            case 'clear':
              loader.clear(o.key);
              break;
          }
        });
      }
      await drain(s);
      expect(violations).toEqual([]);
      expect(settlements.wrong).toEqual([]);
      expect(settlements.counts.every((c) => c === 1)).toBe(true);
      expect(mostInFlight).toBeLessThanOrEqual(maxConcurrentBatches);
      expect(firstCallKeys).toBeLessThanOrEqual(maxKeys);
      expect(loader.stats().keysLoaded).toBeLessThanOrEqual(maxKeys);
      expect(loader.activeBatches).toBe(0);
    },
  );

  test.prop(
    [
      fc.scheduler(),
      fc.array(opArb, { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 0, max: 30 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 2 }),
    ],
    { numRuns: 400 },
  )(
    'an aborted request leaves nothing running or queued, and its batch functions are not called after',
    async (s, ops, abortAfter, maxBatchSize, maxConcurrent) => {
      const controller = new AbortController();
      // Shared, so the test can see the queue and the slots from outside.
      const limiter = createBatchLimiter({ maxConcurrent, maxQueue: 1_000 });
      /** Signals of the batches whose answer has not come yet. */
      const running = new Set<AbortSignal>();
      let callsAfterAbort = 0;
      const loader = createLoader<number, number>(
        (keys, { signal }) => {
          if (controller.signal.aborted) callsAfterAbort++;
          running.add(signal);
          return s.schedule(Promise.resolve(keys)).then((answered) => {
            running.delete(signal);
            return answered.map(answerOf);
          });
        },
        { maxBatchSize, limiter, signal: controller.signal },
      );
      const settlements = new Settlements();
      let done = 0;
      const schedule = [...ops.map((op) => ({ op })), { op: undefined }];
      // The abort is one more scheduled step, at a place the scheduler chooses.
      schedule.splice(Math.min(abortAfter, ops.length), 0, { op: { kind: 'clear', key: -1 } as Op });
      for (const [i, { op }] of schedule.entries()) {
        void s.schedule(Promise.resolve(i), `step ${String(i)}`).then(() => {
          done++;
          if (op === undefined) return;
          if (op.kind === 'clear' && op.key === -1) {
            controller.abort(new Error('client left'));
            // At once: nothing running, nothing queued, every running signal aborted.
            expect(loader.activeBatches).toBe(0);
            expect(loader.waitingKeys).toBe(0);
            expect(limiter.running).toBe(0);
            expect(limiter.queued).toBe(0);
            for (const signal of running) if (!signal.aborted) settlements.wrong.push('a running signal not aborted');
            return;
          }
          if (op.kind === 'load') settlements.track(op.key, loader.load(op.key));
          else if (op.kind === 'loadMany') for (const key of op.keys) settlements.track(key, loader.load(key));
          else if (op.kind === 'prime') loader.prime(op.key, valueOf(op.key));
          else loader.clear(op.key);
        });
      }
      await drain(s);
      expect(done).toBe(schedule.length);
      expect(callsAfterAbort).toBe(0);
      expect(settlements.wrong).toEqual([]);
      expect(settlements.counts.every((c) => c === 1)).toBe(true);
      expect(limiter.running + limiter.queued).toBe(0);
      await expect(loader.load(1)).rejects.toSatisfy(isLoaderAbortedError);
    },
  );
});
