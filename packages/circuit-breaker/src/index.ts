/**
 * Resilience policies for calls to upstreams: circuit breakers (closed / open / half-open with
 * limited probing; consecutive-failure, failure-rate and slow-call-rate trip policies over count-
 * or time-based windows; growing open periods; manual isolation), retry with jittered exponential
 * backoff, `Retry-After` and a retry budget, timeouts that cancel through `AbortSignal`, bulkheads
 * and fallbacks, composed in one typed `execute(fn, { signal })`; a bounded registry of breakers
 * per service with snapshots; and `circuitBreakerGuard`, the HTTP layer, with Express, Fastify and
 * Hono middleware in the `/express`, `/fastify` and `/hono` subpaths.
 *
 * @packageDocumentation
 */
export { Breaker, createBreaker } from './breaker.js';
export type { BreakerCounters, BreakerPermit, BreakerSnapshot } from './breaker.js';
export type { BreakerEvents, RejectionEvent, StateChangeEvent, TransitionReason } from './breaker-events.js';
export type { BreakerOptions, HalfOpenOptions } from './breaker-options.js';
export type { BreakerState } from './breaker-state.js';
export { bulkhead, BulkheadPolicy } from './bulkhead.js';
export type { BulkheadEvents, BulkheadOptions, BulkheadRejectionEvent } from './bulkhead.js';
export {
  BrokenCircuitError,
  BulkheadRejectedError,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isPolicyDisposedError,
  isRetryBudgetExceededError,
  isTimeoutError,
  PolicyDisposedError,
  RetryBudgetExceededError,
  TimeoutError,
} from './errors.js';
export { fallback, FallbackPolicy } from './fallback.js';
export type { FallbackEvent, FallbackEvents, FallbackOptions } from './fallback.js';
export { circuitBreakerGuard } from './http/guard.js';
export type { CircuitBreakerGuardOptions } from './http/options.js';
export type { OpenDuration } from './open-duration.js';
export { Pipeline, pipeline } from './pipeline.js';
export type { ExtraOf } from './pipeline.js';
export type { ExecuteContext, ExecuteOptions, Policy, Protected } from './policy.js';
export { BreakerRegistry, createBreakerRegistry } from './registry.js';
export type { BreakerRegistryOptions, ServiceBreakerOptions } from './registry.js';
export type { Backoff, BackoffOptions, Jitter } from './retry/backoff.js';
export { RetryBudget } from './retry/budget.js';
export type { RetryBudgetOptions } from './retry/budget.js';
export { retry, RetryPolicy } from './retry/retry.js';
export type { RetryBudgetExceededEvent, RetryEvent, RetryEvents, RetryOptions } from './retry/retry.js';
export { parseRetryAfter } from './retry/retry-after.js';
export { timeout, TimeoutPolicy } from './timeout.js';
export type { TimeoutEvent, TimeoutEvents, TimeoutOptions } from './timeout.js';
export { consecutiveFailures } from './trip/consecutive-failures.js';
export { failureRate } from './trip/failure-rate.js';
export type { FailureRateOptions } from './trip/failure-rate.js';
export { slowCallRate } from './trip/slow-call-rate.js';
export type { SlowCallRateOptions } from './trip/slow-call-rate.js';
export type { TripMeter, TripPolicy, TripReading } from './trip/types.js';
export type { SlidingWindow } from './trip/window.js';
