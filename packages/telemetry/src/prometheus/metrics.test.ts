import { fc, test } from '@fast-check/vitest';
import { consecutiveFailures, createBreaker, createBreakerRegistry } from '@portcullis/circuit-breaker';
import { createGatewayRequest, isInvalidOptionError, type Guard, type Verdict } from '@portcullis/core';
import { createLoader } from '@portcullis/dataloader-guard';
import { createRateLimiter, MemoryStore, rateLimitGuard, tokenBucket } from '@portcullis/ratelimit';
import { createCanary, createRouteTable, createSplit, routerGuard } from '@portcullis/router';
import { ManualClock, samplesOf, scrape, valueOf } from '@portcullis/testkit';
import { Registry } from 'prom-client';
import { describe, expect } from 'vitest';
import { prometheusMetrics } from './metrics.js';

function request(method: string, url: string) {
  return createGatewayRequest({ method, url, header: () => undefined });
}

function limiterOn(clock: ManualClock, capacity = 3) {
  return createRateLimiter({
    store: new MemoryStore({ clock }),
    limits: { perSecond: tokenBucket({ capacity, refillPerSecond: 1 }) },
    clock,
  });
}

describe('prometheusMetrics options', () => {
  test('are validated at construction, naming the option', () => {
    const bad: [string, () => unknown][] = [
      ['registry', () => prometheusMetrics({ registry: JSON.parse('{}') as Registry })],
      ['prefix', () => prometheusMetrics({ registry: new Registry(), prefix: '9lives' })],
      ['buckets.seconds', () => prometheusMetrics({ registry: new Registry(), buckets: { seconds: [1, 1] } })],
      ['buckets.sizes', () => prometheusMetrics({ registry: new Registry(), buckets: { sizes: [] } })],
    ];
    for (const [option, make] of bad) {
      const error: unknown = (() => {
        try {
          make();
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(isInvalidOptionError(error), option).toBe(true);
      expect((error as { option: string }).option).toBe(option);
    }
  });

  test('a second set of metrics on the same registry and prefix is refused when it observes', () => {
    const registry = new Registry();
    const clock = new ManualClock();
    prometheusMetrics({ registry }).observeLimiter(limiterOn(clock));
    const second = prometheusMetrics({ registry });
    expect(() => second.observeLimiter(limiterOn(clock))).toThrow(/one prometheusMetrics per registry and prefix/);
    // Another prefix is another set of names.
    expect(() => prometheusMetrics({ registry, prefix: 'edge_' }).observeLimiter(limiterOn(clock))).not.toThrow();
  });

  test('a registry shows only the metrics of what is observed', async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry });
    expect(await registry.metrics()).toBe('\n');
    metrics.observeLimiter(limiterOn(new ManualClock()));
    expect(
      registry
        .getMetricsAsArray()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['portcullis_ratelimit_decisions_total', 'portcullis_ratelimit_store_errors_total']);
  });
});

