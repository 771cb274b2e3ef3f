import type { Clock } from '@portcullis/core';
import { portcullis } from '@portcullis/core/fastify';
import type { JwtVerifier } from '@portcullis/jwt-cache';
import type { RateLimiter } from '@portcullis/ratelimit';
import { rateLimit } from '@portcullis/ratelimit/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { authenticate, type CustomerContext } from './auth.js';
import { resilientForwarder } from './forward.js';
import type { DemoIssuer } from './issuer.js';
import type { Customer } from './plans.js';

/** What the gateway is built from. */
export interface GatewayParts {
  /** Decides per-tier limits and quotas (memory or Redis). */
  limiter: RateLimiter;
  /** Verifies bearer tokens (JWKS fetched over HTTP from the issuer). */
  verifier: JwtVerifier;
  /** The demo identity provider, for the `/demo/token` and `/demo/rotate` routes. */
  issuer: DemoIssuer;
  /** Base URL of the service behind the gateway. */
  upstreamUrl: string;
  /** Time for the breaker and retry (tests steer it). Default: the system clock. */
  clock?: Clock | undefined;
  /** Demo chaos switch: makes the upstream fail (or recover), for `/demo/upstream`. */
  setUpstreamFailing?: ((failing: boolean) => void) | undefined;
}

function customerOf(context: unknown): Customer | undefined {
  return (context as Partial<CustomerContext> | null | undefined)?.identity;
}

/**
 * The example gateway: `/health` answers unguarded; everything under `/api` is authenticated (a
 * bearer token verified against the issuer's JWKS, or an API key), limited per customer and tier
 * (per-second bucket + calendar day and month quotas, atomically), and forwarded to the upstream
 * with identity headers the client cannot spoof, through retry, a circuit breaker, a timeout and a
 * cached-response fallback for reads. `/api/quota` is the usage API. `/demo/token` and
 * `/demo/rotate` drive the demo issuer; `/demo/breaker` shows the upstream's breaker.
 */
export async function buildGateway(parts: GatewayParts): Promise<FastifyInstance> {
  const { limiter, verifier, issuer, upstreamUrl, setUpstreamFailing } = parts;
  const app = Fastify({ logger: false });
  const forwarder = resilientForwarder(upstreamUrl, 'catalogue', parts.clock);

  app.get('/health', () => ({ status: 'pass' }));

  // Demo only: an identity provider that signs whatever it is asked to.
  app.post('/demo/token', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const sub = query['user'] ?? 'alice';
    const tier = query['tier'] ?? 'free';
    return { token: await issuer.mint({ sub, tier, team: query['team'] ?? 'demo' }), kid: issuer.currentKid };
  });
  app.post('/demo/rotate', async () => ({ kid: await issuer.rotate() }));
  // The upstream's breaker: state and counters (what a health check or a metrics scrape reads).
  app.get('/demo/breaker', () => forwarder.breaker.snapshot());
  // Chaos: POST /demo/upstream?failing=true makes the upstream answer 503 to everything.
  app.post('/demo/upstream', (request) => {
    const failing = (request.query as Record<string, string | undefined>)['failing'] === 'true';
    setUpstreamFailing?.(failing);
    return { failing };
  });

  await app.register(
    async function api(scope) {
      await scope.register(portcullis(authenticate(verifier)));
      await scope.register(
        rateLimit({
          limiter,
          key: (req) => customerOf(req.context)?.id,
          tier: (req) => customerOf(req.context)?.tier,
          headers: 'both',
        }),
      );

      // The usage API: remaining and reset time per dimension, without charging (the quota route
      // itself is limited like any other, so this call costs one unit).
      scope.get('/quota', async (request) => {
        const customer = customerOf(request.portcullis);
        if (customer === undefined) throw new Error('unreachable: authentication ran first');
        const usage = await limiter.peek(customer.id, { tier: customer.tier });
        return {
          customer: customer.id,
          tier: customer.tier,
          dimensions: usage.dimensions.map((d) => ({
            name: d.name,
            limit: d.limit,
            remaining: d.remaining,
            resetAt: new Date(d.resetAt).toISOString(),
            overage: d.overage,
          })),
        };
      });

      // Forward everything else to the upstream, through retry, breaker, timeout and fallback.
      scope.all('/*', async (request, reply) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(request.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name))
            headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        // The client went away: stop retrying and cancel the upstream call.
        const gone = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) gone.abort();
        });
        const answer = await forwarder.forward({
          method: request.method,
          path: request.url.replace(/^\/api/, ''),
          headers,
          signal: gone.signal,
        });
        reply.code(answer.status);
        if (answer.contentType !== null) reply.header('content-type', answer.contentType);
        if (answer.servedBy !== undefined) reply.header('x-portcullis-served-by', answer.servedBy);
        if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
        return reply.send(answer.body);
      });
    },
    { prefix: '/api' },
  );

  return app;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
]);
