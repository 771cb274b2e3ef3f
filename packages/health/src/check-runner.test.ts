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
    expect(checks[3]?.outcome).toMatchObject({ observedValue: undefined, output: 'observedValue is not JSON' });
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
