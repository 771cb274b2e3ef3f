import { createRateLimiter, MemoryStore, tokenBucket, type Decision, type RateLimiter } from '@portcullis/ratelimit';
import { rateLimit } from '@portcullis/ratelimit/fastify';
import type { FastifyInstance } from 'fastify';
import type { Customer } from './plans.js';
import { sendProblem } from './problems.js';

/** Decisions that show the store's real state (a fail-open or fail-closed decision only guesses it). */
const REAL_USAGE: ReadonlySet<Decision['source']> = new Set(['store', 'deny-cache']);

/** Seconds a client is asked to wait before asking for usage again while the store is unreachable. */
const UNAVAILABLE_RETRY_SECONDS = 5;

/**
 * `GET /quota`: the customer's remaining units and reset time per dimension of its plan, read
 * without charging (`peek`).
 *
 * - It has its own limit (a burst of 10, then 1 per second per customer, in memory), not the plan's:
 *   reading usage must neither spend the quota it reports nor be refused once the plan is spent,
 *   yet polling it must not hammer the store either.
 * - When the store cannot be reached the limiter fails open (or closed) and its decision shows the
 *   full limits (or none): that is a guess, not usage. The answer is then a `503` problem with
 *   `Retry-After`, never a `200` with made-up numbers.
 *
 * @param customerOf - The authenticated customer in the request context.
 * @example
 * ```ts
 * await api.register(usageRoute(limiter, (context) => context?.identity));
 * ```
 */
export function usageRoute(
  limiter: RateLimiter,
  customerOf: (context: unknown) => Customer | undefined,
): (scope: FastifyInstance) => Promise<void> {
  const ownLimit = createRateLimiter({
    store: new MemoryStore({ maxKeys: 10_000 }),
    limits: { usageReads: tokenBucket({ capacity: 10, refillPerSecond: 1 }) },
  });
  return async function usage(scope) {
    // No RateLimit headers: they would describe this route's own limit and read like the plan's.
    await scope.register(rateLimit({ limiter: ownLimit, key: (req) => customerOf(req.context)?.id, headers: false }));
    scope.get('/quota', async (request, reply) => {
      const customer = customerOf(request.portcullis);
      if (customer === undefined) throw new Error('unreachable: authentication ran first');
      const usage = await limiter.peek(customer.id, { tier: customer.tier });
      if (!REAL_USAGE.has(usage.source)) {
        reply.header('retry-after', String(UNAVAILABLE_RETRY_SECONDS));
        return sendProblem(reply, 503, 'Usage is unavailable right now: the store that keeps it cannot be reached');
      }
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
  };
}
