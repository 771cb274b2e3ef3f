import { Resolver } from 'node:dns/promises';
import { finiteNumber, InvalidOptionError, oneOf, positiveInteger } from '@portcullis/core';
import type { Clock } from '@portcullis/core';
import { lookUp } from './dns-lookup.js';
import type { LookupPlan } from './dns-lookup.js';
import { isHostName } from './host.js';
import { clockOption, delayOption } from './options.js';
import { createPollingSource } from './polling-source.js';
import type { DiscoveredEndpoint, DiscoverySource } from './source.js';
import { copyMetadata, isValidZone, METADATA_EXPECTED, ZONE_EXPECTED } from './validate-endpoints.js';

/**
 * The records a {@link dnsDiscovery} source asks for: IPv4 (`A`), IPv6 (`AAAA`), both (`A+AAAA`,
 * two queries whose answers are merged) or service records (`SRV`, which carry ports and weights).
 *
 * @example
 * ```ts
 * import type { DnsDiscoveryType } from '@portcullis/router';
 *
 * const type: DnsDiscoveryType = 'SRV';
 * ```
 */
export type DnsDiscoveryType = 'A' | 'AAAA' | 'A+AAAA' | 'SRV';

/**
 * Options for {@link dnsDiscovery}.
 *
 * @example
 * ```ts
 * import type { DnsDiscoveryOptions } from '@portcullis/router';
 *
 * const options: DnsDiscoveryOptions = { name: '_http._tcp.api.internal', type: 'SRV', servers: ['10.0.0.2'] };
 * ```
 */
export interface DnsDiscoveryOptions {
  /** The name to resolve: `api.internal` for A/AAAA, `_http._tcp.api.internal` for SRV. */
  name: string;
  /** Which records to ask for. Default is `'A'`. */
  type?: DnsDiscoveryType | undefined;
  /** The endpoints' port, 1–65535: required for A, AAAA and A+AAAA, refused for SRV (records carry it). */
  port?: number | undefined;
  /**
   * What an SRV record's target becomes: its addresses (`'A'`, `'AAAA'`, `'A+AAAA'`, resolved by
   * this source's own resolver, so the `servers` given here answer for them too) or the target name
   * itself (`'name'`, left to the forwarder's connect-time lookup, which uses the system resolver).
   * Default is `'A'`: the pool then tracks health per address, and a name's addresses never hide
   * behind one endpoint.
   */
  srvTargets?: 'A' | 'AAAA' | 'A+AAAA' | 'name' | undefined;
  /**
   * DNS servers to ask (`'10.0.0.2'`, `'10.0.0.2:5353'`, `'[::1]:53'`), in order. Default is the
   * system's (`/etc/resolv.conf`), read when the source is built.
   */
  servers?: readonly string[] | undefined;
  /** Per-try query timeout in ms, an integer >= 1. Default is 1000. */
  timeoutMs?: number | undefined;
  /** Tries per server before a query fails, an integer >= 1. Default is 2. */
  tries?: number | undefined;
  /** Shortest wait before re-resolving, whatever the TTL (a TTL of 0 would spin), in ms > 0. Default is 1000. */
  minTtlMs?: number | undefined;
  /** Longest wait before re-resolving, whatever the TTL (bounds staleness), in ms >= `minTtlMs`. Default is 300000 (5 min). */
  maxTtlMs?: number | undefined;
  /**
   * The TTL assumed for SRV records, in ms > 0: `node:dns` reports TTLs of A/AAAA answers only. A
   * resolved target's shorter address TTL still wins. Default is 30000.
   */
  srvTtlMs?: number | undefined;
  /** Wait before retrying after a failed lookup, in ms > 0. Default is 5000. */
  refreshOnErrorMs?: number | undefined;
  /** A zone given to every endpoint found (e.g. when one name per zone is published). Default: none. */
  zone?: string | undefined;
  /** Metadata given to every endpoint found. Default: none. */
  metadata?: Readonly<Record<string, string>> | undefined;
  /** Time source, read only to say how stale the last good answer is in errors. Default is `Date.now`. */
  clock?: Clock | undefined;
}

