import type { Resolver } from 'node:dns/promises';
import { MAX_ENDPOINTS } from '../../balancers/endpoint-set.js';
import { isHostName } from './host.js';
import { mapLimited } from './map-limited.js';
import { RefreshFailure } from './refresh-failure.js';
import type { DiscoveredEndpoint } from './source.js';

/** Address families a name is resolved to. */
export type AddressFamilies = 'A' | 'AAAA' | 'A+AAAA';

/** Addresses of one name and the smallest TTL among them, in seconds. */
interface Addresses {
  readonly addresses: readonly string[];
  readonly ttlSeconds: number;
}

/** What {@link lookUp} needs to know besides the resolver. */
export interface LookupPlan {
  readonly name: string;
  readonly type: AddressFamilies | 'SRV';
  /** The port for A / AAAA answers (SRV records carry their own). */
  readonly port: number;
  /** How SRV targets become hosts: resolved to addresses, or kept as names. */
  readonly srvTargets: AddressFamilies | 'name';
  /** The TTL assumed for SRV records, whose TTL `node:dns` does not report, in ms. */
  readonly srvTtlMs: number;
  /** Labels added to every endpoint. */
  readonly extras: Pick<DiscoveredEndpoint, 'zone' | 'metadata'>;
}

/** Endpoints found, and the TTL that bounds how long they hold, in ms. */
export interface LookupResult {
  readonly endpoints: readonly DiscoveredEndpoint[];
  readonly ttlMs: number;
}

/** How many SRV targets are resolved at once. */
const TARGET_CONCURRENCY = 16;

/** Resolves `plan.name` once. Failures are `RefreshFailure`s saying why. */
export async function lookUp(resolver: Resolver, plan: LookupPlan): Promise<LookupResult> {
  if (plan.type === 'SRV') return lookUpSrv(resolver, plan);
  const found = await addressesOf(resolver, plan.name, plan.type);
  const endpoints = found.addresses.map((host) => endpoint(host, plan.port, undefined, plan.extras));
  return { endpoints: finish(endpoints), ttlMs: found.ttlSeconds * 1000 };
}

/**
 * SRV (RFC 2782): only the lowest priority group is used (the others are fallbacks, and the pool's
 * health checks and outlier detection already steer around failing endpoints). A record's weight
 * becomes the endpoint's; when every weight in the group is 0 they count as equal (1 each). A target
 * resolved to several addresses shares its weight among them, so it keeps its share of traffic.
 */
async function lookUpSrv(resolver: Resolver, plan: LookupPlan): Promise<LookupResult> {
  let records;
  try {
    records = await resolver.resolveSrv(plan.name);
  } catch (error) {
    throw failureOf(error, plan.name, 'SRV');
  }
  // A target of "." says the service is deliberately not offered at this name.
  const usable = records.filter((record) => record.name !== '' && record.name !== '.' && isHostName(record.name));
  if (usable.length === 0) {
    throw new RefreshFailure('empty', `SRV ${plan.name} has no usable target (${String(records.length)} records)`);
  }
  const lowest = Math.min(...usable.map((record) => record.priority));
  const group = usable.filter((record) => record.priority === lowest);
  const equal = group.every((record) => record.weight === 0);
  const weightOf = (record: { weight: number }): number => (equal ? 1 : record.weight);

  if (plan.srvTargets === 'name') {
    const endpoints = group.map((record) =>
      endpoint(record.name.replace(/\.$/, ''), record.port, weightOf(record), plan.extras),
    );
    return { endpoints: finish(endpoints), ttlMs: plan.srvTtlMs };
  }

  const families = plan.srvTargets;
  const targets = [...new Set(group.map((record) => record.name))];
  const resolved = await mapLimited(targets, TARGET_CONCURRENCY, async (target) => {
    try {
      return await addressesOf(resolver, target, families);
    } catch (error) {
      // A target without addresses is left out; a failing server fails the whole refresh, so a
      // passing outage cannot shrink the set.
      if (error instanceof RefreshFailure && (error.failure === 'not-found' || error.failure === 'empty')) {
        return undefined;
      }
      throw error;
    }
  });
  const byTarget = new Map(targets.map((target, i) => [target, resolved[i]]));
  const endpoints: DiscoveredEndpoint[] = [];
  let ttlMs = plan.srvTtlMs;
  for (const record of group) {
    const found = byTarget.get(record.name);
    if (found === undefined) continue;
    ttlMs = Math.min(ttlMs, found.ttlSeconds * 1000);
    const share = weightOf(record) / found.addresses.length;
    for (const host of found.addresses) endpoints.push(endpoint(host, record.port, share, plan.extras));
  }
  if (endpoints.length === 0) {
    throw new RefreshFailure('empty', `no target of SRV ${plan.name} has an ${families} address`);
  }
  return { endpoints: finish(endpoints), ttlMs };
}

