import type { IncomingHttpHeaders } from 'node:http';
import { unmapped } from './trusted-proxies.js';

/**
 * Which forwarding headers the gateway sends upstream: the de-facto `X-Forwarded-For`,
 * `X-Forwarded-Proto` and `X-Forwarded-Host`, RFC 7239's `Forwarded`, both, or none. Whatever
 * the choice, copies a client that is not a trusted proxy sent are never passed on.
 *
 * @example
 * ```ts
 * import type { ForwardedHeaders } from '@portcullis/router';
 *
 * const onlyStandard: ForwardedHeaders = 'forwarded';
 * ```
 */
export type ForwardedHeaders = 'both' | 'x-forwarded' | 'forwarded' | 'none';

/** The names the gateway owns: set by it, or passed on only from a trusted proxy. */
export const FORWARDING_NAMES: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
]);

/**
 * Appends the forwarding headers for this hop to `out` (a flat `[name, value, …]` list). From a
 * trusted peer, the values it sent are kept and this hop is appended (`X-Forwarded-For`,
 * `Forwarded`) or they are kept as they are (`X-Forwarded-Proto`, `-Host`); from anyone else
 * they are replaced by what the gateway itself sees.
 */
export function appendForwarded(
  out: string[],
  headers: IncomingHttpHeaders,
  peer: string | undefined,
  trusted: boolean,
  encrypted: boolean,
  mode: ForwardedHeaders,
): void {
  if (mode === 'none') {
    if (trusted) for (const name of FORWARDING_NAMES) pushIncoming(out, headers, name);
    return;
  }
  const ip = peer === undefined ? undefined : unmapped(peer);
  const proto = encrypted ? 'https' : 'http';
  const host = joined(headers.host);
  if (mode !== 'forwarded') {
    const xff = trusted ? joined(headers['x-forwarded-for']) : undefined;
    const self = ip ?? 'unknown';
    out.push('x-forwarded-for', xff === undefined || xff === '' ? self : `${xff}, ${self}`);
    out.push('x-forwarded-proto', (trusted ? joined(headers['x-forwarded-proto']) : undefined) ?? proto);
    const forwardedHost = (trusted ? joined(headers['x-forwarded-host']) : undefined) ?? host;
    if (forwardedHost !== undefined) out.push('x-forwarded-host', forwardedHost);
  } else if (trusted) {
    for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']) pushIncoming(out, headers, name);
  }
  if (mode !== 'x-forwarded') {
    const element = forwardedElement(ip, host, proto);
    const previous = trusted ? joined(headers.forwarded) : undefined;
    out.push('forwarded', previous === undefined || previous === '' ? element : `${previous}, ${element}`);
  } else if (trusted) {
    pushIncoming(out, headers, 'forwarded');
  }
}

/** One RFC 7239 element: `for=…;host=…;proto=…`, IPv6 in brackets and quoted. */
export function forwardedElement(ip: string | undefined, host: string | undefined, proto: string): string {
  const node = ip === undefined ? 'unknown' : ip.includes(':') ? `"[${ip}]"` : ip;
  return host === undefined ? `for=${node};proto=${proto}` : `for=${node};host=${forwardedValue(host)};proto=${proto}`;
}

// RFC 7230 token characters: a value made only of them goes bare, anything else quoted.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function forwardedValue(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

function pushIncoming(out: string[], headers: IncomingHttpHeaders, name: string): void {
  const value = joined(headers[name]);
  if (value !== undefined) out.push(name, value);
}

function joined(value: string | string[] | undefined): string | undefined {
  return value === undefined || typeof value === 'string' ? value : value.join(', ');
}
