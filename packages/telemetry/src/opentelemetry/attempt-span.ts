import { context, SpanKind, SpanStatusCode, type Attributes, type Histogram, type Tracer } from '@opentelemetry/api';
import { methodLabel } from '../labels.js';
import type { AttemptView } from '../sources.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from './semconv.js';

/** `host:port` or `[v6]:port` (an endpoint id) as `server.address` and `server.port`. */
export function serverOf(endpoint: string): { address: string; port: number | undefined } {
  const colon = endpoint.lastIndexOf(':');
  const port = colon === -1 ? undefined : Number(endpoint.slice(colon + 1));
  if (port === undefined || !Number.isInteger(port)) return { address: endpoint, port: undefined };
  const host = endpoint.slice(0, colon);
  return { address: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, port };
}

/** What every attempt span of one forwarder shares. */
export interface AttemptSpanSettings {
  readonly tracer: Tracer;
  /** `http.client.request.duration`. */
  readonly duration: Histogram;
  /** Epoch ms now (the attempt ended now; it started `durationMs` earlier). */
  readonly now: () => number;
}

/**
 * One forwarding attempt as a CLIENT span (made when the attempt has ended, dated from its
 * duration; a child of the span active then, if any) and a `http.client.request.duration`
 * measurement: `http.request.method`, `server.address`, `server.port`,
 * `http.response.status_code`, `http.request.resend_count` for a retry, and `error.type` (the
 * failure: `refused`, `reset`, `timeout`, `aborted`, `other`; or the status for a 4xx or 5xx). The
 * path is not recorded: the attempt knows only the path sent upstream, query included.
 */
export function recordAttempt(settings: AttemptSpanSettings, attempt: AttemptView): void {
  const method = methodLabel(attempt.method);
  const { address, port } = serverOf(attempt.endpoint);
  const { status, failure, durationMs } = attempt.outcome;
  const metric: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_SERVER_ADDRESS]: address };
  if (port !== undefined) metric[ATTR_SERVER_PORT] = port;
  if (status !== undefined) metric[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
  const error = failure ?? (status !== undefined && status >= 400 ? String(status) : undefined);
  if (error !== undefined) metric[ATTR_ERROR_TYPE] = error;
  settings.duration.record(Math.max(0, durationMs) / 1000, metric);

  const attributes: Attributes = { ...metric };
  if (method === '_OTHER') attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = attempt.method;
  if (attempt.attempt > 1) attributes[ATTR_HTTP_REQUEST_RESEND_COUNT] = attempt.attempt - 1;
  const end = settings.now();
  const span = settings.tracer.startSpan(
    method === '_OTHER' ? 'HTTP' : method,
    { kind: SpanKind.CLIENT, attributes, startTime: end - Math.max(0, durationMs) },
    context.active(),
  );
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(end);
}
