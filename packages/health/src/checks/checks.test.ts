import { createBreakerRegistry } from '@portcullis/circuit-breaker';
import { createJwksSource } from '@portcullis/jwt-cache';
import { generateKeyPair, ManualClock, startJwksServer } from '@portcullis/testkit';
import { describe, expect, test } from 'vitest';
import { createHealth } from '../health.js';
import type { CheckOptions } from '../check.js';
import type { CheckResult } from '../result.js';
import { breakerCheck } from './breakers.js';
import { eventLoopDelayCheck } from './event-loop.js';
import { heapCheck } from './heap.js';
import { jwksCheck } from './jwks.js';

async function runOnce(check: CheckOptions): Promise<CheckResult> {
  const health = createHealth({ checks: [{ ...check, ttlMs: 0 }] });
  const group = check.groups?.[0] ?? 'readiness';
  const report = await health.run(group, { deadlineMs: 5_000 });
  health.dispose();
  return report.checks[0] as CheckResult;
}

describe('the breaker registry check (a real @portcullis/circuit-breaker registry)', () => {
  test('all closed: pass; one open: warn; one in failOn open, or failRatio reached: fail', async () => {
    const registry = createBreakerRegistry();
    registry.get('orders');
    registry.get('payments');
    registry.get('search');
    registry.get('reviews');
    const check = (options: Partial<Parameters<typeof breakerCheck>[0]> = {}): Promise<CheckResult> =>
      runOnce(breakerCheck({ registry, ...options }));
    expect((await check()).status).toBe('pass');
    registry.get('search').isolate();
    const one = await check({ failOn: ['payments'] });
    expect(one.status).toBe('warn');
    expect(one.outcome).toMatchObject({ observedValue: 1, output: 'open: search' });
    registry.get('payments').isolate();
    expect((await check({ failOn: ['payments'] })).status).toBe('fail');
    expect((await check()).status).toBe('warn');
    expect((await check({ failRatio: 0.5 })).status).toBe('fail');
    expect((await check({ failRatio: 0.75 })).status).toBe('warn');
    registry.get('payments').reset();
    registry.get('search').reset();
    expect((await check({ failOn: ['payments'] })).status).toBe('pass');
  });

  test('bad options are refused', () => {
    expect(() => breakerCheck({ registry: {} as never })).toThrow(/registry/);
    expect(() => breakerCheck({ registry: createBreakerRegistry(), failRatio: 0 })).toThrow(/failRatio/);
    expect(() => breakerCheck({ registry: createBreakerRegistry(), failOn: [''] })).toThrow(/failOn/);
  });
});

describe('the JWKS freshness check (a real @portcullis/jwt-cache source)', () => {
  test('fresh or within grace: pass; stale beyond grace but servable: warn; past servable or never fetched: fail', async () => {
    const key = generateKeyPair('ES256', 'k1');
    await using server = await startJwksServer({ keys: [key.publicJwk] });
    const clock = new ManualClock();
    using source = createJwksSource({ url: server.url, clock, ttlMs: 60_000, maxStaleMs: 120_000 });
    const check = jwksCheck({ source, clock, graceMs: 10_000 });
    expect((await runOnce(check)).outcome.output).toBe('no key set fetched yet');
    expect(await source.refresh()).toBe(true);
    const { fetchedAt, expiresAt, servableUntil } = source.state();
    expect(fetchedAt).toBe(clock.now());
    const fresh = await runOnce(check);
    expect(fresh).toMatchObject({ status: 'pass', outcome: { observedValue: 0, observedUnit: 'ms' } });
    clock.set((expiresAt as number) + 9_999);
    expect((await runOnce(check)).status).toBe('pass');
    clock.set((expiresAt as number) + 10_000);
    expect((await runOnce(check)).status).toBe('warn');
    clock.set(servableUntil as number);
    expect((await runOnce(check)).status).toBe('fail');
  });
});

describe('process checks', () => {
  test('event loop delay: a blocked loop warns, then an idle one passes (the monitor is reset per run)', async () => {
    const check = eventLoopDelayCheck({ warnMs: 50, failMs: 5_000, resolutionMs: 10 });
    const health = createHealth({ checks: [{ ...check, ttlMs: 0 }] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const end = Date.now() + 150;
    while (Date.now() < end) {
      // Blocks the event loop on purpose.
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const blocked = await health.run('liveness');
    expect(blocked.checks[0]).toMatchObject({ name: 'eventloop:delay', status: 'warn' });
    expect(blocked.checks[0]?.outcome.observedValue).toBeGreaterThanOrEqual(50);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const idle = await health.run('liveness');
    expect(idle.checks[0]?.status).toBe('pass');
    health.dispose();
  });

  test('heap: used over limit, warn and fail from their ratios', async () => {
    let used = 50;
    const check = heapCheck({ statistics: () => ({ used_heap_size: used, heap_size_limit: 100 }) });
    expect((await runOnce(check)).outcome).toMatchObject({
      status: 'pass',
      observedValue: 50,
      observedUnit: 'percent',
    });
    used = 90;
    expect((await runOnce(check)).status).toBe('warn');
    used = 96;
    expect((await runOnce(check)).status).toBe('fail');
    expect((await runOnce(heapCheck())).status).toBe('pass');
    expect(() => heapCheck({ warnRatio: 0.9, failRatio: 0.5 })).toThrow(/failRatio/);
  });
});
