import {
  CONTINUE,
  PROBLEM_JSON,
  problemDetails,
  type GatewayRequest,
  type Guard,
  type Outcome,
  type Verdict,
} from '@portcullis/core';
import type { Breaker, BreakerPermit } from '../breaker.js';
import { isBrokenCircuitError, type BrokenCircuitError } from '../errors.js';
import { resolveGuardOptions, type CircuitBreakerGuardOptions, type ResolvedGuardOptions } from './options.js';

/** The largest `Retry-After` sent, in seconds (2^31). */
const MAX_DELTA_SECONDS = 2 ** 31;

/**
 * A framework-neutral guard that protects the requests reaching it with a breaker; the framework
 * entry points (`@portcullis/circuit-breaker/express`, `/fastify`, `/hono`) wrap it as middleware,
 * and it composes with other guards.
 *
 * - The breaker admits the request: it continues, and its outcome is recorded from the final
 *   status when it ends (`onComplete`): by default status >= 500 and requests longer than
 *   `timeoutMs` are failures; a request the client abandoned earlier is not counted.
 * - The breaker refuses it: the handler does not run; the answer is `fallback`'s, or by default a
 *   fast `503` problem details with `Retry-After`.
 *
 * @param options - See {@link CircuitBreakerGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import type { GatewayRequest } from '@portcullis/core';
 * import { portcullis } from '@portcullis/core/express';
 * import { circuitBreakerGuard, createBreakerRegistry } from '@portcullis/circuit-breaker';
 * import express from 'express';
 *
 * const breakers = createBreakerRegistry();
 * const app = express();
 * const service = (req: GatewayRequest): string => (/^\/orders(\/|$)/i.test(req.path) ? 'orders' : 'other');
 * app.use(portcullis(circuitBreakerGuard({ registry: breakers, service })));
 * ```
 */
export function circuitBreakerGuard(options: CircuitBreakerGuardOptions): Guard {
  const settings = resolveGuardOptions(options);
  const { breakerFor, skip } = settings;
  return function circuitBreaker(req: GatewayRequest): Verdict | PromiseLike<Verdict> {
    if (skip?.(req) === true) return CONTINUE;
    const breaker = breakerFor(req);
    if (breaker === undefined) return CONTINUE;
    let permit: BreakerPermit;
    try {
      permit = breaker.acquire();
    } catch (error) {
      if (isBrokenCircuitError(error)) return refuse(settings, req, breaker, error);
      throw error;
    }
    return { action: 'continue', onComplete: recordOutcome(settings, permit) };
  };
}

function recordOutcome(settings: ResolvedGuardOptions, permit: BreakerPermit): (outcome: Outcome) => void {
  return function recordBreakerOutcome(outcome) {
    if (settings.isFailure(outcome)) permit.failure();
    else if (outcome.aborted === true) permit.ignore();
    else permit.success();
  };
}

function refuse(
  settings: ResolvedGuardOptions,
  req: GatewayRequest,
  breaker: Breaker,
  error: BrokenCircuitError,
): Verdict | PromiseLike<Verdict> {
  if (settings.fallback !== undefined) return settings.fallback(req, error);
  const headers = new Headers({ 'content-type': PROBLEM_JSON });
  const waitMs = breaker.retryAfterMs();
  // Half-open with every probe slot taken: a slot frees soon, so "1 second" rather than "now". An
  // open period of years is stated as 2^31 s, the most a cache must read (RFC 9111 §1.2.2), so the
  // header stays delta-seconds (`String` would write a huge number as "1e+297").
  if (Number.isFinite(waitMs)) {
    headers.set('retry-after', String(Math.min(MAX_DELTA_SECONDS, Math.max(1, Math.ceil(waitMs / 1000)))));
  }
  const detail =
    error.state === 'isolated'
      ? `The upstream "${breaker.name}" is switched off (circuit isolated).`
      : `The upstream "${breaker.name}" is failing (circuit ${error.state}); retry later.`;
  return {
    action: 'respond',
    status: 503,
    headers,
    body: problemDetails(503, detail, { breaker: breaker.name }),
  };
}
