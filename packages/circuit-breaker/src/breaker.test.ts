import { ManualClock } from '@portcullis/testkit';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createBreaker } from './breaker.js';
import type { BreakerOptions } from './breaker-options.js';
import type { StateChangeEvent } from './breaker-events.js';
import { BrokenCircuitError, isBrokenCircuitError } from './errors.js';
import { consecutiveFailures } from './trip/consecutive-failures.js';
import { failureRate } from './trip/failure-rate.js';
import { slowCallRate } from './trip/slow-call-rate.js';

const START = 1_700_000_000_000;
const fail = (): Promise<never> => Promise.reject(new Error('upstream failed'));
const ok = (): Promise<string> => Promise.resolve('ok');

function setup(options: BreakerOptions = {}) {
  const clock = new ManualClock(START);
  const breaker = createBreaker({ name: 'orders', clock, ...options });
  const changes: StateChangeEvent[] = [];
  breaker.events.on('stateChange', (e) => changes.push(e));
  return { clock, breaker, changes };
}

async function failTimes(breaker: { execute: (fn: () => Promise<never>) => Promise<unknown> }, n: number) {
  for (let i = 0; i < n; i++) await breaker.execute(fail).catch(() => undefined);
}

/** A call that stays in flight until finished. */
function hanging(): { fn: () => Promise<string>; finish: (failed: boolean) => void } {
  let settle: ((failed: boolean) => void) | undefined;
  return {
    fn: () =>
      new Promise<string>((resolve, reject) => {
        settle = (failed) => {
          if (failed) reject(new Error('late failure'));
          else resolve('late');
        };
      }),
    finish: (failed) => settle?.(failed),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('breaker', () => {
  test('opens after the consecutive failures, then refuses fast without running the function', async () => {
    const { breaker, changes } = setup({ trip: consecutiveFailures(3) });
    await failTimes(breaker, 2);
    expect(await breaker.execute(ok)).toBe('ok'); // a success resets the streak
    await failTimes(breaker, 3);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual([
      expect.objectContaining({ from: 'closed', to: 'open', reason: 'tripped', policy: 'consecutiveFailures' }),
    ]);
    const run = vi.fn(ok);
    const error: unknown = await breaker.execute(run).catch((e: unknown) => e);
    expect(run).not.toHaveBeenCalled();
    expect(isBrokenCircuitError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'ERR_PORTCULLIS_BROKEN_CIRCUIT',
      breaker: 'orders',
      state: 'open',
      retryAt: START + 30_000,
    });
  });

  test('a refusal is cheap: one shared, frozen error per open period, with no stack frames', async () => {
    const { breaker } = setup({ trip: consecutiveFailures(1) });
    await failTimes(breaker, 1);
    const first = await breaker.execute(ok).catch((e: unknown) => e);
    const second = await breaker.execute(ok).catch((e: unknown) => e);
    expect(second).toBe(first);
    expect(first).toBeInstanceOf(BrokenCircuitError);
    expect(Object.isFrozen(first)).toBe(true);
    expect((first as BrokenCircuitError).stack).not.toMatch(/\n\s+at /);
    expect(() => breaker.acquire()).toThrow(first);
  });

  describe('failure rate', () => {
    test('needs the minimum number of calls before it trips', async () => {
      const { breaker } = setup({ trip: failureRate({ threshold: 0.5, minimumCalls: 4, window: { calls: 10 } }) });
      await failTimes(breaker, 3);
      expect(breaker.state).toBe('closed'); // 100% failures, but only 3 calls
      await breaker.execute(ok);
      expect(breaker.state).toBe('open'); // 3 of 4 = 75% >= 50%, decided after the 4th call
    });

    test('count window: only the last n calls count', async () => {
      const { breaker } = setup({ trip: failureRate({ threshold: 0.5, minimumCalls: 4, window: { calls: 4 } }) });
      for (const failed of [true, false, false, false, true, false, false]) {
        await breaker.execute(failed ? fail : ok).catch(() => undefined);
      }
      // the last 4: false, true, false, false → 25%
      expect(breaker.state).toBe('closed');
      expect(breaker.snapshot().policies[0]).toMatchObject({ policy: 'failureRate', value: 0.25, calls: 4 });
    });

    test('time window: failures older than the window are forgotten', async () => {
      const { breaker, clock } = setup({
        trip: failureRate({ threshold: 0.5, minimumCalls: 4, window: { durationMs: 10_000, buckets: 10 } }),
      });
      await failTimes(breaker, 3);
      clock.advance(10_000); // the bucket of those 3 failures has left the window
      await failTimes(breaker, 1);
      for (let i = 0; i < 3; i++) await breaker.execute(ok);
      expect(breaker.state).toBe('closed'); // 1 of 4
      expect(breaker.snapshot().policies[0]).toMatchObject({ value: 0.25, calls: 4 });
    });
  });

  test('slow-call rate: slow successes open the breaker ("p99 > 2 s")', async () => {
    const { breaker, clock } = setup({ trip: slowCallRate({ slowerThanMs: 2_000, threshold: 0.6, minimumCalls: 2 }) });
    const slow = (): Promise<string> => {
      clock.advance(2_001);
      return Promise.resolve('slow but fine');
    };
    await breaker.execute(slow);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed'); // 1 of 2 slow
    await breaker.execute(slow);
    expect(breaker.state).toBe('open'); // 2 of 3
  });

  test('open duration grows with consecutive opens, capped, and resets when the breaker closes', async () => {
    const { breaker, clock, changes } = setup({
      trip: consecutiveFailures(1),
      openDuration: { initialMs: 1_000, multiplier: 2, maxMs: 3_000 },
    });
    await failTimes(breaker, 1);
    const opens: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { openUntil } = breaker.snapshot();
      opens.push((openUntil as number) - clock.now());
      clock.advance((openUntil as number) - clock.now());
      await failTimes(breaker, 1); // the probe fails: open again, for longer
    }
    expect(opens).toEqual([1_000, 2_000, 3_000, 3_000]);
    clock.advance(3_000);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect((breaker.snapshot().openUntil as number) - clock.now()).toBe(1_000);
    expect(changes.map((c) => c.reason)).toEqual([
      'tripped',
      'open-elapsed',
      'probe-failed',
      'open-elapsed',
      'probe-failed',
      'open-elapsed',
      'probe-failed',
      'open-elapsed',
      'probe-failed',
      'open-elapsed',
      'probes-succeeded',
      'tripped',
    ]);
  });

  test('half-open admits the configured probes, refuses the rest fast, and closes after enough successes', async () => {
    const { breaker, clock } = setup({
      trip: consecutiveFailures(1),
      openDuration: 1_000,
      halfOpen: { maxProbes: 2, successesToClose: 3 },
    });
    await failTimes(breaker, 1);
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open'); // decided on read, no timer
    const a = hanging();
    const b = hanging();
    const pa = breaker.execute(a.fn);
    const pb = breaker.execute(b.fn);
    const refused: unknown = await breaker.execute(ok).catch((e: unknown) => e);
    expect(refused).toMatchObject({ state: 'half-open', retryAt: undefined });
    a.finish(false);
    b.finish(false);
    await Promise.all([pa, pb]);
    expect(breaker.state).toBe('half-open'); // 2 of 3 successes
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  test('a failed probe reopens the breaker', async () => {
    const { breaker, clock } = setup({ trip: consecutiveFailures(1), openDuration: 1_000 });
    await failTimes(breaker, 1);
    clock.advance(1_000);
    await failTimes(breaker, 1);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', openUntil: clock.now() + 1_000 });
  });

  test('a hanging probe cannot wedge the breaker: after maxWaitMs it counts as failed, and its late outcome is ignored', async () => {
    const { breaker, clock, changes } = setup({
      trip: consecutiveFailures(1),
      openDuration: 1_000,
      halfOpen: { maxWaitMs: 5_000 },
    });
    await failTimes(breaker, 1);
    clock.advance(1_000);
    const probe = hanging();
    const late = breaker.execute(probe.fn);
    clock.advance(4_999);
    expect(breaker.state).toBe('half-open');
    clock.advance(1);
    expect(breaker.state).toBe('open');
    expect(changes.at(-1)).toMatchObject({
      reason: 'probe-timed-out',
      at: clock.now(),
      openUntil: clock.now() + 1_000,
    });
    clock.advance(1_000);
    const next = hanging();
    const nextCall = breaker.execute(next.fn); // the new half-open period's probe
    probe.finish(false); // the old probe's success must not close the breaker
    await late;
    expect(breaker.state).toBe('half-open');
    next.finish(false);
    await nextCall;
    expect(breaker.state).toBe('closed');
  });

  test('isolate refuses everything until reset; reset closes and forgets', async () => {
    const { breaker } = setup({ trip: consecutiveFailures(2) });
    await failTimes(breaker, 1);
    breaker.isolate();
    expect(breaker.state).toBe('isolated');
    expect(breaker.retryAfterMs()).toBe(Infinity);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ state: 'isolated', retryAt: undefined });
    breaker.reset();
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('closed'); // the failure before isolate was forgotten
  });

  test('isFailure decides which errors count (4xx do not); those that do not count as successes', async () => {
    class HttpError extends Error {
      constructor(readonly status: number) {
        super(`HTTP ${String(status)}`);
      }
    }
    const { breaker } = setup({
      trip: consecutiveFailures(2),
      isFailure: (error) => !(error instanceof HttpError && error.status < 500),
    });
    const status = (s: number) => () => Promise.reject(new HttpError(s));
    await breaker.execute(status(503)).catch(() => undefined);
    await breaker.execute(status(404)).catch(() => undefined);
    await breaker.execute(status(503)).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    await breaker.execute(status(500)).catch(() => undefined);
    expect(breaker.state).toBe('open');
  });

  test('isFailureResult counts results as failures (a Response with status 503)', async () => {
    const { breaker } = setup({
      trip: consecutiveFailures(2),
      isFailureResult: (result) => (result as { status: number }).status >= 500,
    });
    await breaker.execute(() => ({ status: 503 }));
    expect(breaker.state).toBe('closed');
    await breaker.execute(() => Promise.resolve({ status: 502 }));
    expect(breaker.state).toBe('open');
  });

  test("the caller's own abort is not counted, and an aborted signal does not run the function", async () => {
    const { breaker } = setup({ trip: consecutiveFailures(1) });
    const controller = new AbortController();
    const call = breaker.execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            reject(signal.reason as Error);
          });
        }),
      { signal: controller.signal },
    );
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toThrow('caller gave up');
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', counters: { calls: 1, failures: 0, ignored: 1 } });
    const run = vi.fn(ok);
    await expect(breaker.execute(run, { signal: controller.signal })).rejects.toThrow('caller gave up');
    expect(run).not.toHaveBeenCalled();
  });

  test('a synchronous throw is a failure and becomes a rejection', async () => {
    const { breaker } = setup({ trip: consecutiveFailures(1) });
    await expect(
      breaker.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(breaker.state).toBe('open');
  });

  test('emits a rejection event per refusal, and snapshots counters and unhealthySince across cycles', async () => {
    const { breaker, clock } = setup({ trip: consecutiveFailures(1), openDuration: 1_000 });
    const rejections: unknown[] = [];
    breaker.events.on('rejection', (e) => rejections.push(e));
    await breaker.execute(ok);
    await failTimes(breaker, 1);
    const openedAt = clock.now();
    await breaker.execute(ok).catch(() => undefined);
    clock.advance(1_000);
    await failTimes(breaker, 1); // probe fails
    expect(rejections).toEqual([{ breaker: 'orders', state: 'open' }]);
    expect(breaker.snapshot()).toEqual({
      name: 'orders',
      state: 'open',
      since: openedAt + 1_000,
      unhealthySince: openedAt,
      openUntil: openedAt + 2_000,
      consecutiveOpens: 2,
      probesInFlight: 0,
      counters: { calls: 3, successes: 1, failures: 2, ignored: 0, rejections: 1 },
      policies: [{ policy: 'consecutiveFailures', value: 1, threshold: 1, calls: 1, minimumCalls: 1 }],
    });
    clock.advance(2_000);
    await breaker.execute(ok);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', unhealthySince: undefined });
  });

  test('acquire: a permit reports one outcome; later reports are ignored', () => {
    const { breaker } = setup({ trip: consecutiveFailures(2) });
    const permit = breaker.acquire();
    permit.failure();
    permit.failure();
    expect(breaker.snapshot().counters).toMatchObject({ failures: 1 });
    breaker.acquire().failure();
    expect(breaker.state).toBe('open');
    expect(() => breaker.acquire()).toThrow(BrokenCircuitError);
  });

  test('holds no timer, idle, tripping, open, half-open or hanging (all transitions are lazy)', async () => {
    vi.useFakeTimers();
    const { breaker, clock } = setup({
      trip: [consecutiveFailures(1), failureRate({ window: { durationMs: 1_000 } })],
      openDuration: 1_000,
      halfOpen: { maxWaitMs: 1_000 },
    });
    expect(vi.getTimerCount()).toBe(0);
    await failTimes(breaker, 1);
    expect(vi.getTimerCount()).toBe(0);
    clock.advance(1_000);
    const probe = hanging();
    const call = breaker.execute(probe.fn);
    expect(vi.getTimerCount()).toBe(0);
    clock.advance(1_000);
    expect(breaker.state).toBe('open');
    breaker.dispose();
    expect(vi.getTimerCount()).toBe(0);
    probe.finish(true);
    await call.catch(() => undefined);
  });
});

