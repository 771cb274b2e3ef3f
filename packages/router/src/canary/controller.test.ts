import { isInvalidOptionError } from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect, test } from 'vitest';
import { createSplit } from '../split/split.js';
import { createCanary, type Canary, type CanaryDecision } from './controller.js';
import type { CanaryOptions } from './options.js';
import { isInvalidOutcomeError } from './errors.js';

const INTERVAL = 60_000;

interface Traffic {
  /** Requests per interval. */
  requests: number;
  /** Every how many requests one fails (0: none). */
  errorEvery: number;
  /** Added to every duration, in ms. */
  slowerByMs?: number;
}

/**
 * One interval of traffic for one variant: durations spread evenly over 20–120 ms (so p99 ≈ 119 ms),
 * errors at a fixed cadence, so the figures are exact and the tests deterministic.
 */
function send(canary: Canary, variant: string, t: Traffic): void {
  for (let i = 0; i < t.requests; i++) {
    const status = t.errorEvery > 0 && i % t.errorEvery === 0 ? 503 : 200;
    canary.record(variant, { status, durationMs: 20 + ((i * 37) % 101) + (t.slowerByMs ?? 0) });
  }
}

const HEALTHY: Traffic = { requests: 500, errorEvery: 20 }; // 5 % errors

function setup(options: CanaryOptions = {}): {
  clock: ManualClock;
  canary: Canary;
  decisions: CanaryDecision[];
  start: number;
} {
  const clock = new ManualClock();
  const canary = createCanary({ clock, intervalMs: INTERVAL, ...options });
  const decisions: CanaryDecision[] = [];
  canary.events.on('decision', (d) => decisions.push(d));
  return { clock, canary, decisions, start: clock.now() };
}

/** Runs `intervals` intervals of traffic, advancing the clock to the end of each and ticking. */
function run(clock: ManualClock, canary: Canary, intervals: number, canaryTraffic: Traffic, baseline = HEALTHY): void {
  for (let i = 0; i < intervals; i++) {
    send(canary, 'stable', baseline);
    send(canary, 'canary', canaryTraffic);
    clock.advance(INTERVAL);
    canary.tick();
  }
}

