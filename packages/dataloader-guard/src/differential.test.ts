import { fc, test } from '@fast-check/vitest';
import DataLoader from 'dataloader';
import { describe, expect } from 'vitest';
import { createLoader } from './loader.js';

// The same program against the real `dataloader` and against ours with every guard on but set so
// that none trips: the batches sent, every load's outcome and the order the loads settle in must be
// the same, whatever order the scheduler gives the program's steps and the answers. The i-th call of
// each loader answers when one shared gate opens, so a memo cleared by a failed batch is cleared for
// both at the same step.

type Op =
  | { readonly kind: 'load'; readonly key: number }
  | { readonly kind: 'loadMany'; readonly keys: readonly number[] }
  | { readonly kind: 'prime'; readonly key: number; readonly error: boolean }
  | { readonly kind: 'clear'; readonly key: number }
  | { readonly kind: 'clearAll' };

const keyArb = fc.integer({ min: 0, max: 12 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: keyArb.map((key) => ({ kind: 'load' as const, key })) },
  { weight: 2, arbitrary: fc.array(keyArb, { maxLength: 6 }).map((keys) => ({ kind: 'loadMany' as const, keys })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('prime' as const), key: keyArb, error: fc.boolean() }) },
  { weight: 1, arbitrary: keyArb.map((key) => ({ kind: 'clear' as const, key })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clearAll' as const }) },
);

/** Keys divisible by 4 have no value (a per-key Error); a batch holding 11 fails as a whole. */
function answer(keys: readonly number[]): (number | Error)[] {
  if (keys.includes(11)) throw new Error('batch with 11 failed');
  return keys.map((k) => (k % 4 === 0 ? new Error(`no ${String(k)}`) : k * 100));
}

/** An outcome that compares across the two loaders (errors by message). */
function outcome(value: unknown): string {
  if (value instanceof Error) return `error: ${value.message}`;
  if (Array.isArray(value)) return `[${value.map(outcome).join(', ')}]`;
  return `value: ${String(value)}`;
}

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

interface Side {
  readonly calls: string[];
  readonly outcomes: string[];
  /** Steps in the order their loads settled. */
  readonly order: number[];
  readonly load: (key: number) => Promise<number>;
  readonly loadMany: (keys: readonly number[]) => Promise<(number | Error)[]>;
  readonly prime: (key: number, value: number | Error) => void;
  readonly clear: (key: number) => void;
  readonly clearAll: () => void;
}

describe('differential: the same answers as the real dataloader', () => {
  test.prop([fc.scheduler(), fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 5 })], {
    numRuns: 500,
  })('on any schedule where no guard trips', async (s, ops, maxBatchSize) => {
    const gates: Promise<unknown>[] = [];
    const gate = (i: number): Promise<unknown> => (gates[i] ??= s.schedule(Promise.resolve(i), `answer ${String(i)}`));
    function batchFn(calls: string[]): (keys: readonly number[]) => Promise<(number | Error)[]> {
      return (keys) => {
        const i = calls.push(keys.join(',')) - 1;
        return gate(i).then(() => answer(keys));
      };
    }

    const theirCalls: string[] = [];
    const theirs = new DataLoader<number, number>(batchFn(theirCalls), { maxBatchSize });
    const ourCalls: string[] = [];
    const ours = createLoader<number, number>(batchFn(ourCalls), {
      maxBatchSize,
      maxKeys: 100_000,
      maxConcurrentBatches: 1_000,
      maxQueuedBatches: 1_000,
      timeoutMs: 600_000,
      isolateFailures: false,
      signal: new AbortController().signal,
    });
    const sides: Side[] = [
      { calls: theirCalls, outcomes: [], order: [], ...bind(theirs) },
      { calls: ourCalls, outcomes: [], order: [], ...bind(ours) },
    ];

    for (const [step, op] of ops.entries()) {
      void s.schedule(Promise.resolve(step), `step ${String(step)}`).then(() => {
        for (const side of sides) {
          const record = (i: number, p: Promise<unknown>): void => {
            p.then(
              (v) => {
                side.outcomes[i] = outcome(v);
                side.order.push(i);
              },
              (e: unknown) => {
                side.outcomes[i] = outcome(e);
                side.order.push(i);
              },
            );
          };
          switch (op.kind) {
            case 'load':
              record(step, side.load(op.key));
              break;
            case 'loadMany':
              record(step, side.loadMany(op.keys));
              break;
            case 'prime':
              side.prime(op.key, op.error ? new Error(`primed ${String(op.key)}`) : op.key * 100);
              break;
            case 'clear':
              side.clear(op.key);
              break;
            case 'clearAll':
              side.clearAll();
              break;
          }
        }
      });
    }
    await drain(s);
    const [their, our] = sides as [Side, Side];
    expect(our.calls).toEqual(their.calls);
    expect(our.outcomes).toEqual(their.outcomes);
    expect(our.order).toEqual(their.order);
    // Every load settled (`Object.keys` skips the holes left by steps that load nothing).
    expect(Object.keys(our.outcomes).length).toBe(
      ops.filter((op) => op.kind === 'load' || op.kind === 'loadMany').length,
    );
  });
});

function bind(loader: {
  load(key: number): Promise<number>;
  loadMany(keys: readonly number[]): Promise<(number | Error)[]>;
  prime(key: number, value: number | Error): unknown;
  clear(key: number): unknown;
  clearAll(): unknown;
}): Omit<Side, 'calls' | 'outcomes' | 'order'> {
  return {
    load: (key) => loader.load(key),
    loadMany: (keys) => loader.loadMany(keys),
    prime: (key, value) => {
      loader.prime(key, value);
    },
    clear: (key) => {
      loader.clear(key);
    },
    clearAll: () => {
      loader.clearAll();
    },
  };
}
