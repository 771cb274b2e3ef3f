import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRateLimiter, MemoryStore, rateLimitGuard, tokenBucket } from '@portcullis/ratelimit';
import { portcullis } from '@portcullis/core/fastify';
import { createJwtVerifier } from '@portcullis/jwt-cache';
import { createForwarder, createRouteTable, createUpstreamPool, fixedEndpoints, routerGuard } from '@portcullis/router';
import {
  generateKeyPair,
  ManualClock,
  samplesOf,
  scrape,
  startHttpServer,
  startJwksServer,
  valueOf,
} from '@portcullis/testkit';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { prometheusMetrics } from '../src/prometheus.js';

function unsignedToken(header: object, payload: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.${Buffer.from('not a signature').toString('base64url')}`;
}

describe('observePool, against real endpoints', () => {
  test('health comes from active checks and outcomes, read when scraped; counters per pool only', async () => {
    await using good = await startHttpServer();
    await using bad = await startHttpServer();
    good.setHandler((_req, res) => {
      res.end('ok');
    });
    bad.setHandler((_req, res) => {
      res.writeHead(503).end('down');
    });
    const clock = new ManualClock();
    const pool = createUpstreamPool({
      name: 'users',
      endpoints: [
        { host: '127.0.0.1', port: good.port },
        { host: '127.0.0.1', port: bad.port },
      ],
      healthCheck: { path: '/health', intervalMs: 60_000, unhealthyThreshold: 1, healthyThreshold: 1 },
      outlierDetection: { consecutiveGatewayErrors: 2, baseEjectionTimeMs: 10_000, maxEjectionPercent: 100 },
      breaker: false,
      clock,
    });
    const metrics = prometheusMetrics({ registry: new Registry() });
    expect(pool.events.has('unhealthy')).toBe(false);
    const detach = metrics.observePool(pool);
    try {
      await pool.checkNow();
      const goodId = `127.0.0.1:${String(good.port)}`;
      const badId = `127.0.0.1:${String(bad.port)}`;
      let samples = await scrape(metrics.registry);
      expect(valueOf(samples, 'portcullis_pool_endpoints', { pool: 'users' })).toBe(2);
      expect(valueOf(samples, 'portcullis_pool_available_endpoints', { pool: 'users' })).toBe(1);
      expect(valueOf(samples, 'portcullis_pool_endpoint_healthy', { pool: 'users', endpoint: goodId })).toBe(1);
      expect(valueOf(samples, 'portcullis_pool_endpoint_healthy', { pool: 'users', endpoint: badId })).toBe(0);
      expect(valueOf(samples, 'portcullis_pool_endpoint_up', { pool: 'users', endpoint: badId })).toBe(0);
      expect(valueOf(samples, 'portcullis_pool_health_changes_total', { pool: 'users', health: 'unhealthy' })).toBe(1);

      // Two gateway errors in a row from the good endpoint eject it (passive outlier detection).
      const lease = pool.acquire();
      expect(lease?.id).toBe(goodId);
      lease?.complete({ status: 502, durationMs: 5 });
      const held = pool.acquire();
      expect(pool.inFlight).toBe(1);
      samples = await scrape(metrics.registry);
      expect(valueOf(samples, 'portcullis_pool_in_flight', { pool: 'users' })).toBe(1);
      expect(valueOf(samples, 'portcullis_pool_endpoint_in_flight', { pool: 'users', endpoint: goodId })).toBe(1);
      held?.complete({ status: 502, durationMs: 5 });
      samples = await scrape(metrics.registry);
      expect(valueOf(samples, 'portcullis_pool_endpoint_ejected', { pool: 'users', endpoint: goodId })).toBe(1);
      expect(
        valueOf(samples, 'portcullis_pool_ejections_total', { pool: 'users', reason: 'consecutive-gateway-errors' }),
      ).toBe(1);
      expect(valueOf(samples, 'portcullis_pool_panic', { pool: 'users' })).toBe(1);
      expect(valueOf(samples, 'portcullis_pool_panics_total', { pool: 'users' })).toBe(1);
      // Counters never carry an endpoint: endpoints that come and go leave nothing behind.
      for (const name of ['portcullis_pool_ejections_total', 'portcullis_pool_health_changes_total']) {
        expect(samplesOf(samples, name).every((s) => s.labels['endpoint'] === undefined)).toBe(true);
      }

      // An endpoint that leaves the pool leaves the scrape.
      pool.update([{ host: '127.0.0.1', port: good.port }]);
      samples = await scrape(metrics.registry);
      expect(samplesOf(samples, 'portcullis_pool_endpoint_up', { endpoint: badId })).toEqual([]);
      expect(valueOf(samples, 'portcullis_pool_endpoints', { pool: 'users' })).toBe(1);
    } finally {
      detach();
      await pool.close();
    }
    expect(pool.events.has('unhealthy')).toBe(false);
    expect(pool.events.has('ejected')).toBe(false);
    expect(samplesOf(await scrape(metrics.registry), 'portcullis_pool_endpoints')).toEqual([]);
  });

  test('a pool that is closed and dropped is not kept alive by its metrics', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const metrics = prometheusMetrics({ registry: new Registry() });
    let pool: ReturnType<typeof createUpstreamPool> | undefined = createUpstreamPool({
      name: 'transient',
      endpoints: [{ host: '127.0.0.1', port: 9 }],
    });
    metrics.observePool(pool); // never detached
    const ref = new WeakRef(pool);
    expect(valueOf(await scrape(metrics.registry), 'portcullis_pool_endpoints', { pool: 'transient' })).toBe(1);
    await pool.close();
    pool = undefined;
    for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
    expect(samplesOf(await scrape(metrics.registry), 'portcullis_pool_endpoints')).toEqual([]);
  });
});

describe('observeForwarder, against a real upstream', () => {
  test('counts attempts by endpoint, result and retry; never the path', async () => {
    await using upstream = await startHttpServer();
    upstream.setHandler((req, res) => {
      res.writeHead(req.url === '/fail' ? 500 : 200).end('x');
    });
    const forwarder = createForwarder();
    const metrics = prometheusMetrics({ registry: new Registry() });
    expect(forwarder.events.has('attempt')).toBe(false);
    metrics.observeForwarder(forwarder);
    await using front = await startHttpServer();
    const endpoints = fixedEndpoints([upstream.url]);
    front.setHandler(
      (req, res) =>
        new Promise<void>((resolve) => {
          forwarder.forward(req, res, { endpoints, path: req.url ?? '/' }, () => {
            resolve();
          });
        }),
    );
    for (const path of ['/ok', '/ok?user=alice', '/fail']) await (await fetch(`${front.url}${path}`)).text();
    await forwarder.close();
    const samples = await scrape(metrics.registry);
    const endpoint = `127.0.0.1:${String(upstream.port)}`;
    expect(valueOf(samples, 'portcullis_forward_attempts_total', { endpoint, result: '2xx', retry: 'false' })).toBe(2);
    expect(valueOf(samples, 'portcullis_forward_attempts_total', { endpoint, result: '5xx', retry: 'false' })).toBe(1);
    expect(valueOf(samples, 'portcullis_forward_attempt_duration_seconds_count', { endpoint })).toBe(3);
    expect(JSON.stringify(samples)).not.toMatch(/alice|\/ok|\/fail/);
  });
});

describe('observeVerifier, against a real JWKS endpoint', () => {
  test('counts fetches by reason, kid misses and failures by reason; never a kid or an issuer', async () => {
    const key = generateKeyPair('ES256', 'k1');
    await using jwks = await startJwksServer({ keys: [key.publicJwk] });
    const issuer = 'https://id.example.com/';
    const verifier = createJwtVerifier({ issuers: { [issuer]: { jwks: jwks.url } } });
    const metrics = prometheusMetrics({ registry: new Registry() });
    expect(verifier.events.has('fetch')).toBe(false);
    metrics.observeVerifier(verifier);
    try {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: issuer, sub: 'alice', iat: now, exp: now + 60 };
      await expect(verifier.verify(unsignedToken({ alg: 'ES256', kid: 'k1' }, claims))).rejects.toThrow();
      await expect(verifier.verify(unsignedToken({ alg: 'ES256', kid: 'attacker-kid' }, claims))).rejects.toThrow();
      await expect(verifier.verify('not.a.token')).rejects.toThrow();
      await expect(
        verifier.verify(unsignedToken({ alg: 'ES256', kid: 'k1' }, { ...claims, iss: 'https://evil.example/' })),
      ).rejects.toThrow();
    } finally {
      verifier.dispose();
    }
    const samples = await scrape(metrics.registry);
    expect(
      valueOf(samples, 'portcullis_jwks_fetches_total', { source: jwks.url, reason: 'initial', result: 'ok' }),
    ).toBe(1);
    expect(
      samplesOf(samples, 'portcullis_jwks_kid_misses_total', { source: jwks.url }).reduce((n, s) => n + s.value, 0),
    ).toBe(1);
    const failures = samplesOf(samples, 'portcullis_jwt_failures_total');
    expect(failures.reduce((n, s) => n + s.value, 0)).toBe(4);
    expect(valueOf(samples, 'portcullis_jwt_failures_total', { reason: 'malformed' })).toBe(1);
    expect(valueOf(samples, 'portcullis_jwt_failures_total', { reason: 'unknown_issuer' })).toBe(1);
    expect(JSON.stringify(samples)).not.toMatch(/attacker-kid|evil\.example|alice/);
  });
});

describe('instrumentGuard on a real socket (Fastify)', () => {
  test('one series per route name, whatever the paths clients send', async () => {
    const clock = new ManualClock();
    const limiter = createRateLimiter({
      store: new MemoryStore({ clock }),
      limits: { perMinute: tokenBucket({ capacity: 4, refillPerSecond: 0.001 }) },
      clock,
    });
    const metrics = prometheusMetrics({ registry: new Registry() });
    metrics.observeLimiter(limiter, { name: 'edge' });
    const table = createRouteTable([{ name: 'user', path: '/users/:id', methods: ['GET'] }]);
    const app = Fastify();
    // The guarded routes in their own scope; /metrics outside it.
    await app.register(async function api(scope) {
      await scope.register(
        portcullis(metrics.instrumentGuard([routerGuard({ table }), rateLimitGuard({ limiter, key: () => 'all' })])),
      );
      scope.get('/users/:id', () => ({ ok: true }));
      scope.get('/*', () => ({ unreachable: true }));
    });
    app.get('/metrics', async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      for (const id of ['1', '2', '3', 'alice', 'bob']) await (await fetch(`${base}/users/${id}`)).text();
      await (await fetch(`${base}/nowhere/at/all`)).text();
      const samples = await scrape({ metrics: async () => (await fetch(`${base}/metrics`)).text() });
      const count = (labels: Record<string, string>) =>
        valueOf(samples, 'portcullis_http_request_duration_seconds_count', labels);
      expect(count({ method: 'GET', route: 'user', status_class: '2xx' })).toBe(4);
      expect(count({ method: 'GET', route: 'user', status_class: '4xx' })).toBe(1);
      expect(count({ method: 'GET', route: '', status_class: '4xx' })).toBe(1);
      expect(samplesOf(samples, 'portcullis_http_request_duration_seconds_count')).toHaveLength(3);
      expect(
        valueOf(samples, 'portcullis_ratelimit_decisions_total', {
          limiter: 'edge',
          result: 'denied',
          source: 'store',
          limited_by: 'perMinute',
        }),
      ).toBe(1);
      expect(JSON.stringify(samples)).not.toMatch(/alice|bob|nowhere/);
    } finally {
      await app.close();
    }
  });
});
