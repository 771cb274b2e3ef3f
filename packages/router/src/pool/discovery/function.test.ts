import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { afterEach, beforeEach, describe, expect, vi } from 'vitest';
import { endpointLists } from '../../../test/fixtures/discovered-endpoints.js';
import { recordingListener } from '../../../test/fixtures/recording-listener.js';
import type { DiscoveryEvent } from '../../../test/fixtures/recording-listener.js';
import { isDiscoveryError, isInvalidDiscoveredEndpointError } from './errors.js';
import { functionDiscovery } from './function.js';
import type { FunctionDiscoveryOptions } from './function.js';
import { sameEndpoints } from './same-endpoints.js';
import type { DiscoveredEndpoint } from './source.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const A = [{ host: '10.0.0.1', port: 80 }];
const B = [{ host: '10.0.0.2', port: 80 }];

function errorOf(event: DiscoveryEvent | undefined) {
  if (event?.type !== 'error' || !isDiscoveryError(event.error)) throw new Error('expected a DiscoveryError');
  return event.error;
}

/** Runs fake time forward and lets the promises it settles run. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('functionDiscovery', () => {
  test('calls the function every intervalMs and sends an update only when the set changed', async () => {
    const answers = [A, [...A], B, B];
    let calls = 0;
    const source = functionDiscovery(() => Promise.resolve(answers[calls++] ?? B), { intervalMs: 1_000 });
    const recorder = recordingListener();
    const stop = source.subscribe(recorder.listener);
    await advance(0);
    expect(calls).toBe(1);
    await advance(999);
    expect(calls).toBe(1);
    await advance(1);
    expect(calls).toBe(2);
    await advance(2_000);
    expect(calls).toBe(4);
    expect(recorder.events).toEqual([
      { type: 'update', endpoints: A },
      { type: 'update', endpoints: B },
    ]);
    stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a function that throws or rejects: a "threw" error, the last set kept, another call after refreshOnErrorMs', async () => {
    const clock = new ManualClock();
    const script: (() => Promise<DiscoveredEndpoint[]>)[] = [
      () => Promise.resolve(A),
      () => Promise.reject(new Error('registry down')),
      () => {
        throw new Error('sync bug');
      },
      () => Promise.resolve(A),
    ];
    let calls = 0;
    const source = functionDiscovery(() => (script[calls++] ?? script[3])!(), {
      intervalMs: 10_000,
      refreshOnErrorMs: 500,
      clock,
    });
    const recorder = recordingListener();
    const stop = source.subscribe(recorder.listener);
    await advance(0);
    clock.advance(10_000);
    await advance(10_000);
    const first = errorOf(recorder.events[1]);
    expect(first).toMatchObject({ source: 'function', failure: 'threw', staleForMs: 10_000, retryInMs: 500 });
    expect((first.cause as Error).message).toBe('registry down');
    await advance(499);
    expect(calls).toBe(2);
    await advance(1);
    expect(errorOf(recorder.events[2]).failure).toBe('threw');
    await advance(500);
    expect(calls).toBe(4);
    // Back to A: nothing new to tell.
    expect(recorder.events.map((e) => e.type)).toEqual(['update', 'error', 'error']);
    stop();
  });

  test('a call that outlasts timeoutMs: a "timeout" error, its signal aborted, its late answer ignored', async () => {
    const signals: AbortSignal[] = [];
    const resolvers: ((value: DiscoveredEndpoint[]) => void)[] = [];
    const source = functionDiscovery(
      ({ signal }) => {
        signals.push(signal);
        return new Promise<DiscoveredEndpoint[]>((resolve) => resolvers.push(resolve));
      },
      { intervalMs: 10_000, timeoutMs: 2_000, refreshOnErrorMs: 1_000 },
    );
    const recorder = recordingListener();
    const stop = source.subscribe(recorder.listener);
    await advance(1_999);
    expect(recorder.events).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    await advance(1);
    expect(errorOf(recorder.events[0]).failure).toBe('timeout');
    expect(signals[0]?.aborted).toBe(true);
    resolvers[0]?.(A);
    await advance(0);
    expect(recorder.events).toHaveLength(1);
    // The retry answers in time.
    await advance(1_000);
    expect(signals).toHaveLength(2);
    resolvers[1]?.(B);
    await advance(0);
    expect(recorder.events.at(-1)).toEqual({ type: 'update', endpoints: B });
    expect(signals[1]?.aborted).toBe(false);
    stop();
  });

  test.each([
    ['not an array', { host: 'a', port: 1 }, 'invalid', -1],
    ['a bad port', [{ host: 'a', port: 0 }], 'invalid', 0],
    ['a duplicate', [...A, ...A], 'invalid', 1],
    ['undefined', undefined, 'invalid', -1],
    ['an empty list', [], 'empty', undefined],
  ])('a result that is %s: an error, never a crash, the last set kept', async (_title, bad, failure, index) => {
    let calls = 0;
    const source = functionDiscovery(() => (calls++ === 0 ? A : (bad as DiscoveredEndpoint[])), {
      intervalMs: 1_000,
    });
    const recorder = recordingListener();
    const stop = source.subscribe(recorder.listener);
    await advance(1_000);
    const error = errorOf(recorder.events[1]);
    expect(error.failure).toBe(failure);
    if (index !== undefined) {
      expect(isInvalidDiscoveredEndpointError(error.cause) && error.cause.index).toBe(index);
    }
    expect(recorder.events.filter((e) => e.type === 'update')).toHaveLength(1);
    stop();
  });

  test('one call at a time, one timer at a time', async () => {
    let running = 0;
    let most = 0;
    const source = functionDiscovery(
      async () => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => setTimeout(resolve, 700));
        running--;
        return A;
      },
      { intervalMs: 100, timeoutMs: 5_000 },
    );
    const stop = source.subscribe(recordingListener().listener);
    for (let i = 0; i < 50; i++) {
      await advance(50);
      // The refresh timer, or the call's timeout plus the function's own wait: never two of ours.
      expect(vi.getTimerCount()).toBeLessThanOrEqual(2);
    }
    expect(most).toBe(1);
    stop();
  });

  test('stop aborts the call in flight and drops its answer, even once a new subscription runs', async () => {
    const calls: { signal: AbortSignal; answer: (value: DiscoveredEndpoint[]) => void }[] = [];
    const source = functionDiscovery(
      ({ signal }) => new Promise<DiscoveredEndpoint[]>((answer) => calls.push({ signal, answer })),
    );
    const early = recordingListener();
    const stop = source.subscribe(early.listener);
    await advance(0);
    stop();
    expect(calls[0]?.signal.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    const later = recordingListener();
    const stopLater = source.subscribe(later.listener);
    calls[0]?.answer(A);
    await advance(0);
    expect(later.events).toEqual([]);
    calls[1]?.answer(B);
    await advance(0);
    expect(later.events).toEqual([{ type: 'update', endpoints: B }]);
    expect(early.events).toEqual([]);
    stopLater();
    await advance(60_000);
    expect(calls).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('aborting options.signal ends every subscription for good', async () => {
    const controller = new AbortController();
    let calls = 0;
    const source = functionDiscovery(
      () => {
        calls++;
        return A;
      },
      { intervalMs: 1_000, signal: controller.signal },
    );
    const recorder = recordingListener();
    source.subscribe(recorder.listener);
    await advance(0);
    controller.abort();
    expect(vi.getTimerCount()).toBe(0);
    const late = recordingListener();
    source.subscribe(late.listener)();
    await advance(10_000);
    expect(calls).toBe(1);
    expect(late.events).toEqual([]);
  });

  test.prop(
    [
      fc.array(
        fc.oneof(
          { weight: 3, arbitrary: endpointLists.map((list) => ({ kind: 'list' as const, list })) },
          { weight: 2, arbitrary: fc.constant({ kind: 'again' as const }) },
          { weight: 1, arbitrary: fc.constant({ kind: 'throw' as const }) },
          { weight: 1, arbitrary: fc.constant({ kind: 'invalid' as const }) },
        ),
        { minLength: 1, maxLength: 25 },
      ),
    ],
    { numRuns: 150 },
  )(
    'updates are exactly the changes among the good answers, in order; every bad answer is one error',
    async (steps) => {
      let previous: DiscoveredEndpoint[] = A;
      const answers = steps.map((step) => {
        if (step.kind === 'list') previous = step.list;
        // The previous good list again, shuffled: no change.
        if (step.kind === 'again') return { kind: 'list' as const, list: [...previous].reverse() };
        return step;
      });
      let call = 0;
      const source = functionDiscovery(
        () => {
          const step = answers[call++];
          if (step === undefined || step.kind === 'list') return step?.list ?? A;
          if (step.kind === 'throw') throw new Error('scripted');
          return [{ host: 'a', port: -1 }];
        },
        { intervalMs: 1_000, refreshOnErrorMs: 1_000 },
      );
      const recorder = recordingListener();
      const stop = source.subscribe(recorder.listener);
      for (let i = 0; i < answers.length; i++) await advance(i === 0 ? 0 : 1_000);
      stop();

      const expected: string[] = [];
      let last: readonly DiscoveredEndpoint[] | undefined;
      for (const answer of answers) {
        if (answer.kind !== 'list') expected.push(answer.kind === 'throw' ? 'threw' : 'invalid');
        else if (last === undefined || !sameEndpoints(last, answer.list)) {
          expected.push('update');
          last = answer.list;
        }
      }
      expect(recorder.events.map((e) => (e.type === 'update' ? 'update' : errorOf(e).failure))).toEqual(expected);
    },
  );

  test.each([
    ['fn', () => functionDiscovery('nope' as never)],
    ['intervalMs', () => functionDiscovery(() => A, { intervalMs: 0 })],
    ['timeoutMs', () => functionDiscovery(() => A, { timeoutMs: Number.NaN })],
    ['refreshOnErrorMs', () => functionDiscovery(() => A, { refreshOnErrorMs: 2 ** 31 })],
    ['signal', () => functionDiscovery(() => A, { signal: {} as AbortSignal })],
    ['clock', () => functionDiscovery(() => A, { clock: { now: 1 } } as unknown as FunctionDiscoveryOptions)],
  ])('refuses a bad %s', (option, build) => {
    let error: unknown;
    try {
      build();
    } catch (thrown) {
      error = thrown;
    }
    expect(isInvalidOptionError(error) && error.option).toBe(option);
  });
});
