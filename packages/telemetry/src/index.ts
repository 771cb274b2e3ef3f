/**
 * Metrics and traces for Portcullis. This entry holds the types and label helpers only (no runtime
 * dependency); the integrations are subpaths with optional peer dependencies:
 * `@portcullis/telemetry/prometheus` (`prom-client`) and `@portcullis/telemetry/opentelemetry`
 * (`@opentelemetry/api`). Each observes the typed events and snapshots the other packages already
 * emit; an object you do not observe has no listener and is never read.
 *
 * @packageDocumentation
 */
export type { RouteInfo, RouteOf } from './guard-watch.js';
export { methodLabel, statusClass } from './labels.js';
export type { StatusClass } from './labels.js';
export type { CanaryObserveOptions } from './observe/canary.js';
export type { LimiterObserveOptions } from './observe/limiter.js';
export type { Observers } from './observe/observers.js';
export type { InstrumentGuardOptions, RequestRecord } from './request-record.js';
export type {
  AttemptView,
  BreakerEventsView,
  BreakerSnapshotView,
  CanaryStateView,
  Disposer,
  EventSource,
  ObservableBreaker,
  ObservableBreakerRegistry,
  ObservableCanary,
  ObservableForwarder,
  ObservableLimiter,
  ObservableLoader,
  ObservablePool,
  ObservableVerifier,
  PoolEndpointView,
} from './sources.js';
