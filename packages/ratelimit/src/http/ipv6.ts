import { parseIpv4 } from './ipv4.js';

// Written by hand rather than with node:net: `BlockList` only answers whether an address is inside
// a subnet it was given (it cannot tell which /56 an address belongs to), and Node 20's
// `SocketAddress` exposes the address only as text, never as bits to mask. Hand-written also keeps
// the HTTP layer free of Node built-ins for runtimes Hono serves.

const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/**
 * The eight 16-bit groups of an IPv6 address in any textual form RFC 4291 allows (`::`
 * compression, upper or lower case, leading zeros, an embedded dotted IPv4 tail), with an optional
 * non-empty zone id (`fe80::1%eth0`, dropped). `undefined` when `text` is not an IPv6 address.
 */
export function parseIpv6(text: string): number[] | undefined {
  const zone = text.indexOf('%');
  if (zone === text.length - 1) return undefined;
  const address = zone === -1 ? text : text.slice(0, zone);
  const gap = address.indexOf('::');
  if (gap === -1) {
    const groups = parseGroups(address, true);
    return groups?.length === 8 ? groups : undefined;
  }
  if (address.includes('::', gap + 1)) return undefined;
  const head = address.slice(0, gap);
  const tail = address.slice(gap + 2);
  const left = head === '' ? [] : parseGroups(head, false);
  const right = tail === '' ? [] : parseGroups(tail, true);
  if (left === undefined || right === undefined || left.length + right.length > 7) return undefined;
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** Colon-separated hex groups; the last may be a dotted IPv4 address (two groups) if allowed. */
function parseGroups(part: string, ipv4TailAllowed: boolean): number[] | undefined {
  const pieces = part.split(':');
  const groups: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    if (ipv4TailAllowed && i === pieces.length - 1 && piece.includes('.')) {
      const octets = parseIpv4(piece);
      if (octets === undefined) return undefined;
      const [a = 0, b = 0, c = 0, d = 0] = octets;
      groups.push((a << 8) | b, (c << 8) | d);
    } else if (HEX_GROUP.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** `groups` with every bit after the first `prefix` bits cleared. */
export function maskIpv6(groups: readonly number[], prefix: number): number[] {
  return groups.map((group, i) => {
    const bits = Math.min(16, Math.max(0, prefix - 16 * i));
    return bits === 0 ? 0 : group & ((0xffff << (16 - bits)) & 0xffff);
  });
}

/**
 * The canonical text of an IPv6 address (RFC 5952): lower-case hex without leading zeros, the
 * longest run of two or more zero groups (the first, on a tie) shortened to `::`.
 */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (runStart === -1) runStart = i;
    } else if (runStart !== -1) {
      if (i - runStart > bestLength) {
        bestStart = runStart;
        bestLength = i - runStart;
      }
      runStart = -1;
    }
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** True for `::ffff:0:0/96`, the IPv4-mapped addresses of dual-stack sockets. */
export function isIpv4Mapped(groups: readonly number[]): boolean {
  return groups[5] === 0xffff && groups.slice(0, 5).every((group) => group === 0);
}
