import { afterEach, describe, expect, test, vi } from 'vitest';
import { isBatchTimeoutError } from './errors.js';
import type { BatchEvent, TimeoutEvent } from './events.js';
import { createLoader } from './loader.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A batch function that never answers, and the signals it was given. */
function hung(): {
  signals: AbortSignal[];
  fn: (keys: readonly number[], info: { signal: AbortSignal }) => Promise<never>;
} {
  const signals: AbortSignal[] = [];
  return {
    signals,
    fn: (_keys, { signal }) => {
      signals.push(signal);
      return new Promise<never>(() => undefined);
    },
  };
}

describe('batch timeout', () => {
  test('a hung batch function gets its signal aborted at the deadline; its keys fail with BatchTimeoutError; no timer remains', async () => {
    vi.useFakeTimers();
    const { signals, fn } = hung();
    const timeouts: TimeoutEvent[] = [];
    const loader = createLoader(fn, { name: 'orders', timeoutMs: 2_000 });
    loader.events.on('timeout', (e) => timeouts.push(e));
    const results = loader.loadMany([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const outcomes = await results;
    expect(outcomes.every(isBatchTimeoutError)).toBe(true);
    expect(outcomes[0]).toMatchObject({ code: 'ERR_PORTCULLIS_DATALOADER_TIMEOUT', timeoutMs: 2_000, deadline: false });
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toBe(outcomes[0]);
    expect(timeouts).toEqual([{ loader: 'orders', size: 3, timeoutMs: 2_000 }]);
    expect(loader.stats()).toMatchObject({ timeouts: 1, failedBatches: 1 });
    expect(loader.activeBatches).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('clears the timer as soon as the batch answers, fails or is aborted', async () => {
    vi.useFakeTimers();
    const fast = createLoader<number, number>((keys) => Promise.resolve([...keys]), { timeoutMs: 10_000 });
    expect(await fast.load(1)).toBe(1);
    const failing = createLoader<number, number>(() => Promise.reject(new Error('boom')), { timeoutMs: 10_000 });
    await expect(failing.load(1)).rejects.toThrow('boom');
    const controller = new AbortController();
    const aborted = createLoader(hung().fn, { timeoutMs: 10_000, signal: controller.signal });
    const pending = aborted.load(1).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await pending;
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a late answer or failure after the timeout changes nothing and is not an unhandled rejection', async () => {
    vi.useFakeTimers();
    const settle: { resolve: (value: number[]) => void; reject: (error: Error) => void }[] = [];
    const loader = createLoader<number, number>(
      () => new Promise<number[]>((resolve, reject) => settle.push({ resolve, reject })),
      { timeoutMs: 100 },
    );
    const first = loader.loadMany([1, 2]);
    await vi.advanceTimersByTimeAsync(100);
    expect((await first).every(isBatchTimeoutError)).toBe(true);
    settle[0]?.resolve([10, 20]);
    await vi.advanceTimersByTimeAsync(0);
    // The keys timed out, so they left the memo: the next load asks again.
    const again = loader.load(1).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(settle).toHaveLength(2);
    settle[1]?.reject(new Error('late failure'));
    await vi.advanceTimersByTimeAsync(100);
    expect(await again).toMatchObject({ message: 'late failure' });
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a deadline gives each batch only the time left, and fails without a call a batch that starts after it', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { signals, fn } = hung();
    const events: BatchEvent[] = [];
    const loader = createLoader(fn, {
      deadline: Date.now() + 500,
      timeoutMs: 2_000,
      maxBatchSize: 1,
      maxConcurrentBatches: 1,
    });
    loader.events.on('batch', (e) => events.push(e));
    const results = loader.loadMany([1, 2]);
    await vi.advanceTimersByTimeAsync(499);
    expect(signals.map((s) => s.aborted)).toEqual([false]);
    await vi.advanceTimersByTimeAsync(1);
    const [first, second] = await results;
    expect(first).toMatchObject({ deadline: true, timeoutMs: 500 });
    expect(second).toMatchObject({ deadline: true, timeoutMs: 0 });
    expect(signals).toHaveLength(1);
    expect(events.map((e) => [e.outcome, e.calls])).toEqual([
      ['timeout', 1],
      ['timeout', 0],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
