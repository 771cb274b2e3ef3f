/**
 * Rate limiting as a Fastify 5 plugin: `await app.register(rateLimit({ limiter }))`. Handlers read
 * the decision as `request.portcullis.rateLimit`.
 *
 * @packageDocumentation
 */
import { portcullis, refusePluginForm } from '@portcullis/core/fastify';
// Brings the adapter's typing of `request.portcullis` to code that imports only this entry point.
import { rateLimitGuard } from './http/guard.js';
import type { RateLimitGuardOptions } from './http/options.js';

/**
 * A Fastify 5 plugin that rate limits the requests of the scope registering it (the root instance:
 * every route): {@link rateLimitGuard} through the `@portcullis/core/fastify` adapter, in an
 * `onRequest` hook. The client address for `key: 'ip'` is `request.ip`, so Fastify's `trustProxy`
 * applies.
 *
 * @param options - See {@link RateLimitGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createRateLimiter, tokenBucket } from '@portcullis/ratelimit';
 * import { rateLimit } from '@portcullis/ratelimit/fastify';
 *
 * const limiter = createRateLimiter({
 *   limits: { perMinute: tokenBucket({ capacity: 60, refillPerSecond: 1 }) },
 * });
 *
 * const app = Fastify();
 * await app.register(rateLimit({ limiter }));
 * app.get('/', (request) => ({ remaining: request.portcullis?.rateLimit?.remaining })); // typed, no cast
 * ```
 */
export function rateLimit(options: RateLimitGuardOptions): ReturnType<typeof portcullis> {
  const refusal = refusePluginForm(options, 'options', 'app.register(rateLimit({ limiter }))');
  if (refusal !== undefined) return refusal;
  // Typed through the adapter (a `FastifyPluginCallback`) so that the declarations import it, and
  // with it its typing of `request.portcullis`, for code that imports only this entry point.
  return portcullis(rateLimitGuard(options));
}
