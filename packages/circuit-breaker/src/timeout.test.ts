import { afterEach, describe, expect, test, vi } from 'vitest';
import { createBreaker } from './breaker.js';
import { bulkhead } from './bulkhead.js';
import { isPolicyDisposedError, isTimeoutError, TimeoutError } from './errors.js';
import { pipeline } from './pipeline.js';
import { retry } from './retry/retry.js';
import { timeout } from './timeout.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A protected function that never settles on its own, and records the signal it got. */
function ignoring(): { fn: (ctx: { signal: AbortSignal }) => Promise<never>; signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    signals,
    fn: ({ signal }) => {
      signals.push(signal);
      return new Promise<never>(() => undefined);
    },
  };
}

describe('timeout', () => {
  test("aborts the protected function's signal with a TimeoutError and rejects on time, even if the function ignores it", async () => {
    vi.useFakeTimers();
    const policy = timeout({ ms: 2_000 });
    const timeouts: unknown[] = [];
    policy.events.on('timeout', (e) => timeouts.push(e));
    const { fn, signals } = ignoring();
    const result = policy.execute(fn).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(signals[0]?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await result;
    expect(isTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_PORTCULLIS_TIMEOUT', timeoutMs: 2_000 });
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toBe(error);
    expect(timeouts).toEqual([{ policy: 'timeout', timeoutMs: 2_000 }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a fetch given the signal is really cancelled', async () => {
    const { createServer } = await import('node:http');
    let closed = false;
    const server = createServer((req) => {
      req.socket.on('close', () => (closed = true));
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    try {
      // Long enough for the request to reach the server even on a loaded machine: only then is
      // there a socket whose closing shows the cancellation.
      const policy = timeout({ ms: 500 });
      await expect(
        policy.execute(({ signal }) => fetch(`http://127.0.0.1:${String(port)}/`, { signal })),
      ).rejects.toBeInstanceOf(TimeoutError);
      await vi.waitFor(
        () => {
          expect(closed).toBe(true);
        },
        { timeout: 10_000 },
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('clears its timer as soon as the call settles', async () => {
    vi.useFakeTimers();
    const policy = timeout({ ms: 10_000 });
    expect(await policy.execute(() => 'fast')).toBe('fast');
    await expect(policy.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(vi.getTimerCount()).toBe(0);
  });

  test("passes the caller's abort on to the function and rejects with its reason", async () => {
    vi.useFakeTimers();
    const policy = timeout({ ms: 10_000 });
    const controller = new AbortController();
    const { fn, signals } = ignoring();
    const result = policy.execute(fn, { signal: controller.signal });
    controller.abort(new Error('caller left'));
    await expect(result).rejects.toThrow('caller left');
    expect(signals[0]?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('no timer is left', () => {
  test('after disposing a pipeline with calls in a backoff, in flight under a timeout and queued in a bulkhead', async () => {
    vi.useFakeTimers();
    const policy = pipeline(
      retry({ maxAttempts: 3, backoff: { initialMs: 60_000 }, budget: false }),
      createBreaker({ name: 'orders' }),
      timeout({ ms: 30_000 }),
      bulkhead({ maxConcurrent: 1, maxQueue: 5 }),
    );
    const { fn, signals } = ignoring();
    let failures = 0;
    const calls = [
      policy.execute(fn),
      policy.execute(fn),
      policy.execute(() => Promise.reject(new Error(`failure ${String(++failures)}`))),
    ].map((p) => p.catch((error: unknown) => error));
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    policy.dispose();
    const errors = await Promise.all(calls);
    expect(errors.every(isPolicyDisposedError)).toBe(true);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('when idle: policies schedule nothing until a call needs it', async () => {
    vi.useFakeTimers();
    const policy = pipeline(
      retry({ maxAttempts: 3 }),
      createBreaker(),
      timeout({ ms: 1_000 }),
      bulkhead({ maxConcurrent: 2 }),
    );
    expect(vi.getTimerCount()).toBe(0);
    expect(await policy.execute(() => 'ok')).toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
  });
});
