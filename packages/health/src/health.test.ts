import { isInvalidOptionError } from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { CheckOptions } from './check.js';
import { isDuplicateCheckError } from './errors.js';
import type { StatusChangeEvent } from './events.js';
import { createHealth, type HealthReport } from './health.js';
import type { HealthStatus } from './status.js';

const pass = (): 'pass' => 'pass';

/** A check whose answer the test sets. */
function settable(
  name: string,
  extra: Partial<CheckOptions> = {},
): { options: CheckOptions; set(s: HealthStatus): void } {
  let status: HealthStatus = 'pass';
  return {
    options: { name, ttlMs: 0, check: () => status, ...extra },
    set(next) {
      status = next;
    },
  };
}

describe('groups', () => {
  test('readiness by default; liveness, startup and custom groups; a check may be in several', async () => {
    const db = settable('db');
    const loop = settable('loop', { groups: ['liveness'] });
    const search = settable('search', { groups: ['readiness', 'search'] });
    const health = createHealth({ checks: [db.options, loop.options, search.options] });
    expect(health.groups).toEqual(['liveness', 'readiness', 'startup', 'search']);
    const names = async (group?: string): Promise<string[]> => (await health.run(group)).checks.map((c) => c.name);
    expect(await names('readiness')).toEqual(['db', 'search']);
    expect(await names('liveness')).toEqual(['loop']);
    expect(await names('search')).toEqual(['search']);
    expect(await names()).toEqual(['db', 'loop', 'search']);
    loop.set('fail');
    expect((await health.run('readiness')).status).toBe('pass');
    expect((await health.run('liveness')).status).toBe('fail');
    expect((await health.run()).status).toBe('fail');
  });

  test('one check: its own status, critical or not', async () => {
    const cache = settable('cache', { critical: false });
    const health = createHealth({ checks: [cache.options, settable('db').options] });
    cache.set('fail');
    expect((await health.run('readiness')).status).toBe('warn');
    const one = await health.run('readiness', { check: 'cache' });
    expect(one.status).toBe('fail');
    expect(one.checks.map((c) => c.name)).toEqual(['cache']);
  });

  test('an unknown group, or a check outside the group, is an InvalidOptionError', () => {
    const health = createHealth({ checks: [settable('db').options] });
    expect(() => health.evaluate('nope', {})).toThrow(/group/);
    expect(() => health.evaluate('liveness', { check: 'db' })).toThrow(/check/);
    expect(() => health.evaluate('readiness', { deadlineMs: 0 })).toThrow(/deadlineMs/);
  });
});

describe('startup', () => {
  test('fails until readiness has passed once, looking at readiness itself; then only its own checks (latched)', async () => {
    const db = settable('db');
    const warmup = settable('warmup', { groups: ['startup'] });
    const health = createHealth({ checks: [db.options, warmup.options] });
    db.set('fail');
    const before = await health.run('startup');
    expect(before.status).toBe('fail');
    expect(before.checks.map((c) => c.name)).toEqual(['db', 'warmup', 'startup']);
    expect(health.started).toBe(false);
    db.set('pass');
    expect((await health.run('startup')).status).toBe('pass');
    expect(health.started).toBe(true);
    // Started: a readiness failure no longer affects the startup probe.
    db.set('fail');
    const after = await health.run('startup');
    expect(after.status).toBe('pass');
    expect(after.checks.map((c) => c.name)).toEqual(['warmup']);
  });

  test('a readiness answer that is not fail latches started too', async () => {
    const health = createHealth({ checks: [settable('db').options] });
    await health.run('readiness');
    expect(health.started).toBe(true);
  });
});

describe('shutting down', () => {
  test('readiness and the whole fail at once, with a shutdown entry; liveness does not', async () => {
    const health = createHealth({
      checks: [settable('db').options, settable('loop', { groups: ['liveness'] }).options],
    });
    health.markShuttingDown();
    const ready = await health.run('readiness');
    expect(ready.status).toBe('fail');
    expect(ready.checks.at(-1)).toMatchObject({ name: 'shutdown', status: 'fail', reason: 'shutdown' });
    expect((await health.run()).status).toBe('fail');
    expect((await health.run('liveness')).status).toBe('pass');
  });

  test('a readiness check asked for by name fails too (a probe may point at /health/ready/<check>); a liveness one does not', async () => {
    const health = createHealth({
      checks: [settable('db').options, settable('loop', { groups: ['liveness'] }).options],
    });
    expect((await health.run('readiness', { check: 'db' })).status).toBe('pass');
    health.markShuttingDown();
    const db = await health.run('readiness', { check: 'db' });
    expect(db.status).toBe('fail');
    expect(db.checks.map((c) => [c.name, c.status])).toEqual([
      ['db', 'pass'],
      ['shutdown', 'fail'],
    ]);
    expect((await health.run('liveness', { check: 'loop' })).status).toBe('pass');
  });
});

