/**
 * Rate limiting as Express 5 middleware: `app.use(rateLimit({ limiter }))`. Handlers read the
 * decision as `req.portcullis.rateLimit`.
 *
 * @packageDocumentation
 */
import { portcullis } from '@portcullis/core/express';
import { rateLimitGuard } from './http/guard.js';
import type { RateLimitGuardOptions } from './http/options.js';

/**
 * Express 5 middleware that rate limits every request reaching it: {@link rateLimitGuard} through
 * the `@portcullis/core/express` adapter. The client address for `key: 'ip'` is `req.ip`, so
 * Express's `trust proxy` setting applies.
 *
 * @param options - See {@link RateLimitGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createRateLimiter, tokenBucket } from '@portcullis/ratelimit';
 * import { rateLimit } from '@portcullis/ratelimit/express';
 *
 * const limiter = createRateLimiter({
 *   limits: { perMinute: tokenBucket({ capacity: 60, refillPerSecond: 1 }) },
 * });
 *
 * const app = express();
 * app.use(rateLimit({ limiter }));
 * app.get('/', (req, res) => {
 *   res.json({ remaining: req.portcullis?.rateLimit?.remaining }); // typed: a Decision, no cast
 * });
 * ```
 */
export function rateLimit(options: RateLimitGuardOptions): ReturnType<typeof portcullis> {
  // Typed through the adapter (a `RequestHandler`) so that the declarations import it, and
  // with it its typing of `req.portcullis`, for code that imports only this entry point.
  return portcullis(rateLimitGuard(options));
}
