/**
 * Prometheus metrics (prom-client) of Portcullis objects: `prometheusMetrics({ registry })`, then
 * `observeLimiter`, `observeBreaker`, `observePool`, `observeCanary`, `observeLoader`,
 * `observeForwarder`, `observeVerifier`, and request metrics with `instrumentGuard` or
 * `recordRequest`. Needs `prom-client` (an optional peer dependency).
 *
 * @packageDocumentation
 */
export { prometheusMetrics } from './prometheus/metrics.js';
export type { PrometheusMetrics, PrometheusMetricsOptions } from './prometheus/metrics.js';
