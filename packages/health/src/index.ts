/**
 * Health checks for Node services: checks with timeouts, TTL caching and single flight,
 * background runs on one timer, thresholds against flapping; `pass` / `warn` / `fail` by
 * criticality (a non-critical dependency only degrades); groups (liveness, readiness, startup,
 * your own); `application/health+json` endpoints that answer within a deadline and show details
 * only to admitted callers, for `node:http` and (subpaths) Express, Fastify and Hono; built-in
 * checks (Redis, HTTP upstreams, circuit breakers, JWKS freshness, event loop delay, heap); and a
 * graceful shutdown (readiness first, drain, closers in reverse order, bounded).
 *
 * @packageDocumentation
 */
export { aggregateStatus } from './aggregate.js';
export type { StatusOf } from './aggregate.js';
export type { CheckFunction, CheckOptions, CheckOutcome, CheckReturn } from './check.js';
export { breakerCheck } from './checks/breakers.js';
export type { BreakerCheckOptions, BreakerRegistryView, BreakerView } from './checks/breakers.js';
export { eventLoopDelayCheck } from './checks/event-loop.js';
export type { EventLoopDelayCheckOptions } from './checks/event-loop.js';
export { heapCheck } from './checks/heap.js';
export type { HeapCheckOptions, HeapFigures } from './checks/heap.js';
export { httpCheck } from './checks/http.js';
export type { HealthFetch, HttpCheckOptions } from './checks/http.js';
export { jwksCheck } from './checks/jwks.js';
export type { JwksCheckOptions, JwksStateView } from './checks/jwks.js';
export type { BuiltInCheckOptions } from './checks/options.js';
export { redisCheck } from './checks/redis.js';
export type { RedisCheckOptions, RedisClusterPingable, RedisPingable } from './checks/redis.js';
export { CheckTimeoutError, DuplicateCheckError, isCheckTimeoutError, isDuplicateCheckError } from './errors.js';
export type { HealthEvents, StatusChangeEvent } from './events.js';
export { createHealth, Health, STANDARD_GROUPS } from './health.js';
export type { HealthOptions, HealthReport, RunOptions, ServiceInfo } from './health.js';
export { bearerToken, fromNetworks } from './http/admit.js';
export { HEALTH_JSON } from './http/body.js';
export type { HealthBody, HealthCheckEntry } from './http/body.js';
export { healthGuard } from './http/guard.js';
export type { HealthEndpointOptions } from './http/guard.js';
export { healthListener } from './http/listener.js';
export type { HealthListener } from './http/listener.js';
export type { CheckResult, FailureReason } from './result.js';
export { createShutdown, Shutdown } from './shutdown/shutdown.js';
export type { Closer, ShutdownEvents, ShutdownOptions, ShutdownPhase, ShutdownResult } from './shutdown/shutdown.js';
export { HEALTH_STATUSES, worseStatus } from './status.js';
export type { HealthStatus } from './status.js';
