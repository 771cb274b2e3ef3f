import type { DiscoveredEndpoint } from './source.js';

/**
 * True when two endpoint lists hold the same endpoints, whatever their order: same host, port,
 * weight (absent counts as 1), zone and metadata. A source sends `update` only when this is false,
 * so answers that merely come back shuffled (DNS round robin) change nothing downstream.
 */
export function sameEndpoints(a: readonly DiscoveredEndpoint[], b: readonly DiscoveredEndpoint[]): boolean {
  if (a.length !== b.length) return false;
  const left = a.map(endpointKey).sort();
  const right = b.map(endpointKey).sort();
  for (let i = 0; i < left.length; i++) if (left[i] !== right[i]) return false;
  return true;
}

/** One string per distinct endpoint: JSON keeps the fields apart whatever characters they hold. */
function endpointKey(endpoint: DiscoveredEndpoint): string {
  const entries = endpoint.metadata === undefined ? [] : Object.entries(endpoint.metadata);
  // Absent and empty metadata say the same thing.
  const metadata = entries.length === 0 ? null : entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return JSON.stringify([endpoint.host, endpoint.port, endpoint.weight ?? 1, endpoint.zone ?? null, metadata]);
}
