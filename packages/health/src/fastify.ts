/**
 * The health endpoints as a Fastify 5 plugin: `await app.register(healthEndpoints(health))`.
 *
 * @packageDocumentation
 */
import { portcullis, refusePluginForm } from '@portcullis/core/fastify';
import type { Health } from './health.js';
import { healthGuard, type HealthEndpointOptions } from './http/guard.js';

/**
 * A Fastify 5 plugin that answers the health endpoints from an `onRequest` hook
 * ({@link healthGuard} through the `@portcullis/core/fastify` adapter), before routing, body
 * parsing and any hook registered after it; every other request goes on. No route is declared:
 * register it first, in the root scope. `details` sees `request.ip` (Fastify's `trustProxy`).
 *
 * @param health - From `createHealth`.
 * @param options - See {@link HealthEndpointOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createHealth } from '@portcullis/health';
 * import { healthEndpoints } from '@portcullis/health/fastify';
 *
 * const health = createHealth({ checks: [{ name: 'db', check: () => 'pass' }] });
 * const app = Fastify();
 * await app.register(healthEndpoints(health));
 * await app.listen({ port: 3000 });
 * ```
 */
export function healthEndpoints(health: Health, options?: HealthEndpointOptions): ReturnType<typeof portcullis> {
  const refusal = refusePluginForm(health, 'health', 'app.register(healthEndpoints(health))');
  if (refusal !== undefined) return refusal;
  return portcullis(healthGuard(health, options));
}
