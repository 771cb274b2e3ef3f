import { Readable } from 'node:stream';
import type { Clock } from '@portcullis/core';
import { portcullis } from '@portcullis/core/fastify';
import type { JwtVerifier } from '@portcullis/jwt-cache';
import type { RateLimiter } from '@portcullis/ratelimit';
import { rateLimit } from '@portcullis/ratelimit/fastify';
import type { Health } from '@portcullis/health';
import { healthEndpoints } from '@portcullis/health/fastify';
import { router } from '@portcullis/router/fastify';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { authenticate, type CustomerContext } from './auth.js';
import { cancelWhenClientLeaves } from './cancel.js';
import type { CorsOptions } from './cors.js';
import { gatewayCors } from './cors-hook.js';
import type { FallbackCacheOptions } from './fallback-cache.js';
import { resilientForwarder, type UpstreamAnswer } from './forward.js';
import { gatewayHealth, healthDetails } from './health.js';
import { hasBody } from './http-headers.js';
import { cacheScope } from './cache-scope.js';
import type { DemoIssuer } from './issuer.js';
import { mountMetrics } from './metrics.js';
import type { Customer } from './plans.js';
import type { ServicePools } from './pools.js';
import { problemErrorHandler, problemNotFound, sendProblem } from './problems.js';
import { gatewayRoutes, type GatewayRoutes } from './routes.js';
import { SERVICES, type DemoFleet, type ServiceName } from './services.js';
import { usageRoute } from './usage.js';

/** What the gateway is built from. */
export interface GatewayParts {
  /** Decides per-tier limits and quotas (memory or Redis). */
  limiter: RateLimiter;
  /** Verifies bearer tokens (JWKS fetched over HTTP from the issuer). */
  verifier: JwtVerifier;
  /** The demo identity provider, for the `/demo/token` and `/demo/rotate` routes. */
  issuer: DemoIssuer;
  /** The upstream pool of each service (see `createServicePools`); closed by their owner. */
  pools: ServicePools;
  /** The route table, the orders split and its canary. Default: `gatewayRoutes({ clock })`. */
  routes?: GatewayRoutes | undefined;
  /** The demo instances, for the chaos switches of `/demo/upstream` and `/demo/canary`. Default: none. */
  fleet?: DemoFleet | undefined;
  /** The health the `/health` endpoints answer. Default: `gatewayHealth({ pools, canary })`. */
  health?: Health | undefined;
  /** Time for retry, the fallback cache and the canary (tests steer it). Default: the system clock. */
  clock?: Clock | undefined;
  /** Which browser origins may call `/api`; see {@link CorsOptions}. Default: any origin. */
  cors?: CorsOptions | undefined;
  /** The last-good-answer cache for reads; see {@link FallbackCacheOptions}. */
  fallbackCache?: FallbackCacheOptions | undefined;
}

function customerOf(context: unknown): Customer | undefined {
  return (context as Partial<CustomerContext> | null | undefined)?.identity;
}

/**
 * The example gateway: `/health` answers unguarded; everything under `/api` is authenticated (a
 * bearer token verified against the issuer's JWKS, or an API key), limited per customer and tier
 * (per-second bucket + calendar day and month quotas, atomically), routed (`/api/users`,
 * `/api/products`, `/api/orders`; orders split between v1 and the v2 canary, sticky per customer,
 * moved and rolled back by a canary controller), and forwarded to an instance of the service's
 * upstream pool (least-request, health checks, outlier ejection, a breaker per instance) with
 * identity headers the client cannot spoof, through retry on another instance, a timeout and a
 * per-customer cached-response fallback for reads; bodies and answers stream through untouched.
 * `/api/quota` is the usage API (limited on its own, not by the plan it reports). CORS preflights
 * are answered before authentication. `/demo/token` and `/demo/rotate` drive the demo issuer;
 * `/demo/pools`, `/demo/upstream` and `/demo/canary` show and break the upstreams. Errors of the
 * gateway's own are problem+json.
 *
 * @example
 * ```ts
 * const app = await buildGateway({ limiter, verifier, issuer, upstreamUrl: 'http://127.0.0.1:9000' });
 * await app.listen({ port: 8080 });
 * ```
 */
