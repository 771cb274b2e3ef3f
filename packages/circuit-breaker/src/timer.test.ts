import { fc, test } from '@fast-check/vitest';
import { afterEach, describe, expect, vi } from 'vitest';
import { isPolicyDisposedError, isTimeoutError } from './errors.js';
import { retry } from './retry/retry.js';
import { timeout } from './timeout.js';
import { MAX_TIMER_MS, startTimer } from './timer.js';

// vitest's fake timers behave as Node's: a delay above 2^31 − 1 ms fires after 1 ms. These tests
// check that no wait of the package is cut short that way.

afterEach(() => {
  vi.useRealTimers();
});

const DAY = 86_400_000;

describe('waits of 2^31 ms and more', () => {
  test.prop([fc.oneof(fc.constantFrom(MAX_TIMER_MS, 2 ** 31, 25 * DAY), fc.integer({ min: 1, max: 2 ** 36 }))], {
    numRuns: 100,
  })('a timer fires exactly when due, never before', async (ms) => {
    vi.useFakeTimers();
    let fired = 0;
    startTimer(() => fired++, ms);
    await vi.advanceTimersByTimeAsync(ms - 1);
    expect(fired).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toBe(1);
    await vi.advanceTimersByTimeAsync(4 * MAX_TIMER_MS);
    expect(fired).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });

  test('a cancelled long timer leaves no timer, in any link of its chain', async () => {
    vi.useFakeTimers();
    let fired = false;
    const cancel = startTimer(() => (fired = true), 3 * 2 ** 31);
    await vi.advanceTimersByTimeAsync(2 ** 32);
    expect(vi.getTimerCount()).toBe(1);
    cancel();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(2 ** 33);
    expect(fired).toBe(false);
  });

  test('timeout({ ms: 2 ** 31 }) does not reject early', async () => {
    vi.useFakeTimers();
    const policy = timeout({ ms: 2 ** 31 });
    let settled: unknown;
    void policy.execute(() => new Promise<never>(() => undefined)).catch((error: unknown) => (settled = error));
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(isTimeoutError(settled)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('disposing a timeout during a long wait leaves no timer', async () => {
    vi.useFakeTimers();
    const policy = timeout({ ms: 40 * DAY });
    const call = policy.execute(() => new Promise<never>(() => undefined)).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(30 * DAY);
    policy.dispose();
    expect(isPolicyDisposedError(await call)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('retry honours a 25-day Retry-After under a 30-day cap: the next attempt runs after 25 days, not at once', async () => {
    vi.useFakeTimers();
    const policy = retry({ maxAttempts: 2, maxRetryAfterMs: 30 * DAY, budget: false });
    let attempts = 0;
    const result = policy
      .execute(() => {
        attempts++;
        return attempts === 1
          ? Promise.reject(Object.assign(new Error('overloaded'), { retryAfterMs: 25 * DAY }))
          : Promise.resolve('served');
      })
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(25 * DAY - 1);
    expect(attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toBe(2);
    expect(await result).toBe('served');
  });

  test('retry with backoff.initialMs: 2 ** 31 waits 2^31 ms before the second attempt', async () => {
    vi.useFakeTimers();
    const policy = retry({ maxAttempts: 2, backoff: { initialMs: 2 ** 31, jitter: 'none' }, budget: false });
    let attempts = 0;
    const result = policy
      .execute(() => {
        attempts++;
        return Promise.reject(new Error('down'));
      })
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toBe(2);
    expect(await result).toMatchObject({ message: 'down' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('what a retry policy is told at run time', () => {
  test('a retryAfter answer that is not a number >= 0 is no answer: the backoff applies', async () => {
    vi.useFakeTimers();
    for (const answer of [NaN, -1, '5', null]) {
      const delays: number[] = [];
      const policy = retry({
        maxAttempts: 2,
        backoff: { initialMs: 100, jitter: 'none' },
        retryAfter: () => answer as number,
        budget: false,
      });
      policy.events.on('retry', (e) => delays.push(e.delayMs));
      const result = policy.execute(() => Promise.reject(new Error('down'))).catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(99);
      expect(delays).toEqual([100]);
      await vi.runAllTimersAsync();
      expect(await result).toMatchObject({ message: 'down' });
    }
  });

  test('a random source outside [0, 1) rejects the call with an InvalidOptionError naming random', async () => {
    for (const value of [1, 5, -0.5, NaN]) {
      const policy = retry({ maxAttempts: 2, random: () => value, budget: false });
      await expect(policy.execute(() => Promise.reject(new Error('down')))).rejects.toMatchObject({
        code: 'ERR_PORTCULLIS_INVALID_OPTION',
        option: 'random',
      });
    }
  });
});
