import type { JwtVerifier } from '@portcullis/jwt-cache';
import type { RateLimiter } from '@portcullis/ratelimit';
import { prometheusMetrics } from '@portcullis/telemetry/prometheus';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Registry } from 'prom-client';
import type { Forwarder } from './forward.js';
import type { ServicePools } from './pools.js';
import type { OrdersCanary } from './routes.js';
import { SERVICES } from './services.js';

/** What the gateway's metrics are read from. */
export interface GatewayMetricsParts {
  readonly limiter: RateLimiter;
  readonly verifier: JwtVerifier;
  readonly pools: ServicePools;
  readonly canary: OrdersCanary;
  readonly forwarder: Forwarder;
}

/**
 * The route label of a request: the gateway route it matched (`users`, `orders`…), else the
 * Fastify route's template (`/demo/token`), else `''` (a 404). Never `request.url`: every label
 * value must come from configuration, or a client could create a series per path it sends.
 */
function routeLabel(request: FastifyRequest): string {
  const route = (request.portcullis as { route?: { name?: unknown } } | null | undefined)?.route?.name;
  return typeof route === 'string' ? route : (request.routeOptions.url ?? '');
}

/**
 * `GET /metrics` in Prometheus's text format, from a registry of the gateway's own: every request
 * (method, route, status class, duration), the limiter's decisions, each upstream pool's health
 * (read when scraped), the orders canary's weight and phase, the JWT verifier's key fetches and
 * failures, and the forwarder's attempts per service (its own counters, read when scraped). The
 * metrics are detached when the app closes.
 *
 * @example
 * ```ts
 * mountMetrics(app, { limiter, verifier, pools, canary: routes.canary, forwarder });
 * // curl -s localhost:8080/metrics | grep portcullis_pool_endpoint_up
 * ```
 */
export function mountMetrics(app: FastifyInstance, parts: GatewayMetricsParts): void {
  const registry = new Registry();
  const metrics = prometheusMetrics({ registry });
  const detach = [
    metrics.observeLimiter(parts.limiter, { name: 'plans' }),
    metrics.observeVerifier(parts.verifier),
    metrics.observeCanary(parts.canary, { name: 'orders-v2' }),
    ...SERVICES.map((service) => metrics.observePool(parts.pools.pools[service])),
  ];
  // The example's forwarder keeps its own counts per service: a counter of our own reads them when
  // Prometheus scrapes (services come from configuration, so the label stays bounded).
  const attempts: Counter = new Counter({
    name: 'gateway_upstream_attempts_total',
    help: 'Attempts to reach an instance of a service (retries included), by result (ok, failed).',
    labelNames: ['service', 'result'],
    registers: [registry],
    collect() {
      attempts.reset();
      for (const [service, stats] of Object.entries(parts.forwarder.stats())) {
        attempts.inc({ service, result: 'ok' }, stats.attempts - stats.failures);
        attempts.inc({ service, result: 'failed' }, stats.failures);
      }
    },
  });

  app.addHook('onResponse', (request, reply, done) => {
    metrics.recordRequest({
      method: request.method,
      route: routeLabel(request),
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
    });
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    for (const off of detach) off();
    done();
  });
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}
