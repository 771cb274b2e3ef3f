import { describe, expect, test } from 'vitest';
import {
  isBatchQueueFullError,
  isInvalidBatchResultError,
  isInvalidLoadKeyError,
  isLoaderAbortedError,
  isTooManyKeysError,
} from './errors.js';
import type { BatchEvent, TooManyKeysEvent } from './events.js';
import { createKeyBudget } from './key-budget.js';
import { createLoader } from './loader.js';
import { createBatchLimiter } from './batch-limiter.js';

/** A batch function that records its calls and answers `value(key)`, or an error for keys in `failing`. */
function recorder(failing: ReadonlySet<number> = new Set()): {
  calls: number[][];
  fn: (keys: readonly number[]) => Promise<(number | Error)[]>;
} {
  const calls: number[][] = [];
  return {
    calls,
    fn: (keys) => {
      calls.push([...keys]);
      return Promise.resolve(keys.map((k) => (failing.has(k) ? new Error(`no ${String(k)}`) : k * 10)));
    },
  };
}

/** A promise and its resolver, for batch functions that answer when the test says. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets the loader's scheduled dispatches (a promise job, then process.nextTick) run. */
function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('DataLoader semantics', () => {
  test('batches the loads of one tick into one call, de-duplicated, answered in order', async () => {
    const { calls, fn } = recorder();
    const loader = createLoader(fn);
    const values = await Promise.all([loader.load(1), loader.load(2), loader.load(1), loader.load(3)]);
    expect(values).toEqual([10, 20, 10, 30]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  test('memoizes: a key loaded again later is not sent again; clear and clearAll forget', async () => {
    const { calls, fn } = recorder();
    const loader = createLoader(fn);
    await loader.load(1);
    expect(await loader.load(1)).toBe(10);
    expect(calls).toEqual([[1]]);
    loader.clear(1);
    await loader.load(1);
    loader.clearAll();
    await loader.loadMany([1, 2]);
    expect(calls).toEqual([[1], [1], [1, 2]]);
  });

  test('per-key errors reject only their key; loadMany answers the Error in place', async () => {
    const { fn } = recorder(new Set([2]));
    const loader = createLoader(fn);
    await expect(loader.load(2)).rejects.toThrow('no 2');
    const many = await loader.loadMany([1, 2, 3]);
    expect(many[0]).toBe(10);
    expect(many[1]).toBeInstanceOf(Error);
    expect(many[2]).toBe(30);
  });

  test('a batch that rejects fails its keys and leaves them out of the memo', async () => {
    let attempt = 0;
    const loader = createLoader<number, number>((keys) => {
      attempt++;
      return attempt === 1 ? Promise.reject(new Error('backend down')) : Promise.resolve(keys.map((k) => k));
    });
    await expect(loader.load(7)).rejects.toThrow('backend down');
    expect(await loader.load(7)).toBe(7);
  });

  test('prime sets a value or an error unless the key is there; cache: false never memoizes', async () => {
    const { calls, fn } = recorder();
    const loader = createLoader(fn);
    loader.prime(1, 99).prime(1, 98).prime(2, new Error('primed'));
    expect(await loader.load(1)).toBe(99);
    await expect(loader.load(2)).rejects.toThrow('primed');
    expect(calls).toEqual([]);
    const uncached = createLoader(recorder().fn, { cache: false });
    const again = recorder();
    const noMemo = createLoader(again.fn, { cache: false });
    await Promise.all([noMemo.load(1), noMemo.load(1)]);
    expect(again.calls).toEqual([[1, 1]]);
    expect(uncached.name).toBeNull();
  });

  test('cacheKeyFn lets objects be keys', async () => {
    const calls: { id: number }[][] = [];
    const loader = createLoader<{ id: number }, number, number>(
      (keys) => {
        calls.push([...keys]);
        return Promise.resolve(keys.map((k) => k.id));
      },
      { cacheKeyFn: (key) => key.id },
    );
    expect(await Promise.all([loader.load({ id: 1 }), loader.load({ id: 1 })])).toEqual([1, 1]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(1);
  });

  test('load(undefined) and loadMany(non-array) throw a typed error synchronously', () => {
    const loader = createLoader(recorder().fn);
    expect(() => loader.load(undefined as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_PORTCULLIS_DATALOADER_INVALID_KEY' }),
    );
    let thrown: unknown;
    try {
      void loader.loadMany(5 as unknown as number[]);
    } catch (error) {
      thrown = error;
    }
    expect(isInvalidLoadKeyError(thrown)).toBe(true);
  });
});

describe('maxBatchSize', () => {
  test('splits a tick of keys into batches of at most that many (default 1,000)', async () => {
    const { calls, fn } = recorder();
    const loader = createLoader(fn, { maxBatchSize: 3 });
    await loader.loadMany([1, 2, 3, 4, 5, 6, 7]);
    expect(calls).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    const big = recorder();
    await createLoader(big.fn).loadMany(Array.from({ length: 2_500 }, (_, i) => i));
    expect(big.calls.map((c) => c.length)).toEqual([1_000, 1_000, 500]);
  });
});

describe('maxKeys: the request budget', () => {
  test('the 50K-item case: one tick asking past the budget is refused whole, the backend sees nothing', async () => {
    const { calls, fn } = recorder();
    const events: TooManyKeysEvent[] = [];
    const loader = createLoader(fn, { name: 'products', maxKeys: 1_000, maxBatchSize: 100 });
    loader.events.on('tooManyKeys', (e) => events.push(e));
    const results = await loader.loadMany(Array.from({ length: 50_000 }, (_, i) => i));
    expect(calls).toEqual([]);
    expect(results.every(isTooManyKeysError)).toBe(true);
    expect(results[0]).toMatchObject({
      code: 'ERR_PORTCULLIS_DATALOADER_TOO_MANY_KEYS',
      maxKeys: 1_000,
      budget: 'loader',
      loader: 'products',
    });
    expect(events).toEqual([{ loader: 'products', maxKeys: 1_000, budget: 'loader', droppedKeys: 1_000 }]);
    expect(loader.stats()).toMatchObject({ refusedKeys: 50_000, batches: 0 });
  });

  test('keys loaded before the budget ran out keep their values; memo hits stay free', async () => {
    const { calls, fn } = recorder();
    const loader = createLoader(fn, { maxKeys: 2 });
    expect(await loader.loadMany([1, 2])).toEqual([10, 20]);
    await expect(loader.load(3)).rejects.toSatisfy(isTooManyKeysError);
    expect(await loader.load(1)).toBe(10);
    await expect(loader.load(4)).rejects.toSatisfy(isTooManyKeysError);
    expect(calls).toEqual([[1, 2]]);
  });

  test('a shared budget counts the keys of several loaders together', async () => {
    const budget = createKeyBudget(3);
    const users = recorder();
    const orders = recorder();
    const a = createLoader(users.fn, { budget });
    const b = createLoader(orders.fn, { budget });
    expect(await a.loadMany([1, 2])).toEqual([10, 20]);
    const refused = await Promise.allSettled([b.load(1), b.load(2)]);
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ budget: 'request', maxKeys: 3 });
    expect(orders.calls).toEqual([]);
  });

  test("a key the shared budget refuses is not charged to the loader's own budget", async () => {
    const budget = createKeyBudget(2);
    const first = recorder();
    const second = recorder();
    expect(await createLoader(first.fn, { budget }).loadMany([1, 2])).toEqual([10, 20]);
    const loader = createLoader(second.fn, { budget, maxKeys: 3 });
    const events: TooManyKeysEvent[] = [];
    loader.events.on('tooManyKeys', (e) => events.push(e));
    const results = await loader.loadMany([1, 2, 3, 4, 5]);
    // Had the refused keys been charged, the fourth would have exceeded maxKeys (budget 'loader').
    expect(results.map((r) => (r as { budget?: string }).budget)).toEqual(Array(5).fill('request'));
    expect(events.map((e) => e.budget)).toEqual(['request']);
    expect(second.calls).toEqual([]);
  });
});

describe('maxConcurrentBatches', () => {
  test('queues batches beyond the limit and runs them as slots free up, first in first out', async () => {
    const answers: { keys: readonly number[]; answer: ReturnType<typeof deferred<number[]>> }[] = [];
    const loader = createLoader<number, number>(
      (keys) => {
        const answer = deferred<number[]>();
        answers.push({ keys, answer });
        return answer.promise;
      },
      { maxBatchSize: 1, maxConcurrentBatches: 2 },
    );
    const loads = [1, 2, 3, 4].map((k) => loader.load(k));
    await tick();
    expect(answers.map((a) => a.keys)).toEqual([[1], [2]]);
    expect(loader.activeBatches).toBe(4);
    answers[1]?.answer.resolve([20]);
    await tick();
    expect(answers.map((a) => a.keys)).toEqual([[1], [2], [3]]);
    for (const a of answers) a.answer.resolve([a.keys[0] as number]);
    await tick();
    answers[3]?.answer.resolve([4]);
    expect(await Promise.all(loads)).toEqual([1, 20, 3, 4]);
  });

  test('a full queue refuses the batch with BatchQueueFullError, before the backend', async () => {
    const limiter = createBatchLimiter({ maxConcurrent: 1, maxQueue: 0 });
    const hang = deferred<number[]>();
    const calls: number[][] = [];
    const loader = createLoader<number, number>(
      (keys) => {
        calls.push([...keys]);
        return hang.promise;
      },
      { maxBatchSize: 1, limiter },
    );
    const first = loader.load(1);
    const second = loader.load(2);
    await expect(second).rejects.toSatisfy(isBatchQueueFullError);
    expect(calls).toEqual([[1]]);
    hang.resolve([1]);
    expect(await first).toBe(1);
    expect(limiter.running).toBe(0);
  });
});

describe('answers that do not fit the keys', () => {
  test.each([
    ['a shorter array', [10], 'length'],
    ['a longer array', [10, 20, 30], 'length'],
    ['not a list', { nope: true }, 'not-a-list'],
    ['null', null, 'not-a-list'],
  ])('%s fails every key of the batch with InvalidBatchResultError', async (_name, answer, reason) => {
    const loader = createLoader<number, number>(() => Promise.resolve(answer as number[]));
    const results = await loader.loadMany([1, 2]);
    for (const result of results) {
      expect(isInvalidBatchResultError(result)).toBe(true);
      expect(result).toMatchObject({ reason });
    }
  });

  test('a Map answers by key; a key it lacks fails alone', async () => {
    const loader = createLoader<string, string>((keys) =>
      Promise.resolve(new Map(keys.filter((k) => k !== 'b').map((k) => [k, k.toUpperCase()]))),
    );
    const [a, b, c] = await loader.loadMany(['a', 'b', 'c']);
    expect([a, c]).toEqual(['A', 'C']);
    expect(b).toMatchObject({ reason: 'missing' });
  });

  test('a batch function that throws synchronously or answers synchronously is handled', async () => {
    const throwing = createLoader<number, number>(() => {
      throw new Error('sync boom');
    });
    await expect(throwing.load(1)).rejects.toThrow('sync boom');
    const sync = createLoader<number, number>((keys) => keys.map((k) => k + 1));
    expect(await sync.load(1)).toBe(2);
  });
});

describe('isolateFailures', () => {
  test('splits a failed batch to fail only the key that makes it fail', async () => {
    const calls: number[][] = [];
    const loader = createLoader<number, number>(
      (keys) => {
        calls.push([...keys]);
        return keys.includes(5) ? Promise.reject(new Error('poison 5')) : Promise.resolve(keys.map((k) => k));
      },
      { isolateFailures: true, maxBatchSize: 8 },
    );
    const results = await loader.loadMany([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(results.filter((r) => r instanceof Error)).toHaveLength(1);
    expect(results[4]).toMatchObject({ message: 'poison 5' });
    expect(results.filter((r) => !(r instanceof Error))).toEqual([1, 2, 3, 4, 6, 7, 8]);
    // 1 + 2 per level for log2(8) = 3 levels.
    expect(calls.length).toBeLessThanOrEqual(7);
    expect(loader.stats().isolationCalls).toBe(calls.length - 1);
  });

  test('stops after the extra calls allowed; the rest keep the error', async () => {
    let calls = 0;
    const loader = createLoader<number, number>(
      () => {
        calls++;
        return Promise.reject(new Error('down'));
      },
      { isolateFailures: 2 },
    );
    const results = await loader.loadMany([1, 2, 3, 4]);
    expect(calls).toBe(3);
    expect(results.every((r) => r instanceof Error && r.message === 'down')).toBe(true);
  });
});

describe('signal', () => {
  test('aborting fails what waits, is queued and runs; aborts the running signals; later loads fail at once', async () => {
    const controller = new AbortController();
    const signals: AbortSignal[] = [];
    const loader = createLoader<number, number>(
      (_keys, { signal }) => {
        signals.push(signal);
        return new Promise<number[]>(() => undefined);
      },
      { signal: controller.signal, maxBatchSize: 1, maxConcurrentBatches: 1 },
    );
    const running = loader.load(1);
    const queued = loader.load(2);
    await tick();
    const waiting = loader.load(3);
    controller.abort(new Error('client left'));
    for (const load of [running, queued, waiting, loader.load(4)]) {
      await expect(load).rejects.toSatisfy(isLoaderAbortedError);
    }
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(loader.activeBatches).toBe(0);
    expect(loader.waitingKeys).toBe(0);
    await expect(running).rejects.toMatchObject({ cause: new Error('client left') });
  });
});

describe('events and stats', () => {
  test('a batch event per call with size, hits, wait and outcome', async () => {
    const events: BatchEvent[] = [];
    const { fn } = recorder(new Set([2]));
    const loader = createLoader(fn, { name: 'users' });
    loader.events.on('batch', (e) => events.push(e));
    await loader.loadMany([1, 2]);
    await loader.loadMany([1, 3]);
    expect(events).toEqual([
      expect.objectContaining({ loader: 'users', size: 2, hits: 0, outcome: 'loaded', failedKeys: 1, calls: 1 }),
      expect.objectContaining({ loader: 'users', size: 1, hits: 1, outcome: 'loaded', failedKeys: 0, calls: 1 }),
    ]);
    expect(loader.stats()).toMatchObject({ loads: 4, memoHits: 1, batches: 2, keysLoaded: 3, largestBatch: 2 });
  });
});
