import { MAX_ENDPOINTS } from '../../balancers/endpoint-set.js';
import { InvalidDiscoveredEndpointError, isInvalidDiscoveredEndpointError } from './errors.js';
import { isEndpointHost } from './host.js';
import type { DiscoveredEndpoint } from './source.js';

/** Bounds what one endpoint may carry, so a misbehaving source cannot grow the pool's memory. */
const MAX_LABEL_LENGTH = 256;
const MAX_METADATA_ENTRIES = 64;

/**
 * Checks an endpoint list from outside (a static list, a function's result) and returns frozen
 * copies holding only the contract's fields, so later changes to the caller's objects change
 * nothing. Throws an {@link InvalidDiscoveredEndpointError} naming the first bad entry.
 */
export function validateEndpoints(list: unknown): readonly DiscoveredEndpoint[] {
  if (!Array.isArray(list)) throw new InvalidDiscoveredEndpointError(-1, `expected an array, got ${describe(list)}`);
  if (list.length > MAX_ENDPOINTS) {
    throw new InvalidDiscoveredEndpointError(
      -1,
      `${String(list.length)} endpoints, more than the ${String(MAX_ENDPOINTS)} a pool takes`,
    );
  }
  const seen = new Set<string>();
  const endpoints: DiscoveredEndpoint[] = [];
  for (let index = 0; index < list.length; index++) {
    let endpoint: DiscoveredEndpoint;
    try {
      endpoint = validateEndpoint(list[index], index);
    } catch (error) {
      // A getter or proxy that throws is a bad entry like any other, not a crash.
      if (isInvalidDiscoveredEndpointError(error)) throw error;
      throw new InvalidDiscoveredEndpointError(index, 'reading the entry threw');
    }
    const id = `${endpoint.host}:${String(endpoint.port)}`;
    if (seen.has(id)) throw new InvalidDiscoveredEndpointError(index, `duplicate endpoint ${id}`);
    seen.add(id);
    endpoints.push(endpoint);
  }
  return Object.freeze(endpoints);
}

function validateEndpoint(value: unknown, index: number): DiscoveredEndpoint {
  const invalid = (reason: string): never => {
    throw new InvalidDiscoveredEndpointError(index, reason);
  };
  if (typeof value !== 'object' || value === null) return invalid(`expected an object, got ${describe(value)}`);
  const { host, port, weight, zone, metadata } = value as Record<string, unknown>;
  if (typeof host !== 'string' || !isEndpointHost(host)) {
    invalid(`host ${describe(host)} is not an IP address (IPv6 without brackets) or a host name`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    invalid(`port ${describe(port)} is not an integer in [1, 65535]`);
  }
  if (weight !== undefined && (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)) {
    invalid(`weight ${describe(weight)} is not a finite number >= 0`);
  }
  if (zone !== undefined && !isValidZone(zone)) invalid(`zone ${describe(zone)} is not ${ZONE_EXPECTED}`);
  const result: { -readonly [K in keyof DiscoveredEndpoint]: DiscoveredEndpoint[K] } = {
    host: host as string,
    port: port as number,
  };
  if (weight !== undefined) result.weight = weight as number;
  if (zone !== undefined) result.zone = zone as string;
  if (metadata !== undefined) {
    result.metadata = copyMetadata(metadata) ?? invalid(`metadata is not ${METADATA_EXPECTED}`);
  }
  return Object.freeze(result);
}

/** What {@link isValidZone} accepts, for error messages. */
export const ZONE_EXPECTED: string = `a non-empty string of at most ${String(MAX_LABEL_LENGTH)} characters`;

/** True for a usable `zone`. */
export function isValidZone(zone: unknown): zone is string {
  return typeof zone === 'string' && zone.length > 0 && zone.length <= MAX_LABEL_LENGTH;
}

/** What {@link copyMetadata} accepts, for error messages. */
export const METADATA_EXPECTED: string = `an object of at most ${String(MAX_METADATA_ENTRIES)} string entries of at most ${String(MAX_LABEL_LENGTH)} characters`;

/** A frozen, null-prototype copy of valid `metadata`, or `undefined` when it is not valid. */
export function copyMetadata(value: unknown): Readonly<Record<string, string>> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length > MAX_METADATA_ENTRIES) return undefined;
  // A null prototype: a key named `__proto__` stays a plain entry.
  const copy = Object.create(null) as Record<string, string>;
  for (const [key, entry] of entries) {
    if (key.length > MAX_LABEL_LENGTH || typeof entry !== 'string' || entry.length > MAX_LABEL_LENGTH) return undefined;
    copy[key] = entry;
  }
  return Object.freeze(copy);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