describe('observeLimiter', () => {
  test('counts decisions by result, source and the limit that denied', async () => {
    const clock = new ManualClock();
    const limiter = limiterOn(clock, 3);
    const metrics = prometheusMetrics({ registry: new Registry(), prefix: 'gw_' });
    metrics.observeLimiter(limiter, { name: 'api' });
    for (let i = 0; i < 5; i++) await limiter.limit('user-1');
    const samples = await scrape(metrics.registry);
    const labels = { limiter: 'api', source: 'store' };
    expect(valueOf(samples, 'gw_ratelimit_decisions_total', { ...labels, result: 'allowed', limited_by: '' })).toBe(3);
    expect(
      valueOf(samples, 'gw_ratelimit_decisions_total', { ...labels, result: 'denied', limited_by: 'perSecond' }),
    ).toBe(2);
    // The key is never a label.
    expect(
      samplesOf(samples, 'gw_ratelimit_decisions_total').every((s) => !Object.values(s.labels).includes('user-1')),
    ).toBe(true);
  });

  test.prop(
    [
      fc.array(
        fc.record({ key: fc.constantFrom('a', 'b', 'c'), cost: fc.integer({ min: 0, max: 3 }), wait: fc.nat(1500) }),
        { maxLength: 40 },
      ),
    ],
    {
      numRuns: 60,
    },
  )('the counters equal the decisions made, for any sequence of calls', async (calls) => {
    const clock = new ManualClock();
    const limiter = limiterOn(clock, 4);
    const metrics = prometheusMetrics({ registry: new Registry() });
    metrics.observeLimiter(limiter);
    let allowed = 0;
    let denied = 0;
    for (const { key, cost, wait } of calls) {
      clock.advance(wait);
      const decision = await limiter.limit(key, { cost });
      if (decision.allowed) allowed++;
      else denied++;
    }
    const samples = await scrape(metrics.registry);
    const sum = (result: string) =>
      samplesOf(samples, 'portcullis_ratelimit_decisions_total', { result }).reduce((n, s) => n + s.value, 0);
    expect(sum('allowed')).toBe(allowed);
    expect(sum('denied')).toBe(denied);
  });

  test('attaches nothing until observed, and detaches everything', async () => {
    const limiter = limiterOn(new ManualClock());
    const metrics = prometheusMetrics({ registry: new Registry() });
    expect(limiter.events.has('decision')).toBe(false);
    expect(limiter.events.has('storeError')).toBe(false);
    const detach = metrics.observeLimiter(limiter);
    expect(limiter.events.has('decision')).toBe(true);
    expect(limiter.events.has('storeError')).toBe(true);
    await limiter.limit('k');
    detach();
    detach();
    expect(limiter.events.has('decision')).toBe(false);
    expect(limiter.events.has('storeError')).toBe(false);
    await limiter.limit('k');
    expect(
      valueOf(await scrape(metrics.registry), 'portcullis_ratelimit_decisions_total', {
        limiter: 'default',
        result: 'allowed',
        source: 'store',
        limited_by: '',
      }),
    ).toBe(1);
  });
});

