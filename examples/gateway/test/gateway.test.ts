import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildGateway } from '../src/app.js';
import { createPlanLimiter } from '../src/plans.js';
import { startDemoUpstream, type DemoUpstream } from '../src/upstream.js';

let upstream: DemoUpstream;
let gateway: FastifyInstance;
let base: string;

beforeAll(async () => {
  upstream = await startDemoUpstream();
  gateway = await buildGateway({ limiter: createPlanLimiter(), upstreamUrl: upstream.url });
  base = await gateway.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

const get = (path: string, apiKey?: string, extra: Record<string, string> = {}): Promise<Response> =>
  fetch(`${base}${path}`, { headers: { ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }), ...extra } });

describe('example gateway', () => {
  test('health answers without a key', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'pass' });
  });

  test('an unknown key is refused with problem+json', async () => {
    const res = await get('/api/users', 'nope');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  test('forwards to the upstream with the tier set by the gateway, not by the client', async () => {
    const res = await get('/api/users/1', 'demo-pro', { 'x-portcullis-tier': 'enterprise' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ upstream: 'catalogue', tier: 'pro', data: { id: 1, name: 'Ada' } });
    expect(res.headers.get('ratelimit-policy')).toMatch(/;q=\d+;w=\d+/);
    expect(res.headers.get('x-ratelimit-limit')).not.toBeNull();
  });

  test('the free tier bursts to 5 and then gets 429 with Retry-After; pro is unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await get('/api/products', 'demo-free')).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const limited = await get('/api/products', 'demo-free');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await get('/api/products', 'demo-pro')).status).toBe(200);
  });

  test('the usage API reports every dimension of the tier', async () => {
    const res = await get('/api/quota', 'demo-enterprise');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      tier: string;
      dimensions: { name: string; limit: number; remaining: number }[];
    };
    expect(body.tier).toBe('enterprise');
    expect(body.dimensions.map((d) => d.name)).toEqual(['perSecond', 'daily', 'monthly']);
    expect(body.dimensions.find((d) => d.name === 'daily')).toMatchObject({ limit: 10_000_000 });
  });
});