export async function buildGateway(parts: GatewayParts): Promise<FastifyInstance> {
  const { limiter, verifier, issuer, pools, fleet } = parts;
  const app = Fastify({ logger: false });
  const forwarder = resilientForwarder({ clock: parts.clock, fallbackCache: parts.fallbackCache });
  const routes = parts.routes ?? gatewayRoutes({ clock: parts.clock });
  const health = parts.health ?? gatewayHealth({ pools, canary: routes.canary });
  const ownHealth = parts.health === undefined;
  mountMetrics(app, { limiter, verifier, pools, canary: routes.canary, forwarder }); // GET /metrics
  app.addHook('onClose', async () => {
    if (ownHealth) health.dispose();
    routes.canary.close();
    await forwarder.close();
  });
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler(problemNotFound);
  // First: /health, /health/live, /health/ready (and per check) answer before any other guard;
  // the public sees the status, a caller with the demo's health token the checks.
  await app.register(healthEndpoints(health, { details: healthDetails }));
  // First, so that preflights are answered before any guard and every answer carries the headers.
  gatewayCors(app, parts.cors ?? { origins: '*' });

  // Demo only: an identity provider that signs whatever it is asked to.
  app.post('/demo/token', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const sub = query['user'] ?? 'alice';
    const tier = query['tier'] ?? 'free';
    return { token: await issuer.mint({ sub, tier, team: query['team'] ?? 'demo' }), kid: issuer.currentKid };
  });
  app.post('/demo/rotate', () => {
    const rotation = issuer.rotate();
    return rotation.pending === undefined
      ? rotation
      : {
          ...rotation,
          detail:
            `${rotation.pending} is published; the gateway has not fetched it yet, so tokens are signed with ` +
            `${rotation.kid} until it has (its next JWKS refresh, within 30 s)`,
        };
  });
  // The upstream pools: each instance's health, ejection, breaker and requests in flight.
  app.get('/demo/pools', () => pools.snapshot());
  // Attempts per service and how many failed (retries are attempts too).
  app.get('/demo/forwarding', () => forwarder.stats());
  // Chaos: POST /demo/upstream?service=users&instance=2&failing=true makes that instance (or, without
  // `instance`, every instance of the service) answer 503 to everything, its health check included.
  app.post('/demo/upstream', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const service = query['service'] ?? 'users';
    const instances = fleet?.services[service as ServiceName];
    if (!(SERVICES as readonly string[]).includes(service) || instances === undefined) {
      return sendProblem(reply, 400, `service must be one of ${SERVICES.join(', ')} (and the demo fleet running)`);
    }
    const index = query['instance'] === undefined ? undefined : Number(query['instance']);
    if (index !== undefined && !(Number.isInteger(index) && index >= 1 && index <= instances.length)) {
      return sendProblem(reply, 400, `instance must be 1 to ${String(instances.length)}`);
    }
    const failing = query['failing'] === 'true';
    const chosen = index === undefined ? instances : instances.slice(index - 1, index);
    await Promise.all(chosen.map((instance) => instance.setFailing(failing)));
    return { service, instances: chosen.map((i) => i.instance), failing };
  });
  // The orders canary (v2): its share, phase and last decision.
  app.get('/demo/canary', () => ({
    state: routes.canary.state() ?? null,
    lastDecision: routes.canary.lastDecision() ?? null,
  }));
  // Chaos for the canary: POST /demo/canary?errorRate=0.5&latencyMs=300 makes v2 a bad release
  // (restart=true starts the release over after a rollback).
  app.post('/demo/canary', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const errorRate = Number(query['errorRate'] ?? 0);
    const latencyMs = Number(query['latencyMs'] ?? 0);
    if (!(errorRate >= 0 && errorRate <= 1) || !(latencyMs >= 0 && latencyMs <= 10_000)) {
      return sendProblem(reply, 400, 'errorRate must be 0 to 1 and latencyMs 0 to 10000');
    }
    await Promise.all(
      (fleet?.services['orders-v2'] ?? []).map((instance) => instance.setChaos({ errorRate, latencyMs })),
    );
    if (query['restart'] === 'true') await routes.canary.restart();
    return { errorRate, latencyMs, state: routes.canary.state() ?? null };
  });

  await app.register(
    async function api(scope) {
      await scope.register(portcullis(authenticate(verifier)));

      // The usage API: its own scope and limit, so reading usage neither spends nor is refused by
      // the limits it reports.
      await scope.register(usageRoute(limiter, customerOf));

      await scope.register(async function proxy(forwarding) {
        await forwarding.register(
          rateLimit({
            limiter,
            key: (req) => customerOf(req.context)?.id,
            tier: (req) => customerOf(req.context)?.tier,
            headers: 'both',
          }),
        );
        // Bodies are the upstream's business: no parsing, no size limit, whatever the type; the
        // request stream is handed on untouched.
        // Routing after the limits: which service, and for orders which release (sticky per customer).
        // The router feeds each answer's status and time to the orders canary.
        await forwarding.register(router({ table: routes.table, variantHeader: 'x-portcullis-variant' }));
        forwarding.removeAllContentTypeParsers();
        forwarding.addContentTypeParser('*', function passThrough(_request, _payload, done) {
          done(null);
        });

        // Forward what the router matched to an instance of its service, through retry, timeout and fallback.
        forwarding.all('/*', async (request, reply) => {
          const context = request.portcullis;
          const route = context?.route?.name;
          const service = route === undefined ? undefined : routes.serviceOf(route, context?.variant);
          if (service === undefined) return problemNotFound(request, reply);
          // The client went away: stop retrying and cancel the upstream call.
          const gone = cancelWhenClientLeaves(reply.raw);
          const customer = customerOf(request.portcullis);
          const answer = await forwarder.forward({
            endpoints: pools.pools[service],
            service,
            method: request.method,
            // The path the router decided on (canonical), less /api, and the query as it came.
            path: upstreamPath(context?.canonicalPath ?? request.url, request.url),
            headers: request.headers,
            body: hasBody(request.headers) ? request.raw : undefined,
            // Everything the upstream's answer may depend on about the caller (what the gateway tells
            // it: the identity headers carry both) and which service answered. Never for the canary:
            // a cached answer would hide its failures from the controller that must see them.
            scope: customer === undefined || context?.variant === 'canary' ? undefined : cacheScope(service, customer),
            signal: gone,
          });
          return relay(reply, answer, request.method === 'HEAD');
        });
      });
    },
    { prefix: '/api' },
  );

  return app;
}

