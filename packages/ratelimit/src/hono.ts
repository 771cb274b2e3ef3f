/**
 * Rate limiting as Hono 4 middleware: `app.use(rateLimit({ limiter }))`. Handlers read the decision
 * as `c.get('portcullis').rateLimit`.
 *
 * @packageDocumentation
 */
import type { GuardContext } from '@portcullis/core';
import { portcullis, type HonoPortcullisOptions, type PortcullisEnv } from '@portcullis/core/hono';
import type { MiddlewareHandler } from 'hono';
import { rateLimitGuard, type RateLimitContext } from './http/guard.js';
import type { RateLimitGuardOptions } from './http/options.js';

/**
 * Hono 4 middleware that rate limits every request reaching it: {@link rateLimitGuard} through the
 * `@portcullis/core/hono` adapter. For `key: 'ip'` the client address is what `adapterOptions.ip`
 * returns; by default, on `@hono/node-server`, the socket's remote address, elsewhere none (then
 * pass `ip`, or key by something else).
 *
 * @param options - See {@link RateLimitGuardOptions}.
 * @param adapterOptions - Options of the Hono adapter (`ip`).
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createRateLimiter, tokenBucket } from '@portcullis/ratelimit';
 * import { rateLimit } from '@portcullis/ratelimit/hono';
 *
 * const limiter = createRateLimiter({
 *   limits: { perMinute: tokenBucket({ capacity: 60, refillPerSecond: 1 }) },
 * });
 *
 * const app = new Hono().use(rateLimit({ limiter }));
 * app.get('/', (c) => c.json({ remaining: c.get('portcullis').rateLimit?.remaining ?? null }));
 * ```
 */
export function rateLimit(
  options: RateLimitGuardOptions,
  adapterOptions?: HonoPortcullisOptions,
): MiddlewareHandler<PortcullisEnv<GuardContext & Partial<RateLimitContext>>> {
  return portcullis(rateLimitGuard(options), adapterOptions);
}