describe('half-open probes are bounded', () => {
  test.each([1_001, 2 ** 31, Number.MAX_SAFE_INTEGER])(
    'halfOpen.maxProbes %d is refused with an InvalidOptionError, before anything is allocated',
    (maxProbes) => {
      expect(() => createBreaker({ halfOpen: { maxProbes } })).toThrow(
        expect.objectContaining({ code: 'ERR_PORTCULLIS_INVALID_OPTION', option: 'halfOpen.maxProbes' }),
      );
    },
  );

  test('1000 probes may run at once; the next is refused', () => {
    const { breaker, clock } = setup({ trip: consecutiveFailures(1), halfOpen: { maxProbes: 1_000 } });
    breaker.acquire().failure();
    clock.advance(30_000);
    const permits = Array.from({ length: 1_000 }, () => breaker.acquire());
    expect(breaker.snapshot().probesInFlight).toBe(1_000);
    expect(() => breaker.acquire()).toThrow(BrokenCircuitError);
    permits[0]?.ignore();
    expect(() => breaker.acquire()).not.toThrow();
  });
});

describe('a throwing isFailure or isFailureResult', () => {
  const predicateError = new Error('isFailure has a bug');
  const throwing = (): boolean => {
    throw predicateError;
  };

  test('closed, a function that throws synchronously: execute returns a promise rejecting with the predicate error', async () => {
    const { breaker } = setup({ trip: consecutiveFailures(1), isFailure: throwing });
    let call: Promise<unknown> | undefined;
    expect(() => {
      call = breaker.execute(() => {
        throw new Error('upstream');
      });
    }).not.toThrow();
    await expect(call).rejects.toBe(predicateError);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', counters: { calls: 1, ignored: 1, failures: 0 } });
  });

  test.each<[string, BreakerOptions, () => Promise<unknown>, { signal?: AbortSignal }]>([
    ['isFailure, closed', { isFailure: throwing }, fail, {}],
    ['isFailure, closed with a signal', { isFailure: throwing }, fail, { signal: new AbortController().signal }],
    ['isFailureResult, closed', { isFailureResult: throwing }, ok, {}],
    ['isFailureResult, timed', { isFailureResult: throwing, trip: slowCallRate({ slowerThanMs: 10 }) }, ok, {}],
  ])('%s: the call rejects with the predicate error, counted as ignored', async (_, options, fn, executeOptions) => {
    const { breaker } = setup({ trip: consecutiveFailures(1), ...options });
    await expect(breaker.execute(fn, executeOptions)).rejects.toBe(predicateError);
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', counters: { calls: 1, ignored: 1 } });
  });

  test.each<[string, BreakerOptions, () => Promise<unknown>]>([
    ['isFailure', { isFailure: throwing }, fail],
    ['isFailureResult', { isFailureResult: throwing }, ok],
  ])('%s on a probe: the probe rejects with its error and frees its slot at once', async (_, options, fn) => {
    const { breaker, clock } = setup({ trip: consecutiveFailures(1), halfOpen: { maxWaitMs: 60_000 }, ...options });
    breaker.acquire().failure();
    clock.advance(30_000);
    await expect(breaker.execute(fn)).rejects.toBe(predicateError);
    expect(breaker.snapshot()).toMatchObject({ state: 'half-open', probesInFlight: 0 });
    const next = vi.fn(() => Promise.resolve('probe ran'));
    // Not refused: the slot is free, not held until maxWaitMs.
    await breaker.execute(next).catch(() => undefined);
    expect(next).toHaveBeenCalledOnce();
  });
});
