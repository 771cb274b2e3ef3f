/**
 * Circuit breaking as Express 5 middleware: `app.use(circuitBreaker({ breaker }))`.
 *
 * @packageDocumentation
 */
import { portcullis } from '@portcullis/core/express';
import { circuitBreakerGuard } from './http/guard.js';
import type { CircuitBreakerGuardOptions } from './http/options.js';

/**
 * Express 5 middleware that protects every request reaching it with a breaker:
 * {@link circuitBreakerGuard} through the `@portcullis/core/express` adapter. Mount it on the
 * routes of one upstream (`app.use('/orders', circuitBreaker({ breaker }))`), or once with a
 * registry and a `service` function.
 *
 * @param options - See {@link CircuitBreakerGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createBreaker } from '@portcullis/circuit-breaker';
 * import { circuitBreaker } from '@portcullis/circuit-breaker/express';
 *
 * const app = express();
 * app.use('/orders', circuitBreaker({ breaker: createBreaker({ name: 'orders' }), timeoutMs: 2_000 }));
 * ```
 */
export function circuitBreaker(options: CircuitBreakerGuardOptions): ReturnType<typeof portcullis> {
  return portcullis(circuitBreakerGuard(options));
}
