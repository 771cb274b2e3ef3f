import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { createGatewayRequest, type Verdict } from '@portcullis/core';
import { portcullis } from '@portcullis/core/fastify';
import { createRateLimiter, MemoryStore, rateLimitGuard, tokenBucket } from '@portcullis/ratelimit';
import { createForwarder, createRouteTable, createUpstreamPool, routerGuard } from '@portcullis/router';
import { ManualClock, startHttpServer } from '@portcullis/testkit';
import Fastify from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { openTelemetry } from '../src/opentelemetry.js';

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(async () => {
  propagation.disable();
  context.disable();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
});
beforeEach(() => {
  spans.reset();
});

/** The data points of one metric, as of a collection now. */
async function points(name: string): Promise<DataPoint<unknown>[]> {
  metricExporter.reset();
  await reader.forceFlush();
  const metrics = metricExporter
    .getMetrics()
    .flatMap((resource) => resource.scopeMetrics)
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name);
  return metrics.flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]);
}

function pointWith(list: DataPoint<unknown>[], attributes: Attributes): DataPoint<unknown> | undefined {
  const keys = Object.keys(attributes);
  return list.find(
    (p) => Object.keys(p.attributes).length === keys.length && keys.every((k) => p.attributes[k] === attributes[k]),
  );
}

function spanNamed(list: ReadableSpan[], name: string): ReadableSpan {
  const found = list.filter((s) => s.name === name);
  expect(found, `spans named ${name}: ${list.map((s) => s.name).join(', ')}`).toHaveLength(1);
  return found[0] as ReadableSpan;
}

describe('instrumentGuard: a span per request around the guard chain', () => {
  test('SERVER spans with the HTTP conventions, the trace carried upstream, the duration metric', async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const clock = new ManualClock();
    const limiter = createRateLimiter({
      store: new MemoryStore({ clock }),
      limits: { perMinute: tokenBucket({ capacity: 2, refillPerSecond: 0.001 }) },
      clock,
    });
    const table = createRouteTable([{ name: 'user', path: '/users/:id', methods: ['GET'] }]);
    const app = Fastify();
    await app.register(
      portcullis(otel.instrumentGuard([routerGuard({ table }), rateLimitGuard({ limiter, key: () => 'all' })])),
    );
    // What the upstream would receive: the handler reads the headers the guard chain set.
    app.get('/users/:id', async (request, reply) => {
      if ((request.params as { id: string }).id === 'broken') return reply.code(503).send({ down: true });
      return { traceparent: request.headers['traceparent'] ?? null };
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
      const clientSpan = '00f067aa0ba902b7';
      const first = await fetch(`${base}/users/%7e1`, {
        headers: { traceparent: `00-${clientTrace}-${clientSpan}-01` },
      });
      const sent = ((await first.json()) as { traceparent: string }).traceparent;
      await (await fetch(`${base}/users/broken`)).text();
      const limited = await fetch(`${base}/users/3`);
      expect(limited.status).toBe(429);
      await limited.text();
      await (await fetch(`${base}/nowhere?token=secret`)).text();

      const finished = spans.getFinishedSpans();
      expect(finished).toHaveLength(4);
      const [routed, broken, refused, unmatched] = finished as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
      // The client's trace continues: same trace, the client's span as parent; and goes on upstream.
      expect(routed.kind).toBe(SpanKind.SERVER);
      expect(routed.spanContext().traceId).toBe(clientTrace);
      expect(routed.parentSpanContext?.spanId).toBe(clientSpan);
      expect(sent).toBe(`00-${clientTrace}-${routed.spanContext().spanId}-01`);
      expect(routed.name).toBe('GET /users/:id');
      expect(routed.attributes).toMatchObject({
        'http.request.method': 'GET',
        'http.route': '/users/:id',
        'url.path': '/users/~1',
        'http.response.status_code': 200,
        'portcullis.route': 'user',
      });
      expect(routed.attributes['error.type']).toBeUndefined();
      expect(routed.status.code).toBe(SpanStatusCode.UNSET);
      // A new trace without a traceparent; a 5xx is an error.
      expect(broken.parentSpanContext).toBeUndefined();
      expect(broken.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
      expect(broken.status.code).toBe(SpanStatusCode.ERROR);
      // The 429 came from the limiter, after the router: its route is kept. A 4xx is no server error.
      expect(refused.attributes).toMatchObject({ 'http.route': '/users/:id', 'http.response.status_code': 429 });
      expect(refused.status.code).toBe(SpanStatusCode.UNSET);
      // No route: no http.route, no path at all (the raw path is client input).
      expect(unmatched.name).toBe('GET');
      expect(unmatched.attributes['http.route']).toBeUndefined();
      expect(unmatched.attributes['url.path']).toBeUndefined();
      expect(JSON.stringify(finished.map((s) => s.attributes))).not.toMatch(/secret|nowhere/);

      const durations = await points('http.server.request.duration');
      const count = (attributes: Attributes) =>
        (pointWith(durations, attributes)?.value as { count: number } | undefined)?.count;
      expect(
        count({ 'http.request.method': 'GET', 'http.route': '/users/:id', 'http.response.status_code': 200 }),
      ).toBe(1);
      expect(
        count({ 'http.request.method': 'GET', 'http.route': '/users/:id', 'http.response.status_code': 429 }),
      ).toBe(1);
      expect(
        count({
          'http.request.method': 'GET',
          'http.route': '/users/:id',
          'http.response.status_code': 503,
          'error.type': '503',
        }),
      ).toBe(1);
      expect(count({ 'http.request.method': 'GET', 'http.response.status_code': 404 })).toBe(1);
    } finally {
      await app.close();
    }
  });

  test('under an active span (an HTTP server instrumentation), an INTERNAL child; a throw is recorded', () => {
    const otel = openTelemetry({ tracerProvider, meterProvider, propagate: false });
    const outer = tracerProvider.getTracer('test').startSpan('GET', { kind: SpanKind.SERVER });
    const table = createRouteTable([{ name: 'user', path: '/users/:id' }]);
    const guard = otel.instrumentGuard(routerGuard({ table }));
    const request = createGatewayRequest({ method: 'PURGE', url: '/users/1', header: () => undefined });
    const verdict = context.with(trace.setSpan(context.active(), outer), () => guard(request)) as Verdict;
    if (verdict.action !== 'continue') throw new Error('expected a continue verdict');
    expect(verdict.upstreamHeaders).toBeUndefined(); // propagate: false
    verdict.onComplete?.({ status: 200, durationMs: 1 });
    outer.end();
    const inner = spanNamed(spans.getFinishedSpans(), 'HTTP /users/:id');
    expect(inner.kind).toBe(SpanKind.INTERNAL);
    expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(inner.attributes).toMatchObject({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PURGE',
    });

    spans.reset();
    const throwing = otel.instrumentGuard(() => {
      throw new TypeError('bad guard');
    });
    expect(() => throwing(request)).toThrow('bad guard');
    const failed = spanNamed(spans.getFinishedSpans(), 'HTTP');
    expect(failed.attributes['error.type']).toBe('TypeError');
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.events.map((e) => e.name)).toEqual(['exception']);
  });
});