describe('the answer deadline', () => {
  test('a check still running at the deadline fails in that answer; its run goes on and is used later', async () => {
    let finish: (() => void) | undefined;
    const health = createHealth({
      checks: [
        {
          name: 'slow',
          timeoutMs: 60_000,
          ttlMs: 60_000,
          check: () =>
            new Promise<void>((resolve) => {
              finish = resolve;
            }),
        },
      ],
    });
    const first = await health.run('readiness', { deadlineMs: 20 });
    expect(first.checks[0]).toMatchObject({ status: 'fail', reason: 'deadline' });
    finish?.();
    await new Promise((resolve) => setImmediate(resolve));
    const second = await health.run('readiness', { deadlineMs: 20 });
    expect(second.checks[0]).toMatchObject({ status: 'pass' });
    expect(second.checks[0]?.reason).toBeUndefined();
  });

  test('a check at the deadline counts as one more failure for its threshold (as a timeout would), not as fail outright', async () => {
    const clock = new ManualClock(0);
    let hang = false;
    const finishers: (() => void)[] = [];
    const health = createHealth({
      clock,
      checks: [
        {
          name: 'db',
          ttlMs: 0,
          timeoutMs: 60_000,
          failureThreshold: 2,
          check: () =>
            hang
              ? new Promise<void>((resolve) => {
                  finishers.push(resolve);
                })
              : 'pass',
        },
      ],
    });
    expect((await health.run()).status).toBe('pass');
    hang = true;
    // One failure of two needed: the answer keeps the reported status, and says why in the output.
    const late = await health.run(undefined, { deadlineMs: 10 });
    expect(late.checks[0]).toMatchObject({ status: 'pass', reason: 'deadline' });
    expect(late.status).toBe('pass');
    // A first run of all that is late has no earlier state to keep: it fails.
    const fresh = createHealth({
      checks: [{ name: 'db', timeoutMs: 60_000, failureThreshold: 2, check: () => new Promise(() => undefined) }],
    });
    expect((await fresh.run(undefined, { deadlineMs: 10 })).status).toBe('fail');
    for (const finish of finishers) finish();
  });

  test('fresh results answer without a promise', () => {
    const health = createHealth({ checks: [{ name: 'db', check: pass, ttlMs: 60_000 }] });
    expect(health.evaluate('readiness')).toBeInstanceOf(Promise);
    // The synchronous check finished at once: its result is fresh now.
    const report = health.evaluate('readiness');
    expect(report).not.toBeInstanceOf(Promise);
  });
});

