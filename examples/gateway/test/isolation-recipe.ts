import { createRateLimiter, tokenBucket, type RateLimiter, type RateLimitStore } from '@portcullis/ratelimit';
import { rateLimit } from '@portcullis/ratelimit/fastify';
import Fastify, { type FastifyInstance } from 'fastify';

/** Who is calling: the listener a request arrived on says it, never the request itself. */
export type TrafficClass = 'public' | 'internal';

/**
 * One limiter for both classes. Every request is charged, in one atomic step, to its class's
 * limit (the tier) and to the upstream's capacity (a pool both classes share).
 *
 * The upstream takes 1,000 requests a second with bursts of 200. Public traffic weighs 3 and
 * internal 1: public may use at most 3/4 of it (750 a second, bursts of 150), so 1/4 (250 a second,
 * bursts of 50) is always left for internal callers, who may also use whatever public leaves idle.
 */
export function isolationLimiter(store?: RateLimitStore): RateLimiter {
  const upstream = tokenBucket({ capacity: 200, refillPerSecond: 1_000 });
  return createRateLimiter({
    ...(store && { store }),
    tiers: {
      public: { class: tokenBucket({ capacity: 150, refillPerSecond: 750 }) },
      internal: { class: upstream },
    },
    defaultTier: 'public',
    poolLimits: { upstream },
  });
}

/** A listener for one class; run one per class, both on the same limiter. */
export async function classApp(limiter: RateLimiter, trafficClass: TrafficClass): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(rateLimit({ limiter, key: () => trafficClass, tier: () => trafficClass, pool: () => 'upstream' }));
  app.get('/orders', () => ({ servedTo: trafficClass })); // your routes, forwarding to the upstream
  return app;
}

// const limiter = isolationLimiter(); // on several instances: isolationLimiter(new RedisStore({ client }))
// await (await classApp(limiter, 'public')).listen({ host: '0.0.0.0', port: 8080 });
// await (await classApp(limiter, 'internal')).listen({ host: '10.0.0.5', port: 8081 }); // private network only
