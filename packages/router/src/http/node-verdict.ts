import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createGatewayRequest, type GatewayRequest, type GuardContext, type RespondVerdict } from '@portcullis/core';

/**
 * A `GatewayRequest` over Node's request, for the forward handler's own guard runs (standalone
 * servers and upgrades, where no framework adapter built one) and for target key functions.
 */
export function nodeGatewayRequest(req: IncomingMessage, context: GuardContext | undefined): GatewayRequest {
  const headers = req.headers;
  return createGatewayRequest({
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    header: function header(name) {
      const value = headers[name];
      return typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : undefined;
    },
    ip: req.socket.remoteAddress,
    context,
  });
}

/** `x_user_id` and `X-User-Id` read the same, as CGI-style upstreams read both (core's rule). */
function normalised(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/**
 * Applies a `continue` verdict's request-header changes to `req.headers`, the view the forwarder
 * copies upstream: every header whose name reads the same as one stripped or set (ignoring case
 * and `_` versus `-`) goes, then the upstream headers are set.
 */
export function applyUpstreamHeaders(
  headers: IncomingHttpHeaders,
  strip: readonly string[] | undefined,
  upstream: Headers | undefined,
): void {
  if (strip === undefined && upstream === undefined) return;
  const names = new Set<string>();
  for (const name of strip ?? []) names.add(normalised(name));
  if (upstream !== undefined) for (const name of upstream.keys()) names.add(normalised(name));
  for (const name of Object.keys(headers)) if (names.has(normalised(name))) Reflect.deleteProperty(headers, name);
  if (upstream !== undefined) for (const [name, value] of upstream) headers[name] = value;
}

/** The body of a `respond` verdict as core's adapters send it, and the content type to add. */
export function verdictBody(verdict: RespondVerdict): {
  body: string | Uint8Array | undefined;
  type: string | undefined;
} {
  const { body, status } = verdict;
  if (body === undefined || status === 204 || status === 205 || status === 304 || status < 200) {
    return { body: undefined, type: undefined };
  }
  const own = verdict.headers?.has('content-type') ?? false;
  if (typeof body === 'string') return { body, type: own ? undefined : 'text/plain; charset=utf-8' };
  if (body instanceof Uint8Array) return { body, type: own ? undefined : 'application/octet-stream' };
  const json = JSON.stringify(body) as string | undefined;
  if (json === undefined) throw new TypeError(`Cannot send a respond body of type ${typeof body} as JSON`);
  return { body: json, type: own ? undefined : 'application/json' };
}

/** Sends a `respond` verdict on a Node response. */
export function sendVerdict(res: ServerResponse, verdict: RespondVerdict): void {
  const { body, type } = verdictBody(verdict);
  res.statusCode = verdict.status;
  if (verdict.headers !== undefined) {
    for (const [name, value] of verdict.headers) {
      if (name === 'set-cookie') res.appendHeader(name, value);
      else res.setHeader(name, value);
    }
  }
  if (type !== undefined) res.setHeader('content-type', type);
  res.end(body);
}

/** Sends a `respond` verdict on the bare socket of an upgrade request, then closes it. */
export function sendVerdictOnSocket(socket: Duplex, verdict: RespondVerdict): void {
  const { body, type } = verdictBody(verdict);
  const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  let head = `HTTP/1.1 ${String(verdict.status)} ${STATUS_CODES[verdict.status] ?? ''}\r\n`;
  if (verdict.headers !== undefined) for (const [name, value] of verdict.headers) head += `${name}: ${value}\r\n`;
  if (type !== undefined) head += `content-type: ${type}\r\n`;
  head += `content-length: ${String(bytes?.byteLength ?? 0)}\r\nconnection: close\r\n\r\n`;
  socket.write(head);
  socket.end(bytes);
}
