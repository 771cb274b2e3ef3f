/**
 * Circuit breaking as Hono 4 middleware: `app.use(circuitBreaker({ breaker }))`.
 *
 * @packageDocumentation
 */
import { portcullis, type HonoPortcullisOptions, type PortcullisEnv } from '@portcullis/core/hono';
import type { MiddlewareHandler } from 'hono';
import { circuitBreakerGuard } from './http/guard.js';
import type { CircuitBreakerGuardOptions } from './http/options.js';

/**
 * Hono 4 middleware that protects every request reaching it with a breaker:
 * {@link circuitBreakerGuard} through the `@portcullis/core/hono` adapter.
 *
 * @param options - See {@link CircuitBreakerGuardOptions}.
 * @param adapterOptions - Options of the Hono adapter (`ip`).
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createBreaker } from '@portcullis/circuit-breaker';
 * import { circuitBreaker } from '@portcullis/circuit-breaker/hono';
 *
 * const app = new Hono().use('/orders/*', circuitBreaker({ breaker: createBreaker({ name: 'orders' }) }));
 * ```
 */
export function circuitBreaker(
  options: CircuitBreakerGuardOptions,
  adapterOptions?: HonoPortcullisOptions,
): MiddlewareHandler<PortcullisEnv> {
  return portcullis(circuitBreakerGuard(options), adapterOptions);
}
