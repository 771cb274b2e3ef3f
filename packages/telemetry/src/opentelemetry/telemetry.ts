import { metrics, trace, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { InvalidOptionError, type Clock, type ComposedContext, type Guard } from '@portcullis/core';
import { bucketsOption } from '../buckets.js';
import { DEFAULT_BUCKETS } from '../catalogue.js';
import { routerRoute, watchGuard } from '../guard-watch.js';
import { methodLabel } from '../labels.js';
import { disposer } from '../observe/disposer.js';
import { createObservers, type Observers } from '../observe/observers.js';
import { durationOf, performanceClock, type InstrumentGuardOptions, type RequestRecord } from '../request-record.js';
import { recordAttempt } from './attempt-span.js';
import { otelInstruments } from './instruments.js';
import { requestSpan } from './request-span.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  HTTP_DURATION_BUCKETS,
  METRIC_HTTP_CLIENT_REQUEST_DURATION,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from './semconv.js';

/** The instrumentation scope of every tracer and meter this package gets. */
const SCOPE = '@portcullis/telemetry';

/**
 * Options of {@link openTelemetry}.
 *
 * @example
 * ```ts
 * import type { OpenTelemetryOptions } from '@portcullis/telemetry/opentelemetry';
 *
 * const options: OpenTelemetryOptions = { propagate: false };
 * ```
 */
export interface OpenTelemetryOptions {
  /** Where spans go. Default: the global tracer provider (what the OpenTelemetry SDK registers). */
  tracerProvider?: TracerProvider | undefined;
  /** Where metrics go. Default: the global meter provider. */
  meterProvider?: MeterProvider | undefined;
  /**
   * Send each request's trace context upstream (`traceparent`, through the global propagator,
   * replacing any the client sent), so the upstream's spans join the trace. Default true.
   */
  propagate?: boolean | undefined;
  /**
   * Histogram boundary advice for the `portcullis.*` durations (`seconds`) and batch sizes
   * (`sizes`); the HTTP durations use the semantic conventions' advice. Default: as for Prometheus.
   */
  buckets?: { seconds?: readonly number[] | undefined; sizes?: readonly number[] | undefined } | undefined;
  /** Epoch time in ms, for dating forwarding attempts. Default: `performance.timeOrigin + performance.now()`. */
  clock?: Clock | undefined;
}

/**
 * OpenTelemetry spans and metrics of Portcullis objects; see {@link openTelemetry}.
 *
 * @example
 * ```ts
 * import { openTelemetry, type OpenTelemetry } from '@portcullis/telemetry/opentelemetry';
 *
 * const otel: OpenTelemetry = openTelemetry({ propagate: false });
 * ```
 */
export interface OpenTelemetry extends Observers {
  /**
   * Wraps a guard, or a chain given as a list (composed as `compose` does; the route then stays
   * known on answers from guards after the router), in a span per request, with the HTTP
   * semantic conventions (`http.request.method`, `http.route`, `url.path` — the canonical path
   * only —, `http.response.status_code`, `error.type`), and records
   * `http.server.request.duration`. A child (INTERNAL) of the active span when an HTTP server
   * instrumentation made one; otherwise a SERVER span continuing the trace of the request's
   * headers. A request that continues carries the span's context upstream.
   *
   * @example
   * ```ts
   * import { portcullis } from '@portcullis/core/fastify';
   *
   * await app.register(portcullis(otel.instrumentGuard([jwt, routes, limits])));
   * ```
   */
  instrumentGuard<Ctx extends object>(guard: Guard<Ctx>, options?: InstrumentGuardOptions): Guard<Ctx>;
  /** The chain `guards`, composed and wrapped: see the overload above. */
  instrumentGuard<const G extends readonly Guard<object>[]>(
    guards: G,
    options?: InstrumentGuardOptions,
  ): Guard<ComposedContext<G>>;
  /**
   * Records one HTTP request in `http.server.request.duration` (no span), e.g. from a framework's
   * response hook.
   *
   * @throws InvalidOptionError naming `durationMs` when it is not a finite number >= 0.
   *
   * @example
   * ```ts
   * otel.recordRequest({ method: 'GET', route: '/users/:id', status: 200, durationMs: 4.1 });
   * ```
   */
  recordRequest(record: RequestRecord): void;
  /**
   * A forwarder's attempts: `portcullis.forward.*` metrics, a CLIENT span per attempt (a child of
   * the span active when it ended) and `http.client.request.duration`.
   *
   * @example
   * ```ts
   * const detach = otel.observeForwarder(forwarder);
   * ```
   */
  observeForwarder: Observers['observeForwarder'];
}

const epochClock: Clock = {
  now: function now(): number {
    return performance.timeOrigin + performance.now();
  },
};

/**
 * Creates the OpenTelemetry integration: spans around the guard chain and the forwarding attempts
 * with the HTTP semantic conventions, and every `observe…` of the Prometheus integration as
 * instruments of the Meter API (`portcullis.ratelimit.decisions`, `portcullis.pool.endpoint.up`…;
 * attributes `portcullis.<label>`), gauges read at collection time. Uses only
 * `@opentelemetry/api`: the SDK, exporters and the context manager are the application's.
 *
 * @param options - See {@link OpenTelemetryOptions}; validated here.
 * @throws InvalidOptionError for an invalid option.
 *
 * @example
 * ```ts
 * import { createForwarder } from '@portcullis/router';
 * import { openTelemetry } from '@portcullis/telemetry/opentelemetry';
 *
 * const otel = openTelemetry(); // the global providers, as the OpenTelemetry SDK registers them
 * const forwarder = createForwarder();
 * otel.observeForwarder(forwarder);
 * ```
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetry {
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
  if (typeof (tracerProvider as Partial<TracerProvider> | null)?.getTracer !== 'function') {
    throw new InvalidOptionError('tracerProvider', tracerProvider, 'a TracerProvider');
  }
  const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
  if (typeof (meterProvider as Partial<MeterProvider> | null)?.getMeter !== 'function') {
    throw new InvalidOptionError('meterProvider', meterProvider, 'a MeterProvider');
  }
  const propagate = options.propagate ?? true;
  if (typeof propagate !== 'boolean') throw new InvalidOptionError('propagate', propagate, 'a boolean');
  const buckets = {
    seconds: bucketsOption(options.buckets?.seconds, DEFAULT_BUCKETS.seconds, 'buckets.seconds'),
    sizes: bucketsOption(options.buckets?.sizes, DEFAULT_BUCKETS.sizes, 'buckets.sizes'),
  };
  const epoch = options.clock ?? epochClock;
  if (typeof (epoch as Partial<Clock> | null)?.now !== 'function') {
    throw new InvalidOptionError('clock', epoch, 'a Clock ({ now(): number })');
  }
  const tracer = tracerProvider.getTracer(SCOPE);
  const meter = meterProvider.getMeter(SCOPE);
  const observers = createObservers(otelInstruments(meter, buckets));
  const httpAdvice = { explicitBucketBoundaries: [...HTTP_DURATION_BUCKETS] };
  const serverDuration = meter.createHistogram(METRIC_HTTP_SERVER_REQUEST_DURATION, {
    description: 'Duration of HTTP server requests.',
    unit: 's',
    advice: httpAdvice,
  });
  const clientDuration = meter.createHistogram(METRIC_HTTP_CLIENT_REQUEST_DURATION, {
    description: 'Duration of HTTP client requests.',
    unit: 's',
    advice: httpAdvice,
  });
  const attemptSettings = { tracer, duration: clientDuration, now: () => epoch.now() };

  return {
    ...observers,
    instrumentGuard: function instrumentGuard(
      guard: Guard<object> | readonly Guard<object>[],
      guardOptions: InstrumentGuardOptions = {},
    ): Guard<object> {
      const settings = { tracer, duration: serverDuration, clock: guardOptions.clock ?? performanceClock, propagate };
      return watchGuard(guard, (req) => requestSpan(settings, req), guardOptions.route ?? routerRoute);
    } as OpenTelemetry['instrumentGuard'],
    recordRequest(record) {
      const durationMs = durationOf(record);
      const attributes: Record<string, string | number> = {
        [ATTR_HTTP_REQUEST_METHOD]: methodLabel(record.method),
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: record.status,
      };
      if (record.route !== undefined && record.route !== '') attributes[ATTR_HTTP_ROUTE] = record.route;
      if (record.status >= 500) attributes[ATTR_ERROR_TYPE] = String(record.status);
      serverDuration.record(durationMs / 1000, attributes);
    },
    observeForwarder(forwarder) {
      return disposer([
        observers.observeForwarder(forwarder),
        forwarder.events.on('attempt', function traceAttempt(attempt) {
          recordAttempt(attemptSettings, attempt);
        }),
      ]);
    },
  };
}