describe('observeForwarder: a CLIENT span per attempt', () => {
  test('children of the active span, with server.address, port, status, resend count and failures', async () => {
    await using upstream = await startHttpServer();
    upstream.setHandler((_req, res) => {
      res.end('ok');
    });
    await using gone = await startHttpServer();
    await gone.stopListening();
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const forwarder = createForwarder({ retry: { maxAttempts: 2, backoff: { initialMs: 1, maxMs: 1 } } });
    expect(forwarder.events.has('attempt')).toBe(false);
    const detach = otel.observeForwarder(forwarder);
    const tracer = tracerProvider.getTracer('test');
    await using front = await startHttpServer();
    const pool = createUpstreamPool({
      name: 'users',
      endpoints: [
        { host: '127.0.0.1', port: gone.port },
        { host: '127.0.0.1', port: upstream.port },
      ],
      balancer: 'round-robin',
      breaker: false,
    });
    front.setHandler(
      (req, res) =>
        new Promise<void>((resolve) => {
          // What an HTTP server instrumentation does: the request's span is active while it is handled.
          const span = tracer.startSpan('request', { kind: SpanKind.SERVER });
          context.with(trace.setSpan(context.active(), span), () => {
            forwarder.forward(req, res, { endpoints: pool, path: req.url ?? '/' }, () => {
              span.end();
              resolve();
            });
          });
        }),
    );
    try {
      for (let i = 0; i < 2; i++) expect((await fetch(`${front.url}/users/1?q=secret`)).status).toBe(200);
    } finally {
      await pool.close();
      await forwarder.close();
      detach();
    }
    expect(forwarder.events.has('attempt')).toBe(false);
    const finished = spans.getFinishedSpans();
    const attempts = finished.filter((s) => s.kind === SpanKind.CLIENT);
    const requests = finished.filter((s) => s.name === 'request');
    // Round robin over the two: at least one request went to the gone endpoint first (refused), and
    // each refused attempt was retried on the other.
    const refusals = attempts.filter((s) => s.attributes['error.type'] === 'refused');
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(attempts).toHaveLength(2 + refusals.length);
    expect(attempts.filter((s) => s.attributes['http.request.resend_count'] === 1)).toHaveLength(refusals.length);
    const refused = refusals[0];
    expect(refused?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': gone.port,
    });
    expect(refused?.status.code).toBe(SpanStatusCode.ERROR);
    const retried = attempts.find((s) => s.attributes['http.request.resend_count'] === 1);
    expect(retried?.attributes).toMatchObject({ 'server.port': upstream.port, 'http.response.status_code': 200 });
    for (const attempt of attempts) {
      expect(requests.map((r) => r.spanContext().spanId)).toContain(attempt.parentSpanContext?.spanId);
      expect(attempt.attributes['url.full']).toBeUndefined();
    }
    expect(JSON.stringify(attempts.map((s) => s.attributes))).not.toMatch(/secret/);

    const durations = await points('http.client.request.duration');
    const ok = pointWith(durations, {
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': upstream.port,
      'http.response.status_code': 200,
    });
    expect((ok?.value as { count: number }).count).toBe(2);
    const refusedPoint = pointWith(durations, {
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': gone.port,
      'error.type': 'refused',
    });
    expect((refusedPoint?.value as { count: number }).count).toBe(refusals.length);
    const attemptsMetric = await points('portcullis.forward.attempts');
    expect(
      pointWith(attemptsMetric, {
        'portcullis.endpoint': `127.0.0.1:${String(gone.port)}`,
        'portcullis.result': 'refused',
        'portcullis.retry': 'false',
      })?.value,
    ).toBe(refusals.length);
  });
});

