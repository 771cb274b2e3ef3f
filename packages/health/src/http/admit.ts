import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { InvalidOptionError, nonEmptyString, type GatewayRequest } from '@portcullis/core';

/**
 * A `details` predicate that admits callers sending `Authorization: Bearer <token>` (compared in
 * constant time). A request with two `Authorization` headers is not admitted (they reach the
 * predicate joined with `", "`).
 *
 * @param token - The shared secret; at least 16 characters.
 * @throws InvalidOptionError when `token` is shorter.
 *
 * @example
 * ```ts
 * import { bearerToken, createHealth, healthListener } from '@portcullis/health';
 *
 * const health = createHealth();
 * const listener = healthListener(health, { details: bearerToken(process.env['HEALTH_TOKEN'] ?? '') });
 * ```
 */
export function bearerToken(token: string): (req: GatewayRequest) => boolean {
  if (typeof token !== 'string' || token.length < 16 || token.length > 4_096) {
    const shown = typeof token === 'string' && token.length > 0 ? '(a string too short or too long)' : token;
    throw new InvalidOptionError('token', shown, 'a secret of 16 to 4,096 characters');
  }
  const expected = digest(`Bearer ${token}`);
  return function bearerTokenAdmits(req: GatewayRequest): boolean {
    const sent = req.header('authorization');
    // Digests of equal length, so the comparison takes the same time whatever was sent.
    return sent !== undefined && sent.length <= 8_192 && timingSafeEqual(digest(sent), expected);
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * A `details` predicate that admits callers whose address (`req.ip`, as the framework resolved
 * it: mind its trust-proxy setting) is in one of `networks`: addresses (`10.0.0.7`, `::1`) or
 * CIDR ranges (`10.0.0.0/8`, `fd00::/8`). IPv4-mapped IPv6 addresses (`::ffff:10.0.0.7`) count
 * as IPv4.
 *
 * @param networks - Addresses and ranges.
 * @throws InvalidOptionError naming the entry that is neither.
 *
 * @example
 * ```ts
 * import { fromNetworks } from '@portcullis/health';
 *
 * const internal = fromNetworks(['127.0.0.1', '::1', '10.0.0.0/8']);
 * ```
 */
export function fromNetworks(networks: readonly string[]): (req: GatewayRequest) => boolean {
  if (!Array.isArray(networks))
    throw new InvalidOptionError('networks', networks, 'an array of addresses or CIDR ranges');
  const list = new BlockList();
  networks.forEach((network, i) => {
    addNetwork(list, nonEmptyString(network, `networks[${String(i)}]`, 64), `networks[${String(i)}]`);
  });
  return function fromNetworksAdmits(req: GatewayRequest): boolean {
    const address = plainAddress(req.ip);
    if (address === undefined) return false;
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

function addNetwork(list: BlockList, network: string, option: string): void {
  const [address = '', prefixText, extra] = network.split('/');
  const family = isIP(address);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const prefix = prefixText === undefined ? undefined : Number(prefixText);
  const max = family === 4 ? 32 : 128;
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefixText ?? '') && prefix <= max);
  if (family === 0 || extra !== undefined || !prefixOk) {
    throw new InvalidOptionError(option, network, 'an IP address or a CIDR range (10.0.0.0/8)');
  }
  if (prefix === undefined) list.addAddress(address, type);
  else list.addSubnet(address, prefix, type);
}

function plainAddress(ip: string | undefined): string | undefined {
  if (ip === undefined) return undefined;
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
