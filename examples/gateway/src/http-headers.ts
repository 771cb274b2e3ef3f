import type { IncomingHttpHeaders } from 'node:http';

/** Response headers as the gateway relays them (lower-case names; repeated ones as arrays). */
export type RelayedHeaders = Readonly<Record<string, string | readonly string[]>>;

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the ones Node and
 * undici set themselves for the next hop: never copied from one side of the gateway to the other.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // The upstream is addressed by its own host; Node answers `100 Continue` to the client itself.
  'host',
  'expect',
]);

function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/** One value of a header that may repeat, comma-joined (RFC 9110 §5.3). */
export function headerValue(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

/** Lower-case directive names of a `Cache-Control` value (their arguments do not matter here). */
export function directives(value: string | undefined): ReadonlySet<string> {
  if (value === undefined) return new Set();
  return new Set(value.split(',').map((part) => (part.split('=')[0] ?? '').trim().toLowerCase()));
}

/** Hop-by-hop names, and the names the message's own `Connection` header lists. */
function connectionScoped(connection: string | readonly string[] | undefined): (name: string) => boolean {
  // Most messages have no `Connection` header, or a bare `keep-alive` (hop-by-hop already).
  if (connection === undefined || connection === 'keep-alive') return isHopByHop;
  const listed = new Set(
    (headerValue(connection) ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ''),
  );
  return (name) => HOP_BY_HOP.has(name) || listed.has(name);
}

/**
 * The headers to send the upstream: the client's (after the guards replaced the identity headers),
 * without hop-by-hop ones, and with `content-length` only when the body goes along (undici frames a
 * body of unknown length itself).
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, withBody: boolean): Record<string, string> {
  const scoped = connectionScoped(headers.connection);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || scoped(name) || (name === 'content-length' && !withBody)) continue;
    out[name] = headerValue(value) ?? '';
  }
  return out;
}

/** The upstream's response headers the client gets: all but the hop-by-hop ones. */
export function relayedResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): RelayedHeaders {
  const scoped = connectionScoped(headers['connection']);
  const out: Record<string, string | readonly string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !scoped(name)) out[name] = value;
  }
  return out;
}

/** Whether a request carries a body (RFC 9112 §6.3: a transfer coding, or a non-zero length). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