describe('observeBreaker', () => {
  test('reads state and calls at scrape time, counts transitions as they happen', async () => {
    const clock = new ManualClock();
    const breaker = createBreaker({ name: 'payments', trip: consecutiveFailures(2), openDuration: 1_000, clock });
    const metrics = prometheusMetrics({ registry: new Registry() });
    expect(breaker.events.has('stateChange')).toBe(false);
    metrics.observeBreaker(breaker);
    const fail = () => Promise.reject(new Error('down'));
    await expect(breaker.execute(fail)).rejects.toThrow('down');
    await expect(breaker.execute(fail)).rejects.toThrow('down');
    await expect(breaker.execute(() => Promise.resolve(1))).rejects.toThrow(/open/i);
    let samples = await scrape(metrics.registry);
    const state = (s: string) => valueOf(samples, 'portcullis_breaker_state', { breaker: 'payments', state: s });
    expect([state('closed'), state('open'), state('half-open'), state('isolated')]).toEqual([0, 1, 0, 0]);
    expect(valueOf(samples, 'portcullis_breaker_calls_total', { breaker: 'payments', outcome: 'failure' })).toBe(2);
    expect(valueOf(samples, 'portcullis_breaker_calls_total', { breaker: 'payments', outcome: 'rejected' })).toBe(1);
    expect(valueOf(samples, 'portcullis_breaker_unhealthy_since_seconds', { breaker: 'payments' })).toBe(
      clock.now() / 1000,
    );
    expect(
      valueOf(samples, 'portcullis_breaker_transitions_total', { breaker: 'payments', from: 'closed', to: 'open' }),
    ).toBe(1);
    // Time alone moves it to half-open: the scrape reads it so.
    clock.advance(1_000);
    samples = await scrape(metrics.registry);
    expect([state('closed'), state('open'), state('half-open')]).toEqual([0, 0, 1]);
    await breaker.execute(() => Promise.resolve(1));
    samples = await scrape(metrics.registry);
    expect(state('closed')).toBe(1);
    expect(valueOf(samples, 'portcullis_breaker_unhealthy_since_seconds', { breaker: 'payments' })).toBeUndefined();
  });

  test('a registry exports the breakers it holds now', async () => {
    const registry = createBreakerRegistry({
      services: { users: {}, orders: {} },
      defaults: { trip: consecutiveFailures(1) },
    });
    const metrics = prometheusMetrics({ registry: new Registry() });
    const detach = metrics.observeBreaker(registry);
    await registry.execute('users', () => Promise.resolve('ok'));
    await expect(registry.execute('orders', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    let samples = await scrape(metrics.registry);
    expect(valueOf(samples, 'portcullis_breaker_state', { breaker: 'users', state: 'closed' })).toBe(1);
    expect(valueOf(samples, 'portcullis_breaker_state', { breaker: 'orders', state: 'open' })).toBe(1);
    expect(valueOf(samples, 'portcullis_breaker_calls_total', { breaker: 'users', outcome: 'success' })).toBe(1);
    registry.delete('orders');
    samples = await scrape(metrics.registry);
    expect(samplesOf(samples, 'portcullis_breaker_state', { breaker: 'orders' })).toEqual([]);
    detach();
    expect(registry.events.has('stateChange')).toBe(false);
    samples = await scrape(metrics.registry);
    expect(samplesOf(samples, 'portcullis_breaker_state')).toEqual([]);
  });
});

describe('scrape-time readings', () => {
  test('one snapshot per scrape, whatever the number of metrics read from it', async () => {
    const metrics = prometheusMetrics({ registry: new Registry() });
    let reads = 0;
    const events = { on: () => () => undefined };
    metrics.observePool({
      name: 'p',
      events,
      snapshot: () => {
        reads++;
        return {
          name: 'p',
          panic: false,
          available: 1,
          total: 1,
          inFlight: 0,
          endpoints: [{ endpoint: { id: 'a:1' }, healthy: true, ejected: false, breaker: 'closed', inFlight: 0 }],
        };
      },
    });
    await scrape(metrics.registry);
    expect(reads).toBe(1);
    const samples = await scrape(metrics.registry);
    expect(reads).toBe(2);
    expect(
      valueOf(samples, 'portcullis_pool_endpoint_breaker_state', { pool: 'p', endpoint: 'a:1', state: 'closed' }),
    ).toBe(1);
  });
});

describe('observeCanary', () => {
  test('reads the weight and phase at scrape time and counts decisions', async () => {
    const clock = new ManualClock();
    const split = createSplit({
      name: 'orders',
      variants: [
        { name: 'stable', weight: 90 },
        { name: 'canary', weight: 10 },
      ],
    });
    const canary = createCanary({
      name: 'orders-v2',
      split,
      steps: [10, 50, 100],
      intervalMs: 1_000,
      minRequests: 1,
      failureThreshold: 1,
      clock,
    });
    const metrics = prometheusMetrics({ registry: new Registry() });
    expect(canary.events.has('decision')).toBe(false);
    metrics.observeCanary(canary, { name: 'orders-v2' });
    let samples = await scrape(metrics.registry);
    expect(valueOf(samples, 'portcullis_canary_weight_ratio', { canary: 'orders-v2' })).toBe(0.1);
    expect(valueOf(samples, 'portcullis_canary_phase', { canary: 'orders-v2', phase: 'progressing' })).toBe(1);
    for (let i = 0; i < 5; i++) {
      canary.record('stable', { status: 200, durationMs: 10 });
      canary.record('canary', { status: 200, durationMs: 10 });
    }
    clock.advance(1_000);
    samples = await scrape(metrics.registry);
    expect(valueOf(samples, 'portcullis_canary_weight_ratio', { canary: 'orders-v2' })).toBe(0.5);
    for (let i = 0; i < 5; i++) {
      canary.record('stable', { status: 200, durationMs: 10 });
      canary.record('canary', { status: 503, durationMs: 10 });
    }
    clock.advance(1_000);
    samples = await scrape(metrics.registry);
    expect(valueOf(samples, 'portcullis_canary_weight_ratio', { canary: 'orders-v2' })).toBe(0);
    expect(valueOf(samples, 'portcullis_canary_phase', { canary: 'orders-v2', phase: 'rolled-back' })).toBe(1);
    expect(valueOf(samples, 'portcullis_canary_phase', { canary: 'orders-v2', phase: 'progressing' })).toBe(0);
    expect(valueOf(samples, 'portcullis_canary_failed_checks', { canary: 'orders-v2' })).toBe(1);
    const decisions = (action: string) =>
      valueOf(samples, 'portcullis_canary_decisions_total', { canary: 'orders-v2', action, trigger: 'schedule' });
    expect([decisions('promote'), decisions('rollback')]).toEqual([1, 1]);
  });

  test('a canary without events (a wrapper with state() only) still has its weight read', async () => {
    const metrics = prometheusMetrics({ registry: new Registry() });
    let percent = 25;
    metrics.observeCanary({ state: () => ({ phase: 'paused', percent, failedChecks: 0 }) });
    expect(valueOf(await scrape(metrics.registry), 'portcullis_canary_weight_ratio', { canary: 'canary' })).toBe(0.25);
    percent = 50;
    expect(valueOf(await scrape(metrics.registry), 'portcullis_canary_weight_ratio', { canary: 'canary' })).toBe(0.5);
  });
});

describe('observeLoader', () => {
  test('records batches: count by outcome, sizes, cache hits, budgets exceeded', async () => {
    const users = createLoader(
      async (ids: readonly string[]) => {
        await Promise.resolve();
        return ids.map((id) => (id === 'bad' ? new Error('no such user') : { id }));
      },
      { name: 'users', maxKeys: 4 },
    );
    const metrics = prometheusMetrics({ registry: new Registry() });
    expect(users.events.has('batch')).toBe(false);
    metrics.observeLoader(users);
    await Promise.all(['a', 'b', 'bad'].map((id) => users.load(id).catch(() => undefined)));
    await Promise.all(['a', 'c'].map((id) => users.load(id)));
    await users.loadMany(['d', 'e', 'f']);
    const samples = await scrape(metrics.registry);
    expect(valueOf(samples, 'portcullis_loader_batches_total', { loader: 'users', outcome: 'loaded' })).toBe(2);
    expect(valueOf(samples, 'portcullis_loader_batch_size_count', { loader: 'users' })).toBe(2);
    expect(valueOf(samples, 'portcullis_loader_batch_size_sum', { loader: 'users' })).toBe(4);
    expect(valueOf(samples, 'portcullis_loader_batch_size_bucket', { loader: 'users', le: '2' })).toBe(1);
    expect(valueOf(samples, 'portcullis_loader_batch_size_bucket', { loader: 'users', le: '5' })).toBe(2);
    expect(valueOf(samples, 'portcullis_loader_failed_keys_total', { loader: 'users' })).toBe(1);
    expect(valueOf(samples, 'portcullis_loader_cache_hits_total', { loader: 'users' })).toBe(1);
    expect(valueOf(samples, 'portcullis_loader_budget_exceeded_total', { loader: 'users', budget: 'loader' })).toBe(1);
  });
});

describe('instrumentGuard', () => {
  const table = createRouteTable([
    { name: 'users', path: '/users/:id', methods: ['GET'] },
    { name: 'orders', path: '/orders', prefix: true },
  ]);

  /** Runs a guard as the adapters do: the verdict, then its onComplete with the response's outcome. */
  async function through(guard: Guard, method: string, path: string, status?: number): Promise<Verdict> {
    const verdict = await guard(request(method, path));
    verdict.onComplete?.({ status: status ?? (verdict.action === 'respond' ? verdict.status : 200), durationMs: 1 });
    return verdict;
  }

  test('records method, route name (never the raw path), status class and time from the guard', async () => {
    const clock = new ManualClock();
    const limiter = limiterOn(clock, 2);
    const guards = [routerGuard({ table }), rateLimitGuard({ limiter, key: () => 'everyone' })] as const;
    const metrics = prometheusMetrics({ registry: new Registry() });
    let t = 0;
    const watched = metrics.instrumentGuard(guards, { clock: { now: () => (t += 0.004) } });
    await through(watched, 'GET', '/users/1');
    await through(watched, 'GET', '/users/2', 503);
    await through(watched, 'GET', '/orders/9/items');
    await through(watched, 'GET', '/nowhere');
    await through(watched, 'PROPFIND', '/users/3');
    const samples = await scrape(metrics.registry);
    const count = (labels: Record<string, string>) =>
      valueOf(samples, 'portcullis_http_request_duration_seconds_count', labels);
    expect(count({ method: 'GET', route: 'users', status_class: '2xx' })).toBe(1);
    expect(count({ method: 'GET', route: 'users', status_class: '5xx' })).toBe(1);
    // The limit of 2 was spent: the third routed request got a 429, and kept its route.
    expect(count({ method: 'GET', route: 'orders', status_class: '4xx' })).toBe(1);
    expect(count({ method: 'GET', route: '', status_class: '4xx' })).toBe(1);
    expect(count({ method: '_OTHER', route: '', status_class: '4xx' })).toBe(1);
    // Each request: one tick of the clock at the guard's call, one at its end.
    expect(
      valueOf(samples, 'portcullis_http_request_duration_seconds_sum', {
        method: 'GET',
        route: 'users',
        status_class: '2xx',
      }),
    ).toBeCloseTo(0.000004, 9);
    const routes = new Set(
      samplesOf(samples, 'portcullis_http_request_duration_seconds_count').map((s) => s.labels['route']),
    );
    expect([...routes].sort()).toEqual(['', 'orders', 'users']);
  });

  test("calls the guard's own onComplete, and records a guard that throws as a 500", async () => {
    const metrics = prometheusMetrics({ registry: new Registry() });
    const seen: number[] = [];
    const own: Guard = () => ({
      action: 'continue',
      onComplete: (o) => {
        seen.push(o.status);
      },
    });
    await through(metrics.instrumentGuard(own), 'POST', '/x', 201);
    expect(seen).toEqual([201]);
    const throwing = metrics.instrumentGuard((): Verdict => {
      throw new Error('broken guard');
    });
    expect(() => throwing(request('GET', '/'))).toThrow('broken guard');
    const rejecting = metrics.instrumentGuard(() => Promise.reject(new Error('broken async guard')));
    await expect(rejecting(request('GET', '/'))).rejects.toThrow('async');
    const samples = await scrape(metrics.registry);
    expect(
      valueOf(samples, 'portcullis_http_request_duration_seconds_count', {
        method: 'POST',
        route: '',
        status_class: '2xx',
      }),
    ).toBe(1);
    expect(
      valueOf(samples, 'portcullis_http_request_duration_seconds_count', {
        method: 'GET',
        route: '',
        status_class: '5xx',
      }),
    ).toBe(2);
  });

  test('a synchronous guard stays synchronous', () => {
    const metrics = prometheusMetrics({ registry: new Registry() });
    const verdict = metrics.instrumentGuard(routerGuard({ table }))(request('GET', '/users/1'));
    expect(typeof (verdict as { then?: unknown }).then).toBe('undefined');
  });

  test('recordRequest checks the duration', async () => {
    const metrics = prometheusMetrics({ registry: new Registry() });
    expect(() => {
      metrics.recordRequest({ method: 'GET', status: 200, durationMs: Number.NaN });
    }).toThrow(/durationMs/);
    metrics.recordRequest({ method: 'GET', route: 'health', status: 204, durationMs: 2 });
    const samples = await scrape(metrics.registry);
    expect(
      valueOf(samples, 'portcullis_http_request_duration_seconds_sum', {
        method: 'GET',
        route: 'health',
        status_class: '2xx',
      }),
    ).toBe(0.002);
  });
});