describe('reused answers', () => {
  test('a cached answer changes as soon as a run ends, the shutdown starts, or a result ages', async () => {
    const clock = new ManualClock(0);
    let status: HealthStatus = 'pass';
    const health = createHealth({
      clock,
      checks: [
        { name: 'db', ttlMs: 1_000, check: () => status },
        { name: 'other', ttlMs: 60_000, groups: ['liveness'], check: () => 'pass' },
      ],
    });
    const first = await health.run('readiness');
    expect(health.evaluate('readiness')).toBe(first);
    // A run of a check in another group: the readiness answer is still the same report.
    health.unregister('other');
    health.register({ name: 'other', ttlMs: 60_000, groups: ['liveness'], check: () => 'pass' });
    await health.run('liveness');
    expect(health.evaluate('readiness')).toStrictEqual(first);
    // A run of db itself (here: the TTL passed and a request ran it) shows at once.
    status = 'fail';
    clock.advance(1_000);
    expect((await health.run('readiness')).status).toBe('fail');
    expect((health.evaluate('readiness') as HealthReport).status).toBe('fail');
    status = 'pass';
    clock.advance(1_000);
    expect((await health.run('readiness')).status).toBe('pass');
    health.markShuttingDown();
    expect((health.evaluate('readiness') as HealthReport).status).toBe('fail');
  });

  test('a background run shows in the next answer, before the TTL ends', async () => {
    vi.useFakeTimers();
    try {
      let calls = 0;
      const health = createHealth({
        clock: { now: () => Date.now() },
        checks: [{ name: 'db', intervalMs: 100, jitter: 0, ttlMs: 10_000, check: () => ({ observedValue: ++calls }) }],
      });
      await vi.advanceTimersByTimeAsync(0);
      const before = health.evaluate('readiness') as HealthReport;
      expect(before.checks[0]?.outcome.observedValue).toBe(1);
      await vi.advanceTimersByTimeAsync(100);
      const after = health.evaluate('readiness') as HealthReport;
      expect(after.checks[0]?.outcome.observedValue).toBe(2);
      health.dispose();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('registration', () => {
  test('names are unique; register returns a remover; unregister disposes', () => {
    const disposed: string[] = [];
    const health = createHealth();
    const remove = health.register({ name: 'db', check: pass, dispose: () => disposed.push('db') });
    let error: unknown;
    try {
      health.register({ name: 'db', check: () => 'pass' });
    } catch (e) {
      error = e;
    }
    expect(isDuplicateCheckError(error)).toBe(true);
    remove();
    expect(health.checkNames).toEqual([]);
    expect(disposed).toEqual(['db']);
    expect(health.unregister('db')).toBe(false);
  });

  const bad: [unknown, string][] = [
    [{ name: '', check: pass }, 'check.name'],
    [{ name: '..', check: pass }, 'check.name'],
    [{ name: 'a:b:c', check: pass }, 'check.name'],
    [{ name: 'a/b', check: pass }, 'check.name'],
    [{ name: 'x'.repeat(129), check: pass }, 'check.name'],
    [{ name: 'ok', check: 'nope' }, 'check.check'],
    [{ name: 'ok', check: pass, timeoutMs: 0 }, 'check.timeoutMs'],
    [{ name: 'ok', check: pass, timeoutMs: 2 ** 31 }, 'check.timeoutMs'],
    [{ name: 'ok', check: pass, ttlMs: -1 }, 'check.ttlMs'],
    [{ name: 'ok', check: pass, intervalMs: Number.NaN }, 'check.intervalMs'],
    [{ name: 'ok', check: pass, jitter: 2 }, 'check.jitter'],
    [{ name: 'ok', check: pass, failureThreshold: 0 }, 'check.failureThreshold'],
    [{ name: 'ok', check: pass, successThreshold: 1.5 }, 'check.successThreshold'],
    [{ name: 'ok', check: pass, groups: [] }, 'check.groups'],
    [{ name: 'ok', check: pass, groups: ['Ready'] }, 'check.groups'],
    // The short paths of liveness and readiness: a group of that name could never be asked for.
    [{ name: 'ok', check: pass, groups: ['ready'] }, 'check.groups'],
    [{ name: 'ok', check: pass, groups: ['live'] }, 'check.groups'],
    [{ name: 'ok', check: pass, critical: 'yes' }, 'check.critical'],
  ];
  test.each(bad)('a bad check is refused at registration, naming the option (%#)', (options, option) => {
    const health = createHealth();
    let error: unknown;
    try {
      health.register(options as CheckOptions);
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as { option: string }).option).toBe(option);
  });
});

describe('events', () => {
  test('every run, and each change of the reported status (thresholds applied)', async () => {
    const clock = new ManualClock(0);
    const db = settable('db', { failureThreshold: 2 });
    const health = createHealth({ clock, checks: [db.options] });
    const changes: StatusChangeEvent[] = [];
    let runs = 0;
    health.events.on('change', (e) => changes.push(e));
    health.events.on('run', () => runs++);
    await health.run();
    db.set('fail');
    await health.run();
    await health.run();
    expect(runs).toBe(3);
    expect(changes.map((c) => [c.from, c.to])).toEqual([
      [undefined, 'pass'],
      ['pass', 'fail'],
    ]);
  });
});

describe('background runs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test('one timer for every check; each runs about every intervalMs, jittered; requests read the results', async () => {
    vi.useFakeTimers();
    const clock = { now: () => Date.now() };
    const calls = new Map<string, number[]>();
    const checks: CheckOptions[] = [100, 250, 400].map((intervalMs) => ({
      name: `every-${String(intervalMs)}`,
      intervalMs,
      jitter: 0.2,
      check: () => {
        const name = `every-${String(intervalMs)}`;
        calls.set(name, [...(calls.get(name) ?? []), Date.now()]);
      },
    }));
    const start = Date.now();
    const health = createHealth({ clock, checks, random: () => 0.999 });
    // The first runs are due at once.
    await vi.advanceTimersByTimeAsync(0);
    expect([...calls.values()].map((c) => c.length)).toEqual([1, 1, 1]);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000);
    for (const [name, times] of calls) {
      const interval = Number(name.split('-')[1]);
      for (let i = 1; i < times.length; i++) {
        const gap = (times[i] as number) - (times[i - 1] as number);
        expect(gap).toBeGreaterThanOrEqual(interval * 0.8);
        expect(gap).toBeLessThanOrEqual(interval * 1.2 + 1);
      }
      expect(times.length).toBeGreaterThanOrEqual(Math.floor(2_000 / (interval * 1.2)));
    }
    expect(vi.getTimerCount()).toBe(1);
    // A request within the TTL (twice the interval) is answered from the background results.
    const before = [...calls.values()].reduce((n, c) => n + c.length, 0);
    const report = health.evaluate(undefined);
    expect(report).not.toBeInstanceOf(Promise);
    expect([...calls.values()].reduce((n, c) => n + c.length, 0)).toBe(before);
    health.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(Date.now() - start).toBe(2_000);
  });
});