describe('the observers through the Meter API', () => {
  test('event counters, and gauges read once per collection from the snapshot, until detached', async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    const clock = new ManualClock();
    const limiter = createRateLimiter({
      store: new MemoryStore({ clock }),
      limits: { perSecond: tokenBucket({ capacity: 1, refillPerSecond: 1 }) },
      clock,
    });
    otel.observeLimiter(limiter, { name: 'api' });
    await limiter.limit('a');
    await limiter.limit('a');
    const decisions = await points('portcullis.ratelimit.decisions');
    const base = { 'portcullis.limiter': 'api', 'portcullis.source': 'store' };
    expect(pointWith(decisions, { ...base, 'portcullis.result': 'allowed', 'portcullis.limited_by': '' })?.value).toBe(
      1,
    );
    expect(
      pointWith(decisions, { ...base, 'portcullis.result': 'denied', 'portcullis.limited_by': 'perSecond' })?.value,
    ).toBe(1);

    const pool = createUpstreamPool({ name: 'orders', endpoints: [{ host: '127.0.0.1', port: 9 }], breaker: false });
    let reads = 0;
    const detach = otel.observePool({
      name: pool.name,
      events: pool.events,
      snapshot: () => {
        reads++;
        return pool.snapshot();
      },
    });
    try {
      const endpoints = await points('portcullis.pool.endpoints');
      expect(pointWith(endpoints, { 'portcullis.pool': 'orders' })?.value).toBe(1);
      expect(reads).toBe(1);
      const up = await points('portcullis.pool.endpoint.up');
      expect(pointWith(up, { 'portcullis.pool': 'orders', 'portcullis.endpoint': '127.0.0.1:9' })?.value).toBe(1);
      expect(reads).toBe(2);
      detach();
      await points('portcullis.pool.endpoints');
      expect(reads).toBe(2);
      expect(pool.events.has('ejected')).toBe(false);
    } finally {
      await pool.close();
    }
  });

  test('recordRequest: http.server.request.duration with the route given, no span', async () => {
    const otel = openTelemetry({ tracerProvider, meterProvider });
    otel.recordRequest({ method: 'DELETE', route: '/carts/:id', status: 502, durationMs: 250 });
    const point = pointWith(await points('http.server.request.duration'), {
      'http.request.method': 'DELETE',
      'http.route': '/carts/:id',
      'http.response.status_code': 502,
      'error.type': '502',
    });
    expect(point?.value).toMatchObject({ count: 1, sum: 0.25 });
    expect(spans.getFinishedSpans()).toEqual([]);
    expect(() => {
      otel.recordRequest({ method: 'GET', status: 200, durationMs: -1 });
    }).toThrow(/durationMs/);
  });

  test('options are validated', () => {
    expect(() => openTelemetry({ tracerProvider: {} as never })).toThrow(/tracerProvider/);
    expect(() => openTelemetry({ meterProvider: {} as never })).toThrow(/meterProvider/);
    expect(() => openTelemetry({ propagate: 'yes' as never })).toThrow(/propagate/);
    expect(() => openTelemetry({ buckets: { seconds: [2, 1] } })).toThrow(/buckets\.seconds/);
  });
});
