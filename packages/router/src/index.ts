/**
 * Routing for API gateways (in development, not published yet): a route table with defined
 * precedence and path safety, weighted and sticky traffic splits, canary releases that roll
 * themselves back, upstream pools and forwarding. See `docs/router.md` as it grows.
 *
 * @packageDocumentation
 */

// Traffic splits and canary releases (split/, canary/).
export { chooseVariant } from './split/choose.js';
export type { WeightedCandidate } from './split/choose.js';
export { hash32, seedOf } from './split/hash.js';
export { MAX_KEY_LENGTH, readCookie, stickyKey } from './split/key.js';
export type { KeyFunction, StickyKeyOptions } from './split/key.js';
export { createSplit } from './split/split.js';
export type {
  Assignment,
  AssignmentReason,
  FlagSource,
  OverrideOptions,
  Split,
  SplitOptions,
  VariantOptions,
} from './split/split.js';
export type { CheckResult, CheckStatus, CustomCheck, IntervalFigures, VariantFigures } from './canary/checks.js';
export { createCanary } from './canary/controller.js';
export type { Canary, CanaryDecision, CanaryEvents, CanaryState, RequestOutcome } from './canary/controller.js';
export type { CanaryOptions } from './canary/options.js';
export type { CanaryAction, CanaryPhase } from './canary/transitions.js';
export { InvalidOutcomeError, isInvalidOutcomeError } from './canary/errors.js';
export { MAX_TRACKED_MS } from './canary/metrics.js';
export { createRedisCanary } from './canary/redis-canary.js';
export type { RedisCanary, RedisCanaryOptions } from './canary/redis-canary.js';
