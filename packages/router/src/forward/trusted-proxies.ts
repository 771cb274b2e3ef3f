import { InvalidOptionError } from '@portcullis/core';
import { BlockList, isIP } from 'node:net';

/**
 * Which direct peers of the gateway are trusted proxies, whose `X-Forwarded-*` and `Forwarded`
 * headers are kept (and appended to); from any other peer they are replaced. Either a list of
 * addresses and CIDR ranges (`'10.0.0.0/8'`, `'2001:db8::/32'`, `'192.0.2.7'`) with the shortcuts
 * `'loopback'`, `'linklocal'` and `'uniquelocal'` (as Express's `trust proxy` names them), or a
 * predicate over the peer's address.
 *
 * @example
 * ```ts
 * import type { TrustedProxies } from '@portcullis/router';
 *
 * const behindTheLoadBalancer: TrustedProxies = ['10.0.0.0/8', 'loopback'];
 * const byName: TrustedProxies = (ip) => ip === '192.0.2.7';
 * ```
 */
export type TrustedProxies = readonly string[] | ((ip: string) => boolean);

const SHORTCUTS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Decides whether a peer address is trusted; `::ffff:`-mapped IPv4 addresses are read as IPv4. */
export type TrustCheck = (ip: string | undefined) => boolean;

const TRUST_NONE: TrustCheck = function trustNone(): boolean {
  return false;
};

/** Validates {@link TrustedProxies} once and returns the check the forwarder runs per request. */
export function trustCheck(value: TrustedProxies | undefined, option = 'trustedProxies'): TrustCheck {
  if (value === undefined) return TRUST_NONE;
  if (typeof value === 'function') {
    return function trustByPredicate(ip: string | undefined): boolean {
      return ip !== undefined && value(unmapped(ip));
    };
  }
  if (!Array.isArray(value)) throw new InvalidOptionError(option, value, 'an array of CIDR ranges or a function');
  if (value.length === 0) return TRUST_NONE;
  const list = new BlockList();
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') throw new InvalidOptionError(`${option}[${String(i)}]`, entry, 'a string');
    for (const range of SHORTCUTS[entry] ?? [entry]) addRange(list, range, `${option}[${String(i)}]`);
  });
  return function trustByList(ip: string | undefined): boolean {
    if (ip === undefined) return false;
    const address = unmapped(ip);
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

function addRange(list: BlockList, range: string, option: string): void {
  const slash = range.indexOf('/');
  const address = slash === -1 ? range : range.slice(0, slash);
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  const prefix = slash === -1 ? max : Number(range.slice(slash + 1));
  if (
    family === 0 ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (slash !== -1 && !/^\d+$/.test(range.slice(slash + 1)))
  ) {
    throw new InvalidOptionError(
      option,
      range,
      "an IP address, a CIDR range or 'loopback' / 'linklocal' / 'uniquelocal'",
    );
  }
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
}

/** `::ffff:192.0.2.7` → `192.0.2.7`: Node reports IPv4 peers of a dual-stack socket that way. */
export function unmapped(ip: string): string {
  return ip.length > 7 && ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