/**
 * Sends an upstream's answer: its status, headers and body as they came. Headers the gateway set
 * already (rate-limit headers) stay; its CORS headers win over the upstream's (CORS is the
 * gateway's policy); `Vary` is merged. A HEAD answer keeps the upstream's `content-length`.
 */
function relay(reply: FastifyReply, answer: UpstreamAnswer, head: boolean): FastifyReply {
  reply.code(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name.startsWith('access-control-')) continue;
    if (name === 'vary') mergeVary(reply, value);
    else if (!reply.hasHeader(name)) reply.header(name, value);
  }
  if (answer.servedBy !== undefined) reply.header('x-portcullis-served-by', answer.servedBy);
  if (answer.endpoint !== undefined) reply.header('x-portcullis-instance', answer.endpoint);
  if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
  if (head) {
    if (answer.body instanceof Readable) answer.body.destroy();
    return reply.send();
  }
  return reply.send(answer.body);
}

function mergeVary(reply: FastifyReply, value: string | readonly string[]): void {
  const current = reply.getHeader('vary');
  const names = [current, value]
    .flat()
    .filter((part): part is string => typeof part === 'string')
    .flatMap((part) => part.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const seen = new Map(names.map((name) => [name.toLowerCase(), name]));
  reply.header('vary', [...seen.values()].join(', '));
}

/** The upstream's path: the canonical path less `/api`, then the query string exactly as sent. */
function upstreamPath(canonical: string, url: string): string {
  const query = url.indexOf('?');
  const path = canonical.replace(/^\/api(?=\/|$)/, '');
  return `${path === '' ? '/' : path}${query === -1 ? '' : url.slice(query)}`;
}
