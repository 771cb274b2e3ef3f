import { ManualClock } from '@portcullis/testkit';
import { describe, expect, test } from 'vitest';
import { isCheckTimeoutError } from './errors.js';
import { createHealth } from './health.js';

describe('a check run', () => {
  test('past its timeout it fails, and its signal is aborted with a CheckTimeoutError', async () => {
    let seen: AbortSignal | undefined;
    const health = createHealth({
      checks: [
        {
          name: 'slow',
          timeoutMs: 10,
          check: (signal) => {
            seen = signal;
            return new Promise((resolve) => {
              signal.addEventListener('abort', () => {
                resolve('pass');
              });
            });
          },
        },
      ],
    });
    const report = await health.run('readiness', { deadlineMs: 5_000 });
    expect(report.status).toBe('fail');
    expect(report.checks[0]).toMatchObject({ status: 'fail', reason: 'timeout' });
    expect(report.checks[0]?.outcome.output).toContain('timed out after 10 ms');
    expect(seen?.aborted).toBe(true);
    expect(isCheckTimeoutError(seen?.reason)).toBe(true);
  });

  test('a function that ignores its signal is never called twice at once: later runs fail as busy', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    let finish: (() => void) | undefined;
    const health = createHealth({
      clock,
      checks: [
        {
          name: 'stuck',
          timeoutMs: 5,
          ttlMs: 0,
          check: () => {
            calls++;
            return new Promise<void>((resolve) => {
              finish = resolve;
            });
          },
        },
      ],
    });
    expect((await health.run('readiness')).checks[0]).toMatchObject({ reason: 'timeout' });
    expect((await health.run('readiness')).checks[0]).toMatchObject({ reason: 'busy', status: 'fail' });
    expect(calls).toBe(1);
    finish?.();
    await new Promise((resolve) => setImmediate(resolve));
    const report = await health.run('readiness', { deadlineMs: 2_000 });
    expect(calls).toBe(2);
    expect(report.checks[0]).toMatchObject({ reason: 'timeout' });
  });

  test('throwing, rejecting and answering nonsense fail; the message is kept as output', async () => {
    const health = createHealth({
      checks: [
        {
          name: 'throws',
          check: () => {
            throw new Error('connect ECONNREFUSED 10.1.2.3:5432');
          },
        },
        { name: 'rejects', check: () => Promise.reject(new Error('boom')) },
        { name: 'nonsense', check: () => ({ status: 'ok' }) as unknown as 'pass' },
        { name: 'bigint', check: () => ({ observedValue: 10n }) },
      ],
    });
    const { checks } = await health.run('readiness');
    expect(checks.map((c) => [c.name, c.status, c.reason])).toEqual([
      ['throws', 'fail', 'error'],
      ['rejects', 'fail', 'error'],
      ['nonsense', 'fail', undefined],
      ['bigint', 'pass', undefined],
    ]);
    expect(checks[0]?.outcome.output).toBe('connect ECONNREFUSED 10.1.2.3:5432');
    // A value JSON cannot carry is dropped, with a note, so the endpoint can always answer.
    expect(checks[3]?.outcome).toEqual({ status: 'pass', output: 'observedValue is not JSON' });
  });

  test('a check that throws anything, or answers a value that throws when read, fails by error at once, nothing unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    const noText = (): unknown => Object.create(null); // String() of it throws
    const throwing = {
      get status(): never {
        throw new Error('getter');
      },
    };
    const badThen = {
      get then(): never {
        throw new Error('then getter');
      },
    };
    const health = createHealth({
      checks: [
        {
          name: 'throws-untextable',
          check: () => {
            throw noText();
          },
        },
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the point: a reason that is no Error
        { name: 'rejects-untextable', check: () => Promise.reject(noText()) },
        { name: 'answers-throwing', check: () => throwing as never },
        { name: 'resolves-throwing', check: () => Promise.resolve(throwing as never) },
        { name: 'bad-then', check: () => badThen as never },
      ].map((c) => ({ ...c, timeoutMs: 60_000 })),
    });
    // Long timeouts: only a run that settles by itself answers before the deadline.
    const { checks } = await health.run('readiness', { deadlineMs: 2_000 });
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onUnhandled);
    expect(checks.map((c) => [c.name, c.status, c.reason])).toEqual([
      ['throws-untextable', 'fail', 'error'],
      ['rejects-untextable', 'fail', 'error'],
      ['answers-throwing', 'fail', 'error'],
      ['resolves-throwing', 'fail', 'error'],
      ['bad-then', 'fail', 'error'],
    ]);
    expect(checks[0]?.outcome.output).toBe('the check failed with a value that cannot be shown as text');
    expect(unhandled).toEqual([]);
  });

  test('an outcome is copied, its output and unit kept only as strings, its output cut at 500 characters', async () => {
    const answer: Record<string, unknown> = {
      status: 'warn',
      observedValue: 1,
      observedUnit: 7,
      output: { host: 'x' },
    };
    const health = createHealth({
      checks: [
        { name: 'odd', check: () => answer },
        { name: 'long', check: () => ({ status: 'fail', output: 'x'.repeat(10_000) }) },
      ],
    });
    const { checks } = await health.run('readiness');
    answer['observedValue'] = 2; // changed by the check afterwards: the result keeps what it read
    expect(checks[0]?.outcome).toEqual({
      status: 'warn',
      observedValue: 1,
      output: 'the check gave an output that is not a string',
    });
    expect(checks[1]?.outcome.output).toHaveLength(500);
  });

  test('a result is reused for its TTL, from the end of the run, then run again', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const health = createHealth({
      clock,
      checks: [
        {
          name: 'db',
          ttlMs: 1_000,
          check: () => {
            calls++;
            return { observedValue: calls };
          },
        },
      ],
    });
    await health.run();
    clock.advance(999);
    await health.run();
    expect(calls).toBe(1);
    clock.advance(1);
    const report = await health.run();
    expect(calls).toBe(2);
    expect(report.checks[0]?.outcome.observedValue).toBe(2);
  });
});