/**
 * Endpoints from DNS through `node:dns` with a resolver of its own (its own servers, timeout and
 * tries; nothing shared with the rest of the process). Each answer is re-resolved when its TTL
 * runs out, clamped to [`minTtlMs`, `maxTtlMs`]; `update` is sent only when the set changed, in
 * whatever order the records came.
 *
 * On failure (SERVFAIL, timeout, unreachable servers), and also on NXDOMAIN or an empty answer,
 * the subscriber hears `error` (a `DiscoveryError` saying which) and keeps its last good set; the
 * source retries after `refreshOnErrorMs`. A name that vanishes is far more often a broken zone or
 * a half-finished deploy than a service scaled to zero, and dropping every endpoint would turn
 * that into an outage. To drain a service, publish fewer records, or use weights.
 *
 * One timer per source, `unref`ed; the lookups run while at least one subscriber listens, and the
 * last unsubscribe cancels the queries in flight.
 *
 * @example
 * ```ts
 * import { dnsDiscovery } from '@portcullis/router';
 *
 * const source = dnsDiscovery({ name: '_http._tcp.orders.internal', type: 'SRV', servers: ['10.0.0.2'] });
 * const stop = source.subscribe({
 *   update: (endpoints) => console.log(endpoints), // [{ host: '10.1.0.7', port: 8080, weight: 10 }, ...]
 *   error: (error) => console.warn(error),
 * });
 * // later
 * stop();
 * ```
 */
export function dnsDiscovery(options: DnsDiscoveryOptions): DiscoverySource {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  if (typeof options.name !== 'string' || !isHostName(options.name)) {
    throw new InvalidOptionError(
      'name',
      options.name,
      'a DNS name (letters, digits, "-", "_", dots; at most 253 characters)',
    );
  }
  const type = oneOf(options.type ?? 'A', ['A', 'AAAA', 'A+AAAA', 'SRV'] as const, 'type');
  let port = 0;
  if (type === 'SRV') {
    if (options.port !== undefined)
      throw new InvalidOptionError('port', options.port, 'no port for SRV (the records carry it)');
  } else {
    port = finiteNumber(options.port, 'port', { min: 1, max: 65_535, integer: true });
  }
  const srvTargets = oneOf(options.srvTargets ?? 'A', ['A', 'AAAA', 'A+AAAA', 'name'] as const, 'srvTargets');
  const timeoutMs = positiveInteger(options.timeoutMs ?? 1_000, 'timeoutMs');
  const tries = positiveInteger(options.tries ?? 2, 'tries');
  const minTtlMs = delayOption(options.minTtlMs ?? 1_000, 'minTtlMs');
  const maxTtlMs = delayOption(options.maxTtlMs ?? 300_000, 'maxTtlMs');
  if (maxTtlMs < minTtlMs)
    throw new InvalidOptionError('maxTtlMs', maxTtlMs, `a number >= minTtlMs (${String(minTtlMs)})`);
  const srvTtlMs = delayOption(options.srvTtlMs ?? 30_000, 'srvTtlMs');
  const refreshOnErrorMs = delayOption(options.refreshOnErrorMs ?? 5_000, 'refreshOnErrorMs');
  const extras = endpointExtras(options.zone, options.metadata);
  const clock = clockOption(options.clock);

  const resolver = new Resolver({ timeout: timeoutMs, tries });
  if (options.servers !== undefined) {
    if (!Array.isArray(options.servers) || options.servers.length === 0) {
      throw new InvalidOptionError('servers', options.servers, 'a non-empty array of addresses');
    }
    try {
      resolver.setServers(options.servers);
    } catch {
      throw new InvalidOptionError(
        'servers',
        options.servers,
        'IP addresses, optionally with a port ("10.0.0.2:53", "[::1]:53")',
      );
    }
  }

  const plan: LookupPlan = { name: options.name, type, port, srvTargets, srvTtlMs, extras };
  return createPollingSource({
    description: `dns ${type} ${options.name}`,
    refreshOnErrorMs,
    clock,
    refresh: async function resolveDns() {
      const found = await lookUp(resolver, plan);
      return { endpoints: found.endpoints, nextRefreshMs: Math.min(maxTtlMs, Math.max(minTtlMs, found.ttlMs)) };
    },
    // The resolver is this source's alone, so cancelling it abandons only this source's queries.
    onStop: function cancelQueries() {
      resolver.cancel();
    },
  });
}

/** Checks `zone` and `metadata` the way an endpoint's own are checked. */
function endpointExtras(zone: unknown, metadata: unknown): Pick<DiscoveredEndpoint, 'zone' | 'metadata'> {
  if (zone !== undefined && !isValidZone(zone)) throw new InvalidOptionError('zone', zone, ZONE_EXPECTED);
  const copy = metadata === undefined ? undefined : copyMetadata(metadata);
  if (metadata !== undefined && copy === undefined)
    throw new InvalidOptionError('metadata', metadata, METADATA_EXPECTED);
  return { zone, metadata: copy };
}
