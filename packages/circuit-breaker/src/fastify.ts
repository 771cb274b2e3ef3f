/**
 * Circuit breaking as a Fastify 5 plugin: `await app.register(circuitBreaker({ breaker }))`.
 *
 * @packageDocumentation
 */
import { portcullis, refusePluginForm } from '@portcullis/core/fastify';
import { circuitBreakerGuard } from './http/guard.js';
import type { CircuitBreakerGuardOptions } from './http/options.js';

/**
 * A Fastify 5 plugin that protects the requests of the scope registering it with a breaker:
 * {@link circuitBreakerGuard} through the `@portcullis/core/fastify` adapter, in an `onRequest`
 * hook.
 *
 * @param options - See {@link CircuitBreakerGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createBreaker } from '@portcullis/circuit-breaker';
 * import { circuitBreaker } from '@portcullis/circuit-breaker/fastify';
 *
 * const app = Fastify();
 * await app.register(circuitBreaker({ breaker: createBreaker({ name: 'orders' }) }));
 * ```
 */
export function circuitBreaker(options: CircuitBreakerGuardOptions): ReturnType<typeof portcullis> {
  const refusal = refusePluginForm(options, 'options', 'app.register(circuitBreaker({ breaker }))');
  if (refusal !== undefined) return refusal;
  return portcullis(circuitBreakerGuard(options));
}
