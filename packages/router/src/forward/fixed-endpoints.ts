import { InvalidOptionError } from '@portcullis/core';
import type { EndpointLease, EndpointOutcome, EndpointPicker } from '../pool/lease.js';

/**
 * An {@link EndpointPicker} over a fixed list of origins, in turn (round robin), that honours
 * `avoid` (a retry goes to the next endpoint not tried yet) and learns nothing from outcomes: for
 * tests, scripts and upstreams whose addresses never change. For health checks, outlier ejection
 * and the other balancers, use an upstream pool.
 *
 * @param origins - `http://host:port` or `https://host:port` (no path), at least one.
 * @throws InvalidOptionError when `origins` is empty or an origin has a path, query or credentials.
 *
 * @example
 * ```ts
 * import { createForwarder, fixedEndpoints } from '@portcullis/router';
 *
 * const endpoints = fixedEndpoints(['http://127.0.0.1:3001', 'http://127.0.0.1:3002']);
 * endpoints.acquire()?.origin; // 'http://127.0.0.1:3001'
 * ```
 */
export function fixedEndpoints(origins: readonly string[]): EndpointPicker {
  if (!Array.isArray(origins) || origins.length === 0) {
    throw new InvalidOptionError('origins', origins, 'a non-empty array of origins');
  }
  const leases = origins.map((origin: unknown, i): EndpointLease => {
    const url = typeof origin === 'string' ? parse(origin) : undefined;
    if (url === undefined) {
      throw new InvalidOptionError(`origins[${String(i)}]`, origin, "an origin such as 'http://10.0.0.7:8080'");
    }
    // One frozen lease per endpoint, shared by its requests: nothing to release, nothing to count.
    return Object.freeze({ id: url.host, origin: url.origin, complete: ignoreOutcome });
  });
  let next = 0;
  return {
    acquire: function acquireFixed(_key?: string, avoid?: ReadonlySet<string>): EndpointLease | undefined {
      const n = leases.length;
      for (let tried = 0; tried < n; tried++) {
        const lease = leases[next] as EndpointLease;
        next = (next + 1) % n;
        if (avoid === undefined || !avoid.has(lease.id)) return lease;
      }
      // Every endpoint was tried: retrying one of them beats failing outright.
      const lease = leases[next] as EndpointLease;
      next = (next + 1) % n;
      return lease;
    },
  };
}

function parse(origin: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  const bare = (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '';
  const ok =
    (url.protocol === 'http:' || url.protocol === 'https:') && bare && url.username === '' && url.password === '';
  return ok ? url : undefined;
}

function ignoreOutcome(_outcome: EndpointOutcome): void {
  // A fixed list learns nothing from outcomes.
}
