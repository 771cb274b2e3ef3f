import { Readable } from 'node:stream';
import cors from '@fastify/cors';
import type { Clock } from '@portcullis/core';
import { portcullis } from '@portcullis/core/fastify';
import type { JwtVerifier } from '@portcullis/jwt-cache';
import type { RateLimiter } from '@portcullis/ratelimit';
import { rateLimit } from '@portcullis/ratelimit/fastify';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { authenticate, type CustomerContext } from './auth.js';
import { corsOptions, type CorsOptions } from './cors.js';
import type { FallbackCacheOptions } from './fallback-cache.js';
import { resilientForwarder, type UpstreamAnswer } from './forward.js';
import { hasBody } from './http-headers.js';
import type { DemoIssuer } from './issuer.js';
import type { Customer } from './plans.js';
import { problemErrorHandler, problemNotFound } from './problems.js';
import { usageRoute } from './usage.js';

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
 * (per-second bucket + calendar day and month quotas, atomically), and forwarded to the upstream
 * with identity headers the client cannot spoof, through retry, a circuit breaker, a timeout and a
 * per-customer cached-response fallback for reads; bodies and answers stream through untouched.
 * `/api/quota` is the usage API (limited on its own, not by the plan it reports). CORS preflights
 * are answered before authentication. `/demo/token` and `/demo/rotate` drive the demo issuer;
 * `/demo/breaker` shows the upstream's breaker. Errors of the gateway's own are problem+json.
 *
 * @example
 * ```ts
 * const app = await buildGateway({ limiter, verifier, issuer, upstreamUrl: 'http://127.0.0.1:9000' });
 * await app.listen({ port: 8080 });
 * ```
 */
export async function buildGateway(parts: GatewayParts): Promise<FastifyInstance> {
  const { limiter, verifier, issuer, upstreamUrl, setUpstreamFailing } = parts;
  const app = Fastify({ logger: false });
  const forwarder = resilientForwarder(upstreamUrl, {
    name: 'catalogue',
    clock: parts.clock,
    fallbackCache: parts.fallbackCache,
  });
  app.addHook('onClose', () => forwarder.close());
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler(problemNotFound);
  // First, so that preflights are answered before any guard and every answer carries the headers.
  await app.register(cors, corsOptions(parts.cors ?? { origins: '*' }));

  app.get('/health', () => ({ status: 'pass' }));

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
        forwarding.removeAllContentTypeParsers();
        forwarding.addContentTypeParser('*', function passThrough(_request, _payload, done) {
          done(null);
        });

        // Forward everything else to the upstream, through retry, breaker, timeout and fallback.
        forwarding.all('/*', async (request, reply) => {
          // The client went away: stop retrying and cancel the upstream call.
          const gone = new AbortController();
          reply.raw.once('close', () => {
            if (!reply.raw.writableFinished) gone.abort();
          });
          const customer = customerOf(request.portcullis);
          const answer = await forwarder.forward({
            method: request.method,
            path: request.url.replace(/^\/api/, ''),
            headers: request.headers,
            body: hasBody(request.headers) ? request.raw : undefined,
            // Everything the upstream's answer may depend on about the caller: what the gateway
            // tells it (the identity headers carry both).
            scope: customer === undefined ? undefined : JSON.stringify([customer.id, customer.tier]),
            signal: gone.signal,
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