async function addressesOf(resolver: Resolver, name: string, families: AddressFamilies): Promise<Addresses> {
  if (families !== 'A+AAAA') return familyOf(resolver, name, families);
  const [v4, v6] = await Promise.allSettled([familyOf(resolver, name, 'A'), familyOf(resolver, name, 'AAAA')]);
  const found = [v4, v6].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as RefreshFailure] : []));
  // One family missing is normal (an IPv4-only service); one family failing is not: keep the last
  // good set rather than drop half of it.
  const hard = failures.find((f) => f.failure !== 'not-found' && f.failure !== 'empty');
  if (hard !== undefined) throw hard;
  // Both missing: NODATA (the name exists) says more than NXDOMAIN.
  const missing = failures.find((f) => f.failure === 'empty') ?? failures[0];
  if (found.length === 0 && missing !== undefined) throw missing;
  return {
    addresses: found.flatMap((f) => f.addresses),
    ttlSeconds: Math.min(...found.map((f) => f.ttlSeconds)),
  };
}

async function familyOf(resolver: Resolver, name: string, family: 'A' | 'AAAA'): Promise<Addresses> {
  let records;
  try {
    records =
      family === 'A' ? await resolver.resolve4(name, { ttl: true }) : await resolver.resolve6(name, { ttl: true });
  } catch (error) {
    throw failureOf(error, name, family);
  }
  if (records.length === 0) throw new RefreshFailure('empty', `${family} ${name}: no records`, { dnsCode: 'ENODATA' });
  return {
    addresses: records.map((record) => record.address),
    ttlSeconds: Math.min(...records.map((record) => record.ttl)),
  };
}

/** `node:dns` error codes, as a refresh failure. */
function failureOf(error: unknown, name: string, type: string): RefreshFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const dnsCode = typeof code === 'string' ? code : undefined;
  const what = `${type} ${name}: ${dnsCode ?? (error instanceof Error ? error.message : 'lookup failed')}`;
  const options = dnsCode === undefined ? { cause: error } : { dnsCode, cause: error };
  switch (dnsCode) {
    case 'ENOTFOUND':
      return new RefreshFailure('not-found', `${what} (no such name)`, options);
    case 'ENODATA':
      return new RefreshFailure('empty', `${what} (no records of this type)`, options);
    case 'ETIMEOUT':
      return new RefreshFailure('timeout', `${what} (no answer from the DNS servers)`, options);
    default:
      return new RefreshFailure('lookup-failed', what, options);
  }
}

function endpoint(
  host: string,
  port: number,
  weight: number | undefined,
  extras: Pick<DiscoveredEndpoint, 'zone' | 'metadata'>,
): DiscoveredEndpoint {
  return Object.freeze({
    host,
    port,
    ...(weight === undefined ? {} : { weight }),
    ...(extras.zone === undefined ? {} : { zone: extras.zone }),
    ...(extras.metadata === undefined ? {} : { metadata: extras.metadata }),
  });
}

/**
 * Merges endpoints that are the same host and port (an address listed twice, two SRV targets on
 * one address: their weights add up), bounds the count and sorts, so the pool gets a stable order.
 */
function finish(endpoints: readonly DiscoveredEndpoint[]): readonly DiscoveredEndpoint[] {
  const byId = new Map<string, DiscoveredEndpoint>();
  for (const candidate of endpoints) {
    const id = `${candidate.host}:${String(candidate.port)}`;
    const seen = byId.get(id);
    if (seen === undefined) byId.set(id, candidate);
    else if (seen.weight !== undefined && candidate.weight !== undefined) {
      byId.set(id, Object.freeze({ ...seen, weight: seen.weight + candidate.weight }));
    }
  }
  if (byId.size > MAX_ENDPOINTS) {
    throw new RefreshFailure(
      'invalid',
      `${String(byId.size)} endpoints, more than the ${String(MAX_ENDPOINTS)} a pool takes`,
    );
  }
  const compare = (a: DiscoveredEndpoint, b: DiscoveredEndpoint): number =>
    a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port;
  return Object.freeze([...byId.values()].sort(compare));
}
