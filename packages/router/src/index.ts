/**
 * Routing for API gateways: a route table with precedence and path safety, weighted and sticky
 * traffic splits with overrides and feature flags (a plain function or OpenFeature), and canary
 * releases that roll themselves back. Framework middleware lives in the `/express`, `/fastify` and
 * `/hono` subpaths.
 *
 * @packageDocumentation
 */
// routes/ and http/ (route table, canonical path, guard)
export { canonicalPath } from './routes/canonical-path.js';
export { AmbiguousRoutesError, InvalidPathError, isAmbiguousRoutesError, isInvalidPathError } from './routes/errors.js';
export type { MatchRequest } from './routes/request-view.js';
export type { PredicateValue, Route, RouteCanary, RouteDefinition } from './routes/route.js';
export { createRouteTable } from './routes/table.js';
export type { RouteMatchResult, RouteTable, RouteTableOptions, Versioning } from './routes/table.js';
export { RouteTableRef } from './routes/table-ref.js';
export { routerGuard } from './http/guard.js';
export type { RouteOutcome, RouterContext, RouterGuardOptions } from './http/guard.js';

// Traffic splits and canary releases (split/, canary/).
export { chooseVariant } from './split/choose.js';
export type { WeightedCandidate } from './split/choose.js';
export { hash32, mix32, seedOf } from './split/hash.js';
export { MAX_KEY_LENGTH, readCookie, stickyKey } from './split/key.js';
export type { KeyFunction, StickyKeyOptions } from './split/key.js';
export { createSplit, DEFAULT_FLAG_TIMEOUT_MS } from './split/split.js';
export type {
  Assignment,
  AssignmentReason,
  OverrideOptions,
  Split,
  SplitOptions,
  VariantOptions,
} from './split/split.js';
export type { AsyncFlagSource, FlagErrorEvent, FlagSource } from './split/flags.js';
export { openFeatureFlags } from './split/openfeature.js';
export type {
  FlagContextValue,
  FlagEvaluationContext,
  OpenFeatureClientLike,
  OpenFeatureFlagsOptions,
  OpenFeatureLogger,
  OpenFeatureProviderLike,
  OpenFeatureResolution,
} from './split/openfeature.js';
export { FlagEvaluationError, FlagTimeoutError, isFlagEvaluationError, isFlagTimeoutError } from './split/errors.js';
export type { CheckResult, CheckStatus, CustomCheck, IntervalFigures, VariantFigures } from './canary/checks.js';
export { createCanary } from './canary/controller.js';
export type { Canary, CanaryDecision, CanaryEvents, CanaryState, RequestOutcome } from './canary/controller.js';
export type { CanaryOptions } from './canary/options.js';
export type { CanaryAction, CanaryPhase } from './canary/transitions.js';
export { InvalidOutcomeError, isInvalidOutcomeError } from './canary/errors.js';
export { MAX_TRACKED_MS } from './canary/metrics.js';
export { createRedisCanary } from './canary/redis-canary.js';
export type { RedisCanary, RedisCanaryOptions } from './canary/redis-canary.js';
