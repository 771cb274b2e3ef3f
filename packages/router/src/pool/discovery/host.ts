import { isIP } from 'node:net';

/** Longest DNS name in its text form (RFC 1035: 255 octets on the wire). */
const MAX_NAME_LENGTH = 253;

/**
 * Labels of letters, digits, `-` and `_` (service labels like `_http._tcp`, and names many private
 * zones use), 1–63 characters, not starting or ending with `-`; an optional final dot.
 */
const HOST_NAME =
  /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$/;

/** True for a DNS host name, so it can go into an origin (`http://name:port`) as it is. */
export function isHostName(value: string): boolean {
  if (value.length === 0 || value.length > MAX_NAME_LENGTH || !HOST_NAME.test(value)) return false;
  // An all-digit last label (`10.0.0.256`) is a mistyped address, not a name (RFC 3696 2).
  return !/(?:^|\.)\d+\.?$/.test(value);
}

/**
 * True for what an endpoint's `host` may be: an IPv4 or IPv6 literal (without brackets or a zone
 * index, which would not survive into a URL) or a host name.
 */
export function isEndpointHost(value: string): boolean {
  if (value.includes('%')) return false;
  return isIP(value) !== 0 || isHostName(value);
}
