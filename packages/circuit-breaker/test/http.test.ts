import { compose, respond, type Guard } from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect, onTestFinished, test } from 'vitest';
import {
  circuitBreakerGuard,
  consecutiveFailures,
  createBreaker,
  createBreakerRegistry,
  type Breaker,
  type BreakerOptions,
} from '../src/index.js';
import { HARNESSES, type Harness, type Layer, type Served } from './http/harness.js';
import { waitFor } from './http/wait.js';

const PROBLEM_JSON = 'application/problem+json';

function breakerFor(options: BreakerOptions = {}): { clock: ManualClock; breaker: Breaker } {
  const clock = new ManualClock();
  return {
    clock,
    breaker: createBreaker({ name: 'upstream', clock, trip: consecutiveFailures(2), openDuration: 30_000, ...options }),
  };
}

describe.each(HARNESSES)('circuit breaking on $name', (fw: Harness) => {
  async function start(layers: readonly Layer[]): Promise<Served> {
    const served = await fw.serve(layers);
    onTestFinished(() => served.close());
    return served;
  }

  const get = (served: Served, path = '/ok', init: RequestInit = {}): Promise<Response> =>
    fetch(`${served.url}${path}`, init);

  test('5xx responses open the breaker; then a fast 503 with Retry-After and problem details, the handler not run', async () => {
    const { breaker } = breakerFor();
    const served = await start([{ circuitBreaker: { breaker } }]);
    expect((await get(served, '/throw')).status).toBe(500);
    await waitFor(() => breaker.snapshot().counters.failures === 1, 'the first failure to be recorded');
    expect((await get(served, '/throw-async')).status).toBe(500);
    await waitFor(() => breaker.state === 'open', 'the breaker to open');

    const refused = await get(served);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.headers.get('content-type')).toBe(PROBLEM_JSON);
    expect(await refused.json()).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The upstream "upstream" is failing (circuit open); retry later.',
      breaker: 'upstream',
    });
    expect(served.handled).toEqual(['/throw', '/throw-async']);
  });

  test('after the open period one probe goes through; its success closes the breaker', async () => {
    const { breaker, clock } = breakerFor();
    breaker.acquire().failure();
    breaker.acquire().failure();
    const served = await start([{ circuitBreaker: { breaker } }]);
    expect((await get(served)).status).toBe(503);
    clock.advance(30_000);
    expect((await get(served)).status).toBe(200);
    await waitFor(() => breaker.state === 'closed', 'the probe to close the breaker');
    expect((await get(served)).status).toBe(200);
    expect(served.handled).toEqual(['/ok', '/ok']);
  });

  test('4xx responses do not count', async () => {
    const { breaker } = breakerFor({ trip: consecutiveFailures(1) });
    const served = await start([{ circuitBreaker: { breaker } }]);
    for (let i = 0; i < 3; i++) expect((await get(served, '/no-such-route')).status).toBe(404);
    await waitFor(() => breaker.snapshot().counters.successes === 3, 'the 404s to be recorded');
    expect(breaker.state).toBe('closed');
  });

  test('answers with the fallback instead of the 503 when given one', async () => {
    const { breaker } = breakerFor();
    breaker.isolate();
    const served = await start([
      {
        circuitBreaker: {
          breaker,
          fallback: (req, error) => respond(200, { cached: true, path: req.path, state: error.state }),
        },
      },
    ]);
    const res = await get(served);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cached: true, path: '/ok', state: 'isolated' });
    expect(served.handled).toEqual([]);
  });

  test('an open period of centuries still gives Retry-After as delta-seconds (capped at 2^31 s)', async () => {
    const { breaker } = breakerFor({ trip: consecutiveFailures(1), openDuration: 1e300 });
    breaker.acquire().failure();
    const served = await start([{ circuitBreaker: { breaker } }]);
    const res = await get(served);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe(String(2 ** 31));
  });

  test('an isolated breaker answers 503 without Retry-After', async () => {
    const { breaker } = breakerFor();
    breaker.isolate();
    const served = await start([{ circuitBreaker: { breaker } }]);
    const res = await get(served);
    expect(res.status).toBe(503);
    expect(res.headers.has('retry-after')).toBe(false);
  });

  test('a request the client abandons after timeoutMs counts as a failure (a timeout)', async () => {
    const { breaker } = breakerFor({ trip: consecutiveFailures(1) });
    const served = await start([{ circuitBreaker: { breaker, timeoutMs: 50 } }]);
    await expect(get(served, '/slow', { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    await waitFor(() => breaker.state === 'open', 'the timeout to open the breaker');
    expect(breaker.snapshot().counters).toMatchObject({ failures: 1 });
  });

  test('a request the client abandons early is not counted either way', async () => {
    const { breaker } = breakerFor({ trip: consecutiveFailures(1) });
    const served = await start([{ circuitBreaker: { breaker } }]);
    await expect(get(served, '/slow', { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await waitFor(() => breaker.snapshot().counters.ignored === 1, 'the abandoned request to be recorded');
    expect(breaker.snapshot().counters).toMatchObject({ failures: 0, successes: 0 });
    expect(breaker.state).toBe('closed');
  });

  test('one breaker per service through a registry: a failing route does not take the others down', async () => {
    const registry = createBreakerRegistry({ clock: new ManualClock(), defaults: { trip: consecutiveFailures(1) } });
    const served = await start([{ circuitBreaker: { registry, service: (req) => req.path.slice(1) || undefined } }]);
    expect((await get(served, '/throw')).status).toBe(500);
    await waitFor(() => registry.get('throw').state === 'open', 'the throw breaker to open');
    expect((await get(served, '/throw')).status).toBe(503);
    expect((await get(served, '/ok')).status).toBe(200);
    expect(
      registry
        .snapshot()
        .map((s) => [s.name, s.state])
        .sort(),
    ).toEqual([
      ['ok', 'closed'],
      ['throw', 'open'],
    ]);
  });

  test("a client-chosen service name of any length never gives a 500 (the guide's `req.path.split('/')[1]`)", async () => {
    const registry = createBreakerRegistry({ clock: new ManualClock() });
    const served = await start([{ circuitBreaker: { registry, service: (req) => req.path.split('/')[1] } }]);
    const long = 'a'.repeat(300);
    const res = await get(served, `/${long}`);
    expect(res.status).toBe(404); // no such route: the handler's answer, not the guard's 500
    await waitFor(() => registry.size === 1, 'the request to be recorded');
    const [snapshot] = registry.snapshot();
    expect(snapshot?.name).toMatch(/^h:[\w-]{43}$/);
    expect(snapshot?.counters).toMatchObject({ calls: 1, successes: 1 });
    expect(registry.has(long)).toBe(true);
  });

  test('a long service name still gets a working breaker of its own', async () => {
    const registry = createBreakerRegistry({ clock: new ManualClock(), defaults: { trip: consecutiveFailures(1) } });
    const served = await start([{ circuitBreaker: { registry, service: (req) => req.header('x-service') } }]);
    const long = { 'x-service': 'upstream-'.repeat(40) };
    expect((await get(served, '/throw', { headers: long })).status).toBe(500);
    await waitFor(() => registry.get(long['x-service']).state === 'open', 'the long-named breaker to open');
    const refused = await get(served, '/ok', { headers: long });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { breaker: string }).breaker).toMatch(/^h:/);
    expect((await get(served, '/ok', { headers: { 'x-service': 'other' } })).status).toBe(200);
  });

  test('composes with other guards as a guard', async () => {
    const { breaker } = breakerFor();
    breaker.isolate();
    const tag: Guard = () => ({ action: 'continue', responseHeaders: new Headers({ 'x-gateway': 'portcullis' }) });
    const served = await start([{ guard: compose(tag, circuitBreakerGuard({ breaker })) }]);
    const res = await get(served);
    expect(res.status).toBe(503);
    expect(res.headers.get('x-gateway')).toBe('portcullis');
  });
});
