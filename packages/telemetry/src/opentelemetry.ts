/**
 * OpenTelemetry (`@opentelemetry/api`) spans and metrics of Portcullis objects:
 * `openTelemetry()`, then `instrumentGuard` (a span per request around the guard chain, with the
 * HTTP semantic conventions), `observeForwarder` (a span per forwarding attempt), and the same
 * `observe…` as the Prometheus integration through the Meter API. Needs `@opentelemetry/api` (an
 * optional peer dependency); the SDK and exporters are the application's.
 *
 * @packageDocumentation
 */
export { openTelemetry } from './opentelemetry/telemetry.js';
export type { OpenTelemetry, OpenTelemetryOptions } from './opentelemetry/telemetry.js';
