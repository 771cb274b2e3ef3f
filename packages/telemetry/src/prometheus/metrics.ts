import { InvalidOptionError, type ComposedContext, type Guard } from '@portcullis/core';
import { register as globalRegistry, type Registry } from 'prom-client';
import { bucketsOption } from '../buckets.js';
import { DEFAULT_BUCKETS, HTTP_REQUESTS } from '../catalogue.js';
import { routerRoute, watchGuard } from '../guard-watch.js';
import { methodLabel, statusClass } from '../labels.js';
import { createObservers, type Observers } from '../observe/observers.js';
import { durationOf, performanceClock, type InstrumentGuardOptions, type RequestRecord } from '../request-record.js';
import { promInstruments } from './instruments.js';

/**
 * Options of {@link prometheusMetrics}.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import type { PrometheusMetricsOptions } from '@portcullis/telemetry/prometheus';
 *
 * const options: PrometheusMetricsOptions = { registry: new Registry(), prefix: 'gateway_' };
 * ```
 */
export interface PrometheusMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global `register`. */
  registry?: Registry | undefined;
  /** Prepended to every metric name; a valid metric name start, or `''`. Default `'portcullis_'`. */
  prefix?: string | undefined;
  /**
   * Histogram boundaries: `seconds` for every duration (default 1 ms to 10 s: 0.001, 0.0025, 0.005,
   * 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), `sizes` for loader batch sizes (default 1 to
   * 1000). Increasing finite numbers.
   */
  buckets?: { seconds?: readonly number[] | undefined; sizes?: readonly number[] | undefined } | undefined;
}

/**
 * Prometheus metrics of Portcullis objects on a prom-client registry; see {@link prometheusMetrics}.
 *
 * @example
 * ```ts
 * import { prometheusMetrics, type PrometheusMetrics } from '@portcullis/telemetry/prometheus';
 *
 * const metrics: PrometheusMetrics = prometheusMetrics();
 * const text = await metrics.registry.metrics();
 * ```
 */
export interface PrometheusMetrics extends Observers {
  /** The registry the metrics are on: serve `await registry.metrics()` as `/metrics`. */
  readonly registry: Registry;
  /**
   * Records one HTTP request in `portcullis_http_request_duration_seconds` (labels `method`,
   * `route`, `status_class`), e.g. from a framework's response hook.
   *
   * @throws InvalidOptionError naming `durationMs` when it is not a finite number >= 0.
   *
   * @example
   * ```ts
   * app.addHook('onResponse', async (request, reply) => {
   *   metrics.recordRequest({
   *     method: request.method,
   *     route: request.routeOptions.url, // the route's template, never request.url
   *     status: reply.statusCode,
   *     durationMs: reply.elapsedTime,
   *   });
   * });
   * ```
   */
  recordRequest(record: RequestRecord): void;
  /**
   * Wraps a guard, or a chain given as a list (composed as `compose` does), so that every request
   * it sees is recorded in `portcullis_http_request_duration_seconds` when it ends: its method, the
   * name of the route `@portcullis/router`'s guard matched (`''` when none did: a 404, or an answer
   * from a guard before the router), its status class and the time from the guard's call to the
   * response's end. Give the chain as a list to keep the route on answers from guards after the
   * router (a 429 from the limits): a composed guard's `respond` verdict carries no context.
   *
   * @example
   * ```ts
   * import { portcullis } from '@portcullis/core/express';
   *
   * app.use(portcullis(metrics.instrumentGuard([jwt, routes, limits])));
   * ```
   */
  instrumentGuard<Ctx extends object>(guard: Guard<Ctx>, options?: InstrumentGuardOptions): Guard<Ctx>;
  /** The chain `guards`, composed and wrapped: see the overload above. */
  instrumentGuard<const G extends readonly Guard<object>[]>(
    guards: G,
    options?: InstrumentGuardOptions,
  ): Guard<ComposedContext<G>>;
}

const METRIC_NAME_START = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Creates the Prometheus metrics of Portcullis objects. Observe what you want measured — each
 * `observe…` returns the function that detaches it — and serve the registry as `/metrics`.
 * Nothing is attached to an object you do not observe; health-like values (pool health, breaker
 * state, canary weight) are read from the objects' snapshots when Prometheus scrapes, not
 * maintained per event.
 *
 * Every label value comes from configuration (limiter, pool, endpoint, route, loader names) or a
 * closed set (result, state, reason), never from a request (no user ids, keys or raw paths), so
 * the number of series stays bounded.
 *
 * @param options - See {@link PrometheusMetricsOptions}; validated here.
 * @throws InvalidOptionError for an invalid option; when observing, for a registry that already has
 *   one of these metrics (one `prometheusMetrics` per registry and prefix).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createRateLimiter, tokenBucket } from '@portcullis/ratelimit';
 * import { prometheusMetrics } from '@portcullis/telemetry/prometheus';
 * import { Registry } from 'prom-client';
 *
 * const limiter = createRateLimiter({ limits: { perSecond: tokenBucket({ capacity: 10, refillPerSecond: 10 }) } });
 * const metrics = prometheusMetrics({ registry: new Registry() });
 * metrics.observeLimiter(limiter, { name: 'api' });
 *
 * createServer(async (_req, res) => {
 *   res.setHeader('content-type', metrics.registry.contentType);
 *   res.end(await metrics.registry.metrics());
 * }).listen(9464);
 * ```
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? globalRegistry;
  if (typeof (registry as Partial<Registry> | null)?.getSingleMetric !== 'function') {
    throw new InvalidOptionError('registry', registry, 'a prom-client Registry');
  }
  const prefix = options.prefix ?? 'portcullis_';
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME_START.test(prefix))) {
    throw new InvalidOptionError('prefix', prefix, "'' or the start of a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
  }
  const buckets = {
    seconds: bucketsOption(options.buckets?.seconds, DEFAULT_BUCKETS.seconds, 'buckets.seconds'),
    sizes: bucketsOption(options.buckets?.sizes, DEFAULT_BUCKETS.sizes, 'buckets.sizes'),
  };
  const instruments = promInstruments(registry, prefix, buckets);
  let requests: ReturnType<typeof instruments.histogram> | undefined;

  function observeRequest(method: string, route: string, status: number, durationMs: number): void {
    requests ??= instruments.histogram(HTTP_REQUESTS);
    requests.record(
      { method: methodLabel(method), route, status_class: statusClass(status) },
      Math.max(0, durationMs) / 1000,
    );
  }

  return {
    ...createObservers(instruments),
    registry,
    recordRequest(record) {
      observeRequest(record.method, record.route ?? '', record.status, durationOf(record));
    },
    instrumentGuard: function instrumentGuard(
      guard: Guard<object> | readonly Guard<object>[],
      guardOptions: InstrumentGuardOptions = {},
    ): Guard<object> {
      const clock = guardOptions.clock ?? performanceClock;
      return watchGuard(
        guard,
        (req) => {
          const started = clock.now();
          let route = '';
          return {
            verdict(verdict, info) {
              route = info?.name ?? '';
              return verdict;
            },
            end(outcome) {
              observeRequest(req.method, route, outcome.status, clock.now() - started);
            },
            fail() {
              observeRequest(req.method, route, 500, clock.now() - started);
            },
          };
        },
        guardOptions.route ?? routerRoute,
      );
    } as PrometheusMetrics['instrumentGuard'],
  };
}
