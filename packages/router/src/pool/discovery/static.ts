import { InvalidDiscoveredEndpointError } from './errors.js';
import { checkListener, deliverUpdate } from './listener.js';
import type { DiscoveredEndpoint, DiscoveryListener, DiscoverySource } from './source.js';
import { validateEndpoints } from './validate-endpoints.js';

/**
 * A fixed endpoint list, checked when built: a bad entry, a duplicate `host:port` or an empty list
 * throws an `InvalidDiscoveredEndpointError` naming it. Each subscriber gets the list once, during
 * `subscribe` (before it returns), and never an error; the list is copied and frozen, so later
 * changes to the caller's objects change nothing.
 *
 * @example
 * ```ts
 * import { staticDiscovery } from '@portcullis/router';
 *
 * const source = staticDiscovery([
 *   { host: '10.0.0.1', port: 8080 },
 *   { host: '10.0.0.2', port: 8080, weight: 2, zone: 'eu-west-1b' },
 * ]);
 * source.subscribe({ update: (endpoints) => console.log(endpoints.length), error: () => {} }); // logs 2
 * ```
 */
export function staticDiscovery(endpoints: readonly DiscoveredEndpoint[]): DiscoverySource {
  const list = validateEndpoints(endpoints);
  if (list.length === 0) throw new InvalidDiscoveredEndpointError(-1, 'no endpoints');
  return {
    subscribe: function subscribe(listener: DiscoveryListener): () => void {
      deliverUpdate(checkListener(listener), list);
      return function unsubscribe(): void {};
    },
  };
}
