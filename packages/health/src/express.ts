/**
 * The health endpoints as Express 5 middleware: `app.use(healthEndpoints(health))`.
 *
 * @packageDocumentation
 */
import { portcullis } from '@portcullis/core/express';
import type { Health } from './health.js';
import { healthGuard, type HealthEndpointOptions } from './http/guard.js';

/**
 * Express 5 middleware that answers the health endpoints ({@link healthGuard} through the
 * `@portcullis/core/express` adapter) and passes every other request on. Mount it before
 * authentication; `details` sees `req.ip` as Express resolved it (its `trust proxy` setting).
 *
 * @param health - From `createHealth`.
 * @param options - See {@link HealthEndpointOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createHealth, fromNetworks } from '@portcullis/health';
 * import { healthEndpoints } from '@portcullis/health/express';
 *
 * const health = createHealth({ checks: [{ name: 'db', check: () => 'pass' }] });
 * const app = express();
 * app.use(healthEndpoints(health, { details: fromNetworks(['127.0.0.1', '::1']) }));
 * app.listen(3000);
 * ```
 */
export function healthEndpoints(health: Health, options?: HealthEndpointOptions): ReturnType<typeof portcullis> {
  return portcullis(healthGuard(health, options));
}
