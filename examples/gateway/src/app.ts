import { portcullis } from '@portcullis/core/fastify';
import type { JwtVerifier } from '@portcullis/jwt-cache';
import type { RateLimiter } from '@portcullis/ratelimit';
import { rateLimit } from '@portcullis/ratelimit/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { authenticate, type CustomerContext } from './auth.js';
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
}

function customerOf(context: unknown): Customer | undefined {
  return (context as Partial<CustomerContext> | null | undefined)?.identity;
}

/**
 * The example gateway: `/health` answers unguarded; everything under `/api` is authenticated (a
 * bearer token verified against the issuer's JWKS, or an API key), limited per customer and tier
 * (per-second bucket + calendar day and month quotas, atomically), and forwarded to the upstream
 * with identity headers the client cannot spoof. `/api/quota` is the usage API. `/demo/token` and
 * `/demo/rotate` drive the demo issuer.
 */
export async function buildGateway({ limiter, verifier, issuer, upstreamUrl }: GatewayParts): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });

  app.get('/health', () => ({ status: 'pass' }));

  // Demo only: an identity provider that signs whatever it is asked to.
  app.post('/demo/token', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const sub = query['user'] ?? 'alice';
    const tier = query['tier'] ?? 'free';
    return { token: await issuer.mint({ sub, tier, team: query['team'] ?? 'demo' }), kid: issuer.currentKid };
  });
  app.post('/demo/rotate', async () => ({ kid: await issuer.rotate() }));

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

      // Forward everything else to the upstream (the router package will take this over).
      scope.all('/*', async (request, reply) => {
        const path = request.url.replace(/^\/api/, '');
        const headers = new Headers();
        for (const [name, value] of Object.entries(request.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name))
            headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const upstream = await fetch(`${upstreamUrl}${path}`, {
          method: request.method,
          headers,
          signal: AbortSignal.timeout(5_000),
        });
        reply.code(upstream.status);
        const type = upstream.headers.get('content-type');
        if (type !== null) reply.header('content-type', type);
        return reply.send(Buffer.from(await upstream.arrayBuffer()));
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
