import { finiteNumber } from '@portcullis/core';
import { parseIpv4 } from './ipv4.js';
import { formatIpv6, isIpv4Mapped, maskIpv6, parseIpv6 } from './ipv6.js';

/**
 * The rate-limit key of a client address:
 *
 * - IPv4: the address as it is (`203.0.113.7`).
 * - IPv4-mapped IPv6 (`::ffff:203.0.113.7`, what dual-stack sockets report): the IPv4 address, so
 *   one client has one key whichever way it connected.
 * - Other IPv6: the network of its first `ipv6Prefix` bits in canonical form with the length
 *   (`2001:db8:0:100::/56`). A single subscriber is usually given a /56 to a /64, so keying the full
 *   128 bits would let one client rotate through 2^64 keys; the zone id (`%eth0`) is dropped.
 * - Anything else that is not empty: the text as it is (the limiter bounds its length).
 * - `undefined` or `''`: `undefined` (no key).
 *
 * @param address - The client address, e.g. `req.ip` or a header set by a proxy you trust.
 * @param ipv6Prefix - How many leading bits of an IPv6 address identify one client, 1 to 128.
 *   Default 56.
 * @throws InvalidOptionError when `ipv6Prefix` is not an integer from 1 to 128.
 *
 * @example
 * ```ts
 * import { ipKey } from '@portcullis/ratelimit';
 *
 * ipKey('203.0.113.7'); // '203.0.113.7'
 * ipKey('::ffff:203.0.113.7'); // '203.0.113.7'
 * ipKey('2001:db8:0:1ff:a:b:c:d'); // '2001:db8:0:100::/56'
 * ipKey('2001:db8:0:1ff:a:b:c:d', 64); // '2001:db8:0:1ff::/64'
 * ```
 */
export function ipKey(address: string | undefined, ipv6Prefix = 56): string | undefined {
  const prefix = finiteNumber(ipv6Prefix, 'ipv6Prefix', { min: 1, max: 128, integer: true });
  if (address === undefined || address === '') return undefined;
  if (parseIpv4(address) !== undefined) return address;
  const groups = parseIpv6(address);
  if (groups === undefined) return address;
  if (isIpv4Mapped(groups)) {
    const [high = 0, low = 0] = groups.slice(6);
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  return `${formatIpv6(maskIpv6(groups, prefix))}/${prefix}`;
}
