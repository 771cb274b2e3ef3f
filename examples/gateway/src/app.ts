import { portcullis } from '@portcullis/core/fastify';
import type { RateLimiter } from '@portcullis/ratelimit';
import { rateLimit } from '@portcullis/ratelimit/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { apiKeyAuth, type CustomerContext } from './auth.js';

/** What the gateway is built from. */
export interface GatewayParts {
  /** Decides per-tier limits and quotas (memory or Redis). */
  limiter: RateLimiter;
  /** Base URL of the service behind the gateway. */
  upstreamUrl: string;
}

function customerOf(context: unknown): CustomerContext | undefined {
  const c = context as Partial<CustomerContext> | null | undefined;
  return c?.apiKey === undefined ? undefined : (c as CustomerContext);
}

/**
 * The example gateway: `/health` answers unguarded; everything under `/api` is authenticated by API
 * key, limited per tier (per-second bucket + calendar day and month quotas, atomically), and
 * forwarded to the upstream. `/api/quota` is the usage API.
 */
export async function buildGateway({ limiter, upstreamUrl }: GatewayParts): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });

  app.get('/health', () => ({ status: 'pass' }));

  await app.register(
    async function api(scope) {
      await scope.register(portcullis(apiKeyAuth));
      await scope.register(
        rateLimit({
          limiter,
          key: (req) => customerOf(req.context)?.apiKey,
          tier: (req) => customerOf(req.context)?.customer.tier,
          headers: 'both',
        }),
      );

      // The usage API: remaining and reset time per dimension, without charging (the quota route
      // itself is limited like any other, so this call costs one unit).
      scope.get('/quota', async (request) => {
        const customer = customerOf(request.portcullis);
        if (customer === undefined) throw new Error('unreachable: the API-key guard ran first');
        const usage = await limiter.peek(customer.apiKey, { tier: customer.customer.tier });
        return {
          tier: customer.customer.tier,
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
