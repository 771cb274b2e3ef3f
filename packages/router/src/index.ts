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
export type { RedisCanary, RedisCanaryOptions, RedisCanarySyncError } from './canary/redis-canary.js';

// Balancers (balancers/): pure pickers over an endpoint set, for the upstream pools.
export type {
  Balancer,
  BalancerOptions,
  EndpointAccessors,
  LoadAwareBalancer,
  RandomOption,
} from './balancers/types.js';
export { InvalidEndpointsError, isInvalidEndpointsError } from './balancers/errors.js';
export { MAX_ENDPOINTS } from './balancers/endpoint-set.js';
export { createRoundRobin } from './balancers/round-robin.js';
export type { RoundRobinOptions } from './balancers/round-robin.js';
export { createSmoothWeightedRoundRobin } from './balancers/smooth-weighted-round-robin.js';
export type { SmoothWeightedRoundRobinOptions } from './balancers/smooth-weighted-round-robin.js';
export { createLeastRequest } from './balancers/least-request.js';
export type { LeastRequestOptions } from './balancers/least-request.js';
export { createWeightedRandom } from './balancers/weighted-random.js';
export type { WeightedRandomOptions } from './balancers/weighted-random.js';
export { createRendezvous } from './balancers/rendezvous.js';
export type { RendezvousOptions } from './balancers/rendezvous.js';
export { createMaglev } from './balancers/maglev.js';
export type { MaglevBalancer, MaglevOptions } from './balancers/maglev.js';
export { MAGLEV_SLOTS_PER_ENDPOINT } from './balancers/maglev-table.js';
export { createBoundedLoad } from './balancers/bounded-load.js';
export type { BoundedLoadOptions } from './balancers/bounded-load.js';
export { createSlowStart } from './balancers/slow-start.js';
export type { SlowStart, SlowStartOptions } from './balancers/slow-start.js';

// Upstream pools (pool/): endpoints, health checks, outlier detection, panic, breakers per endpoint.
export { createUpstreamPool } from './pool/pool.js';
export type { UpstreamEndpointState, UpstreamPool, UpstreamPoolSnapshot } from './pool/pool.js';
export type { EndpointBreakerOptions, PoolSlowStartOptions, UpstreamPoolOptions } from './pool/pool-options.js';
export type { UpstreamEndpoint } from './pool/endpoint.js';
export type { EndpointLease, EndpointOutcome, EndpointPicker } from './pool/lease.js';
export type { BalancerName, PoolBalancerFactory } from './pool/balancer-choice.js';
export type { HealthCheckOptions, HealthProbe, StatusMatch } from './pool/active-health-check.js';
export type { EjectionReason, OutlierDetectionOptions } from './pool/outlier-detection.js';
export type { UpstreamTlsOptions } from './pool/tls.js';
export type {
  DiscoveryErrorEvent,
  EjectedEvent,
  EndpointBreakerEvent,
  EndpointEvent,
  EndpointsUpdatedEvent,
  PanicEvent,
  RestoredEvent,
  UnhealthyEvent,
  UpstreamPoolEvents,
} from './pool/pool-events.js';
export { EmptyDiscoveryError, isEmptyDiscoveryError } from './pool/errors.js';

// Discovery (pool/discovery/): where an upstream pool's endpoints come from.
export type { DiscoveredEndpoint, DiscoveryListener, DiscoverySource } from './pool/discovery/source.js';
export {
  DiscoveryError,
  InvalidDiscoveredEndpointError,
  isDiscoveryError,
  isInvalidDiscoveredEndpointError,
} from './pool/discovery/errors.js';
export type { DiscoveryFailure } from './pool/discovery/errors.js';
export { staticDiscovery } from './pool/discovery/static.js';
export { dnsDiscovery } from './pool/discovery/dns.js';
export type { DnsDiscoveryOptions, DnsDiscoveryType } from './pool/discovery/dns.js';
export { functionDiscovery } from './pool/discovery/function.js';
export type { DiscoveryFunction, FunctionDiscoveryOptions } from './pool/discovery/function.js';

// Forwarding (forward/): undici pools per endpoint, streaming, headers, timeouts, retries, upgrades;
// and the framework-neutral forward handler (http/) the adapters mount.
export { createForwarder } from './forward/forwarder.js';
export type { Forwarder, ForwarderOptions, ForwardOptions } from './forward/forwarder.js';
export type { AttemptEvent, ForwarderEvents, ForwardResult } from './forward/exchange.js';
export {
  isNoEndpointError,
  isRequestFramingError,
  isUpstreamFailureError,
  NoEndpointError,
  RequestFramingError,
  UpstreamFailureError,
} from './forward/errors.js';
export type { UpstreamFailure } from './forward/errors.js';
export type { ForwardedHeaders } from './forward/forwarded.js';
export type { TrustedProxies } from './forward/trusted-proxies.js';
export type { PathRewrite } from './forward/rewrite.js';
export { classifyFailure } from './forward/failure.js';
export { fixedEndpoints } from './forward/fixed-endpoints.js';
export { createForwardHandler } from './http/forward-handler.js';
export type { ForwardHandler, ForwardHandlerOptions, ForwardTarget, ForwardTargets } from './http/forward-handler.js';
