import { isIP } from 'node:net';
import { MAX_ENDPOINTS } from '../balancers/endpoint-set.js';
import { InvalidEndpointsError } from '../balancers/errors.js';
import type { DiscoveredEndpoint } from './discovery/source.js';

/**
 * One endpoint of an upstream pool, as the pool hands it to its balancer, its events and its
 * snapshots. Immutable: a reweight replaces the object (the endpoint keeps its id, its health and
 * its breaker).
 *
 * @example
 * ```ts
 * import { createUpstreamPool } from '@portcullis/router';
 *
 * const pool = createUpstreamPool({ name: 'users', endpoints: [{ host: '::1', port: 8080, zone: 'a' }] });
 * pool.endpoints[0]; // { id: '[::1]:8080', host: '::1', port: 8080, origin: 'http://[::1]:8080', weight: 1, zone: 'a', metadata: undefined }
 * ```
 */
export interface UpstreamEndpoint {
  /** `host:port` (`[v6]:port` for an IPv6 literal): unique within the pool, stable across updates. */
  readonly id: string;
  /** The host name or IP literal, as discovered (IPv6 without brackets). */
  readonly host: string;
  /** 1–65535. */
  readonly port: number;
  /** `http://id` or `https://id` (no path): what a lease's `origin` is. */
  readonly origin: string;
  /** The configured relative weight, >= 0 (0: never picked). */
  readonly weight: number;
  /** The locality, when discovery gives one. */
  readonly zone: string | undefined;
  /** Free-form labels from discovery (a frozen copy), when given. */
  readonly metadata: Readonly<Record<string, string>> | undefined;
}

/** Longest host name DNS allows (RFC 1035), and so the longest host an endpoint may have. */
const MAX_HOST_LENGTH = 253;
/** Letters, digits, `-`, `_` and dots: a DNS name (`_` appears in SRV targets and some internal names). */
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/**
 * Reads a discovered endpoint list into frozen {@link UpstreamEndpoint}s, or throws an
 * {@link InvalidEndpointsError} naming the first bad entry (nothing is applied then). Checks what
 * a balancer would not: hosts that could not go into a URL (`/`, `@`, spaces), ports, duplicate
 * `host:port`s.
 */
export function upstreamEndpoints(list: readonly DiscoveredEndpoint[], scheme: 'http' | 'https'): UpstreamEndpoint[] {
  if (!Array.isArray(list)) throw new InvalidEndpointsError(-1, 'expected an array of endpoints');
  if (list.length > MAX_ENDPOINTS) {
    throw new InvalidEndpointsError(-1, `${String(list.length)} endpoints, at most ${String(MAX_ENDPOINTS)}`);
  }
  const seen = new Set<string>();
  return list.map((entry: unknown, index) => {
    const endpoint = upstreamEndpoint(entry, index, scheme);
    if (seen.has(endpoint.id)) throw new InvalidEndpointsError(index, `duplicate endpoint ${endpoint.id}`);
    seen.add(endpoint.id);
    return endpoint;
  });
}

function upstreamEndpoint(entry: unknown, index: number, scheme: 'http' | 'https'): UpstreamEndpoint {
  if (typeof entry !== 'object' || entry === null) throw new InvalidEndpointsError(index, 'not an object');
  const { host, port, weight = 1, zone, metadata } = entry as Partial<DiscoveredEndpoint>;
  if (typeof host !== 'string' || host.length === 0 || host.length > MAX_HOST_LENGTH) {
    throw new InvalidEndpointsError(index, `host ${JSON.stringify(host)} is not a string of 1 to 253 characters`);
  }
  const family = isIP(host);
  if (family === 0 && !HOST_NAME.test(host)) {
    throw new InvalidEndpointsError(index, `host ${JSON.stringify(host)} is neither an IP literal nor a DNS name`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidEndpointsError(index, `port ${String(port)} is not an integer from 1 to 65535`);
  }
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    throw new InvalidEndpointsError(index, `weight ${String(weight)} is not a finite number >= 0`);
  }
  if (zone !== undefined && typeof zone !== 'string') throw new InvalidEndpointsError(index, 'zone is not a string');
  const id = `${family === 6 ? `[${host}]` : host}:${String(port)}`;
  return Object.freeze({
    id,
    host,
    port,
    origin: `${scheme}://${id}`,
    weight,
    zone,
    metadata: metadataOf(metadata, index),
  });
}

function metadataOf(metadata: unknown, index: number): Readonly<Record<string, string>> | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidEndpointsError(index, 'metadata is not an object of strings');
  }
  // A null prototype: labels such as `__proto__` stay plain data.
  const copy = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string')
      throw new InvalidEndpointsError(index, `metadata ${JSON.stringify(key)} is not a string`);
    copy[key] = value;
  }
  return Object.freeze(copy);
}
