import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Histogram,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { Clock, GatewayRequest, Outcome, Verdict } from '@portcullis/core';
import type { RequestWatch, RouteInfo } from '../guard-watch.js';
import { methodLabel } from '../labels.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  errorType,
} from './semconv.js';

/** Reads a traceparent (and the rest of a propagator's headers) from a gateway request. */
const requestGetter: TextMapGetter<GatewayRequest> = {
  keys: () => [],
  get: (req, key) => req.header(key),
};

/** What every request span of one `instrumentGuard` shares. */
export interface RequestSpanSettings {
  readonly tracer: Tracer;
  /** `http.server.request.duration`. */
  readonly duration: Histogram;
  readonly clock: Clock;
  /** Inject the span's context into the upstream headers (`traceparent`). */
  readonly propagate: boolean;
}

/**
 * One request through a guard chain, as a span and a duration:
 *
 * - the span is a child of the active span when there is one (an HTTP server instrumentation's),
 *   then of kind INTERNAL; otherwise a SERVER span continuing the trace the request's headers
 *   carry (through the global propagator);
 * - its name is `{method} {http.route}` once a route matched, `{method}` before (`HTTP` for a
 *   method outside the known ones);
 * - attributes: `http.request.method` (`_OTHER` and `http.request.method_original` for an unknown
 *   one), `http.route` (the route's template), `url.path` (the canonical path the router forwards;
 *   never the raw path), `portcullis.route`, `portcullis.variant`, `http.response.status_code`,
 *   `error.type` (the status for a 5xx, or what was thrown); status ERROR for a 5xx or a throw;
 * - a request that continues carries the span's context upstream (`upstreamHeaders`), so the
 *   upstream's spans join the trace.
 */
export function requestSpan(settings: RequestSpanSettings, req: GatewayRequest): RequestWatch {
  const { tracer, clock } = settings;
  const started = clock.now();
  const active = context.active();
  const nested = trace.getSpan(active) !== undefined;
  const parent = nested ? active : propagation.extract(active, req, requestGetter);
  const method = methodLabel(req.method);
  const attributes: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: method };
  if (method === '_OTHER') attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = req.method;
  const baseName = method === '_OTHER' ? 'HTTP' : method;
  const span = tracer.startSpan(baseName, { kind: nested ? SpanKind.INTERNAL : SpanKind.SERVER, attributes }, parent);
  let route: string | undefined;

  function record(status: number | undefined, error: string | undefined): void {
    const metric: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: method };
    if (route !== undefined) metric[ATTR_HTTP_ROUTE] = route;
    if (status !== undefined) metric[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
    if (error !== undefined) metric[ATTR_ERROR_TYPE] = error;
    settings.duration.record(Math.max(0, clock.now() - started) / 1000, metric);
  }

  return {
    verdict(verdict: Verdict, info: RouteInfo | undefined): Verdict {
      if (info !== undefined) {
        route = info.template ?? info.name;
        span.updateName(`${baseName} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
        span.setAttribute('portcullis.route', info.name);
        if (info.canonicalPath !== undefined) span.setAttribute(ATTR_URL_PATH, info.canonicalPath);
        if (info.variant !== undefined) span.setAttribute('portcullis.variant', info.variant);
      }
      if (!settings.propagate || verdict.action !== 'continue') return verdict;
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(parent, span), carrier);
      const names = Object.keys(carrier);
      if (names.length === 0) return verdict;
      const headers = new Headers(verdict.upstreamHeaders);
      for (const name of names) headers.set(name, carrier[name] as string);
      return { ...verdict, upstreamHeaders: headers };
    },
    end(outcome: Outcome): void {
      const { status } = outcome;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      let error: string | undefined;
      if (outcome.error !== undefined) {
        error = errorType(outcome.error);
        span.recordException(exception(outcome.error));
      } else if (status >= 500 && !outcome.aborted) {
        error = String(status);
      }
      if (error !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, error);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
      record(status, error);
    },
    fail(thrown: unknown): void {
      const error = errorType(thrown);
      span.recordException(exception(thrown));
      span.setAttribute(ATTR_ERROR_TYPE, error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      record(undefined, error);
    },
  };
}

/** What `recordException` takes: the error, or a description of something else thrown. */
function exception(thrown: unknown): Error | string {
  return thrown instanceof Error ? thrown : typeof thrown === 'string' ? thrown : errorType(thrown);
}