describe('canary controller (manual clock)', () => {
  test('a canary with twice the baseline error rate is rolled back within threshold × interval', () => {
    const { clock, canary, decisions, start } = setup({ failureThreshold: 2 });
    run(clock, canary, 2, { requests: 500, errorEvery: 10 }); // 10 % against 5 %
    const rollback = decisions.find((d) => d.action === 'rollback');
    expect(rollback).toMatchObject({ trigger: 'schedule', from: 5, to: 0, failedChecks: 2 });
    expect(rollback!.at - start).toBeLessThanOrEqual(2 * INTERVAL);
    expect(rollback!.checks.find((c) => c.name === 'error-rate')).toMatchObject({
      status: 'fail',
      figures: { canaryErrorRate: 0.1, baselineErrorRate: 0.05 },
    });
    expect(decisions.map((d) => d.action)).toEqual(['fail', 'rollback']);
    expect(canary.state()).toMatchObject({ phase: 'rolled-back', percent: 0 });
  });

  test('a canary 60 ms slower at p99 is rolled back (threshold 50 ms)', () => {
    const { clock, canary, decisions, start } = setup({ failureThreshold: 2 });
    run(clock, canary, 2, { ...HEALTHY, slowerByMs: 60 });
    const rollback = decisions.find((d) => d.action === 'rollback');
    expect(rollback?.at).toBe(start + 2 * INTERVAL);
    const latency = rollback!.checks.find((c) => c.name === 'latency')!;
    expect(latency.status).toBe('fail');
    // p99 of 20–120 ms is ~119 ms, within HdrHistogram's 1 % precision.
    expect(latency.figures['baselineLatencyMs']).toBeGreaterThanOrEqual(117);
    expect(latency.figures['baselineLatencyMs']).toBeLessThanOrEqual(121);
    expect(latency.figures['canaryLatencyMs']! - latency.figures['baselineLatencyMs']!).toBeGreaterThan(55);
    expect(rollback!.checks.find((c) => c.name === 'error-rate')?.status).toBe('pass');
  });

  test('a canary 30 ms slower at p99 is not rolled back', () => {
    const { clock, canary, decisions } = setup();
    run(clock, canary, 4, { ...HEALTHY, slowerByMs: 30 });
    expect(decisions.map((d) => d.action)).toEqual(['promote', 'promote', 'promote', 'complete']);
  });

  test('a healthy canary is promoted on schedule: 5 → 10 → 25 → 50 → 100 %, one step per interval', () => {
    const { clock, canary, decisions, start } = setup();
    const shares: number[] = [canary.percent()];
    for (let i = 0; i < 4; i++) {
      send(canary, 'stable', HEALTHY);
      send(canary, 'canary', HEALTHY);
      clock.advance(INTERVAL - 1);
      expect(canary.percent()).toBe(shares[shares.length - 1]); // not a millisecond early
      clock.advance(1);
      shares.push(canary.percent());
    }
    expect(shares).toEqual([5, 10, 25, 50, 100]);
    expect(decisions.map((d) => [d.action, d.at - start])).toEqual([
      ['promote', INTERVAL],
      ['promote', 2 * INTERVAL],
      ['promote', 3 * INTERVAL],
      ['complete', 4 * INTERVAL],
    ]);
    expect(canary.state().phase).toBe('promoted');
  });

  test('low traffic neither promotes nor rolls back, even when the canary fails every request', () => {
    const { clock, canary, decisions } = setup({ minRequests: 100 });
    run(clock, canary, 10, { requests: 99, errorEvery: 1, slowerByMs: 500 }, { requests: 99, errorEvery: 0 });
    expect(decisions).toHaveLength(10);
    expect(new Set(decisions.map((d) => d.action))).toEqual(new Set(['hold']));
    expect(decisions[0]!.checks.map((c) => c.status)).toEqual(['no-data', 'no-data']);
    expect(canary.state()).toMatchObject({ phase: 'progressing', percent: 5, failedChecks: 0 });
  });

  test('a manual rollback wins over the schedule', () => {
    const { clock, canary, decisions } = setup();
    run(clock, canary, 1, HEALTHY);
    expect(canary.percent()).toBe(10);
    send(canary, 'canary', HEALTHY);
    expect(canary.rollback('bad deploy')).toMatchObject({ action: 'rollback', trigger: 'manual', from: 10, to: 0 });
    run(clock, canary, 5, HEALTHY);
    expect(canary.state()).toMatchObject({ phase: 'rolled-back', percent: 0 });
    expect(decisions.map((d) => d.action)).toEqual(['promote', 'rollback']);
    expect(canary.promote()).toBeUndefined();
  });

  test('pause stops the schedule, resume starts a fresh interval, promote moves one step now', () => {
    const { clock, canary, decisions } = setup();
    canary.pause();
    run(clock, canary, 3, HEALTHY);
    expect(canary.percent()).toBe(5);
    canary.resume();
    expect(canary.promote('looks fine')).toMatchObject({ action: 'promote', trigger: 'manual', from: 5, to: 10 });
    run(clock, canary, 1, HEALTHY);
    expect(canary.percent()).toBe(25);
    expect(decisions.map((d) => `${d.trigger}:${d.action}`)).toEqual([
      'manual:pause',
      'manual:resume',
      'manual:promote',
      'schedule:promote',
    ]);
  });

  test('one failed interval below the threshold holds; a failing custom check counts; restart starts over', () => {
    const { clock, canary, decisions } = setup({
      failureThreshold: 3,
      checks: [
        {
          name: 'checkout-conversion',
          check: ({ canary: c }) => ({ status: c.requests > 400 ? 'fail' : 'pass', figures: { n: c.requests } }),
        },
      ],
    });
    run(clock, canary, 1, HEALTHY);
    run(clock, canary, 2, { requests: 300, errorEvery: 20 });
    expect(decisions.map((d) => d.action)).toEqual(['fail', 'promote', 'promote']);
    expect(decisions[0]!.checks.find((c) => c.name === 'checkout-conversion')).toMatchObject({ status: 'fail' });
    expect(canary.state()).toMatchObject({ percent: 25, failedChecks: 1 });
    canary.rollback();
    expect(canary.restart()).toMatchObject({ action: 'restart', from: 0, to: 5, failedChecks: 0 });
  });

  test('drives a split: the canary and baseline weights follow every step', () => {
    const split = createSplit({ name: 'orders', variants: [{ name: 'stable', weight: 100 }, { name: 'canary' }] });
    const { clock, canary } = setup({ split });
    const weights: unknown[] = [split.weights()];
    canary.events.on('weight', () => weights.push(split.weights()));
    run(clock, canary, 2, HEALTHY);
    canary.rollback();
    expect(weights).toEqual([
      { stable: 95, canary: 5 },
      { stable: 90, canary: 10 },
      { stable: 75, canary: 25 },
      { stable: 100, canary: 0 },
    ]);
  });

  test('rejects an invalid outcome with a typed error, and ignores other variants', () => {
    const { canary } = setup();
    for (const outcome of [
      { status: 42, durationMs: 1 },
      { status: 200.5, durationMs: 1 },
      { status: 200, durationMs: -1 },
      { status: 200, durationMs: Number.NaN },
    ]) {
      expect(() => {
        canary.record('canary', outcome);
      }).toThrow(expect.objectContaining({ isInvalidOutcomeError: true }));
    }
    expect(isInvalidOutcomeError(new Error('x'))).toBe(false);
    canary.record('A', { status: 500, durationMs: 1 });
  });

  test.each([
    [{ steps: [] }, 'steps'],
    [{ steps: [10, 5] }, 'steps'],
    [{ steps: [5, 101] }, 'steps'],
    [{ intervalMs: 0 }, 'intervalMs'],
    [{ failureThreshold: 0 }, 'failureThreshold'],
    [{ errorRate: { maxRatio: 0.5 } }, 'errorRate.maxRatio'],
    [{ latency: { quantile: 0 } }, 'latency.quantile'],
    [{ baseline: 'canary' }, 'baseline'],
    [{ split: createSplit({ name: 's', variants: [{ name: 'stable' }, { name: 'B' }] }) }, 'canary'],
  ] as [CanaryOptions, string][])(
    'rejects bad options with an InvalidOptionError naming the option (%#)',
    (options, option) => {
      let error: unknown;
      try {
        createCanary(options);
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error)).toBe(true);
      expect(error).toMatchObject({ option });
    },
  );
});
