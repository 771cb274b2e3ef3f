/**
 * Rate limits and quotas for API gateways: token bucket, GCRA, sliding window (two-bucket
 * approximation and exact log) and fixed (calendar) windows; several limits per key enforced
 * atomically; tiers; pooled team quotas; refunds; memory and Redis stores with fail-open/closed;
 * and `rateLimitGuard`, the HTTP layer (keys, IETF draft `RateLimit` headers, 429 problem details),
 * with Express, Fastify and Hono middleware in the `/express`, `/fastify` and `/hono` subpaths.
 *
 * @packageDocumentation
 */
export { fixedWindow } from './algorithms/fixed-window.js';
export type { FixedWindowOptions } from './algorithms/fixed-window.js';
export { gcra } from './algorithms/gcra.js';
export type { GcraOptions } from './algorithms/gcra.js';
export { MAX_SLIDING_LOG_LIMIT, slidingLog } from './algorithms/sliding-log.js';
export type { SlidingLogOptions } from './algorithms/sliding-log.js';
export { slidingWindow } from './algorithms/sliding-window.js';
export type { SlidingWindowOptions } from './algorithms/sliding-window.js';
export { tokenBucket } from './algorithms/token-bucket.js';
export type { TokenBucketOptions } from './algorithms/token-bucket.js';
export type { Algorithm, AlgorithmKind, Evaluation, EvaluationSlot, LimitState } from './algorithms/types.js';
export { calendarWindow, durationWindow } from './algorithms/window-clock.js';
export type { CalendarUnit, WindowBounds, WindowClock } from './algorithms/window-clock.js';
export type { Decision, DecisionSource, DimensionUsage } from './decision.js';
export {
  InvalidCostError,
  InvalidKeyError,
  isInvalidCostError,
  isInvalidKeyError,
  isStoreTimeoutError,
  isUnknownTierError,
  StoreTimeoutError,
  UnknownTierError,
} from './errors.js';
export { rateLimitGuard } from './http/guard.js';
export type { RateLimitContext } from './http/guard.js';
export type { RateLimitHeaderStyle } from './http/headers.js';
export { ipKey } from './http/ip-key.js';
export type { RateLimitGuardOptions, RateLimitMessage } from './http/options.js';
export type { RateLimitKey } from './http/request-key.js';
export { MAX_RAW_KEY_LENGTH } from './key.js';
export { createDecisionBuffer, createRateLimiter } from './limiter.js';
export type {
  DecisionBuffer,
  LimitOptions,
  Policy,
  RateLimiter,
  RateLimiterEvents,
  RateLimiterOptions,
} from './limiter.js';
export { MemoryStore } from './stores/memory-store.js';
export {
  isStoreSaturatedError,
  isStoreUnavailableError,
  RedisStore,
  StoreSaturatedError,
  StoreUnavailableError,
} from './stores/redis/redis-store.js';
export type { RedisStoreOptions } from './stores/redis/redis-store.js';
export type { MemoryStoreOptions } from './stores/memory-store.js';
export { stateOwner, storageKey } from './stores/store.js';
export type { DimensionOutcome, RateLimitStore, StoreDimension, StoreOutcome, StoreSubject } from './stores/store.js';
