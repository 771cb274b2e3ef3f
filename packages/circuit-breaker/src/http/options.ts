import {
  duration,
  InvalidOptionError,
  isFunctionOption,
  type GatewayRequest,
  type Outcome,
  type RespondVerdict,
} from '@portcullis/core';
import { Breaker } from '../breaker.js';
import type { BrokenCircuitError } from '../errors.js';
import { BreakerRegistry } from '../registry.js';

/**
 * Options of {@link circuitBreakerGuard} and of the framework `circuitBreaker` middlewares. Give
 * either `breaker` (one for every request) or `registry` with `service` (one per service).
 *
 * @example
 * ```ts
 * import { createBreakerRegistry, type CircuitBreakerGuardOptions } from '@portcullis/circuit-breaker';
 *
 * const options: CircuitBreakerGuardOptions = {
 *   registry: createBreakerRegistry(),
 *   // From a fixed list: raw path text would give /ORDERS and /%6Frders breakers of their own.
 *   service: (req) => (/^\/orders(\/|$)/i.test(req.path) ? 'orders' : 'other'),
 *   timeoutMs: 2_000,
 * };
 * ```
 */
export interface CircuitBreakerGuardOptions {
  /** The breaker that protects every request reaching the guard. */
  breaker?: Breaker | undefined;
  /** Breakers per service; requires `service`. */
  registry?: BreakerRegistry | undefined;
  /**
   * The service a request is for (`undefined` or `''`: not protected). Any string is safe, however
   * long: a name over 200 characters is keyed by its SHA-256 (see `BreakerRegistry.get`), so a
   * name taken from the request never makes the guard fail. Still, derive it from your routes
   * rather than raw client input, and list your real services in the registry: the registry is
   * bounded, and every distinct name takes a breaker, evicting the least recently used unlisted
   * ones.
   */
  service?: ((req: GatewayRequest) => string | undefined) | undefined;
  /**
   * A request that took at least this long (ms) counts as a failure, whatever its status, and so
   * does one the client abandoned after this long (a client timeout). Finite, >= 0. Default: none.
   */
  timeoutMs?: number | undefined;
  /**
   * Whether a finished request counts as a failure of the upstream. Default: status >= 500 (so
   * 502/503/504 from a proxy count), or longer than `timeoutMs`. A request the client abandoned
   * (status 499) before `timeoutMs` is not counted either way.
   */
  isFailure?: ((outcome: Outcome) => boolean) | undefined;
  /**
   * The answer when the breaker refuses a request: e.g. a cached response for reads. Default: `503
   * Service Unavailable` problem details with `Retry-After` (whole seconds until a probe may pass;
   * none when isolated).
   */
  fallback?:
    ((req: GatewayRequest, error: BrokenCircuitError) => RespondVerdict | PromiseLike<RespondVerdict>) | undefined;
  /** Requests for which this returns true pass unprotected and uncounted. Default: none. */
  skip?: ((req: GatewayRequest) => boolean) | undefined;
}

/** The options, validated and defaulted. */
export interface ResolvedGuardOptions {
  readonly breakerFor: (req: GatewayRequest) => Breaker | undefined;
  readonly isFailure: (outcome: Outcome) => boolean;
  readonly timeoutMs: number | undefined;
  readonly fallback: CircuitBreakerGuardOptions['fallback'];
  readonly skip: ((req: GatewayRequest) => boolean) | undefined;
}

/** Validates every option once, naming the option in the error; applies the defaults. */
export function resolveGuardOptions(options: CircuitBreakerGuardOptions): ResolvedGuardOptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const timeoutMs = options.timeoutMs === undefined ? undefined : duration(options.timeoutMs, 'timeoutMs');
  const isFailure =
    options.isFailure === undefined ? defaultIsFailure(timeoutMs) : isFunctionOption(options.isFailure, 'isFailure');
  return {
    breakerFor: breakerLookup(options),
    isFailure,
    timeoutMs,
    fallback: options.fallback === undefined ? undefined : isFunctionOption(options.fallback, 'fallback'),
    skip: options.skip === undefined ? undefined : isFunctionOption(options.skip, 'skip'),
  };
}

function breakerLookup(options: CircuitBreakerGuardOptions): (req: GatewayRequest) => Breaker | undefined {
  const { breaker, registry, service } = options;
  if (breaker !== undefined) {
    if (!(breaker instanceof Breaker)) throw new InvalidOptionError('breaker', breaker, 'a Breaker (createBreaker)');
    if (registry !== undefined)
      throw new InvalidOptionError('registry', registry, 'no registry when a breaker is given');
    return () => breaker;
  }
  if (!(registry instanceof BreakerRegistry)) {
    throw new InvalidOptionError('breaker', breaker, 'a Breaker, or a registry with a service function');
  }
  const serviceOf = isFunctionOption(service as (req: GatewayRequest) => string | undefined, 'service');
  return (req) => {
    const name = serviceOf(req);
    return name === undefined || name === '' ? undefined : registry.get(name);
  };
}

function defaultIsFailure(timeoutMs: number | undefined): (outcome: Outcome) => boolean {
  if (timeoutMs === undefined) return (outcome) => outcome.status >= 500 && outcome.aborted !== true;
  return (outcome) => (outcome.status >= 500 && outcome.aborted !== true) || outcome.durationMs >= timeoutMs;
}
