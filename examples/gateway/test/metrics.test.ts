import { parsePrometheusText, samplesOf, valueOf, type Sample } from '@portcullis/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw.close();
});

async function scrapeGateway(): Promise<{ samples: Sample[]; text: string; type: string | null }> {
  const res = await fetch(`${gw.base}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { samples: parsePrometheusText(text), text, type: res.headers.get('content-type') };
}

describe('GET /metrics', () => {
  test('after a few requests: requests by route, limiter decisions, pools, canary, JWT fetches, attempts', async () => {
    const key = { 'x-api-key': 'demo-enterprise' };
    for (const path of ['/api/users/1', '/api/users/2', '/api/users?q=secret-id-123']) {
      expect((await fetch(`${gw.base}${path}`, { headers: key })).status).toBe(200);
    }
    expect((await fetch(`${gw.base}/api/orders`, { headers: { ...key, 'x-canary': 'never' } })).status).toBe(200);
    expect((await fetch(`${gw.base}/api/nowhere`, { headers: key })).status).toBe(404);
    expect((await fetch(`${gw.base}/api/users`)).status).toBe(401);
    const token = await gw.token('alice', 'free');
    expect((await fetch(`${gw.base}/api/products`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );

    const { samples, text, type } = await scrapeGateway();
    expect(type).toContain('text/plain');
    const requests = (labels: Record<string, string>) =>
      valueOf(samples, 'portcullis_http_request_duration_seconds_count', labels);
    expect(requests({ method: 'GET', route: 'users', status_class: '2xx' })).toBe(3);
    expect(requests({ method: 'GET', route: 'orders', status_class: '2xx' })).toBe(1);
    expect(requests({ method: 'GET', route: 'products', status_class: '2xx' })).toBe(1);
    // Answered before any gateway route matched: labelled by the Fastify route's template.
    expect(requests({ method: 'GET', route: '/api/*', status_class: '4xx' })).toBe(2);
    expect(requests({ method: 'POST', route: '/demo/token', status_class: '2xx' })).toBe(1);

    // Every request that reached the limits was allowed (enterprise and free plans have room).
    const decisions = samplesOf(samples, 'portcullis_ratelimit_decisions_total', { limiter: 'plans' });
    expect(decisions.filter((s) => s.labels['result'] === 'allowed').reduce((n, s) => n + s.value, 0)).toBe(6);
    expect(decisions.filter((s) => s.labels['result'] === 'denied')).toEqual([]);

    for (const pool of ['users', 'products', 'orders', 'orders-v2']) {
      expect(valueOf(samples, 'portcullis_pool_endpoints', { pool })).toBe(1);
      expect(valueOf(samples, 'portcullis_pool_available_endpoints', { pool })).toBe(1);
      expect(samplesOf(samples, 'portcullis_pool_endpoint_up', { pool }).map((s) => s.value)).toEqual([1]);
    }
    expect(valueOf(samples, 'portcullis_canary_weight_ratio', { canary: 'orders-v2' })).toBe(0.1);
    expect(valueOf(samples, 'portcullis_canary_phase', { canary: 'orders-v2', phase: 'progressing' })).toBe(1);
    expect(
      valueOf(samples, 'portcullis_jwks_fetches_total', { source: gw.issuer.jwksUrl, reason: 'initial', result: 'ok' }),
    ).toBe(1);
    expect(valueOf(samples, 'gateway_upstream_attempts_total', { service: 'users', result: 'ok' })).toBe(3);

    // No label carries what a client sent.
    expect(text).not.toContain('secret-id-123');
    expect(text).not.toContain('nowhere');
    expect(text).not.toContain('demo-enterprise');
  });

  test('a failing instance shows in its pool when scraped', async () => {
    await fetch(`${gw.base}/demo/upstream?service=products&failing=true`, { method: 'POST' });
    try {
      for (let i = 0; i < 3; i++)
        await (await fetch(`${gw.base}/api/products/1`, { headers: { 'x-api-key': 'demo-pro' } })).text();
      const { samples } = await scrapeGateway();
      expect(valueOf(samples, 'portcullis_pool_available_endpoints', { pool: 'products' })).toBe(0);
      expect(samplesOf(samples, 'portcullis_pool_endpoint_up', { pool: 'products' }).map((s) => s.value)).toEqual([0]);
      const failed = valueOf(samples, 'gateway_upstream_attempts_total', { service: 'products', result: 'failed' });
      expect(failed).toBeGreaterThanOrEqual(3);
    } finally {
      await fetch(`${gw.base}/demo/upstream?service=products&failing=false`, { method: 'POST' });
    }
  });
});
