/**
 * The health endpoints as Hono 4 middleware: `app.use(healthEndpoints(health))`.
 *
 * @packageDocumentation
 */
import { portcullis, type HonoPortcullisOptions, type PortcullisEnv } from '@portcullis/core/hono';
import type { MiddlewareHandler } from 'hono';
import type { Health } from './health.js';
import { healthGuard, type HealthEndpointOptions } from './http/guard.js';

/**
 * Hono 4 middleware that answers the health endpoints ({@link healthGuard} through the
 * `@portcullis/core/hono` adapter) and passes every other request on. `details` sees the client
 * address the adapter's `ip` option gives (on `@hono/node-server`, the socket's by default).
 *
 * @param health - From `createHealth`.
 * @param options - See {@link HealthEndpointOptions}.
 * @param adapterOptions - Options of the Hono adapter (`ip`).
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import { serve } from '@hono/node-server';
 * import { Hono } from 'hono';
 * import { createHealth } from '@portcullis/health';
 * import { healthEndpoints } from '@portcullis/health/hono';
 *
 * const health = createHealth({ checks: [{ name: 'db', check: () => 'pass' }] });
 * const app = new Hono().use(healthEndpoints(health));
 * serve({ fetch: app.fetch, port: 3000 });
 * ```
 */
export function healthEndpoints(
  health: Health,
  options?: HealthEndpointOptions,
  adapterOptions?: HonoPortcullisOptions,
): MiddlewareHandler<PortcullisEnv> {
  return portcullis(healthGuard(health, options), adapterOptions);
}
