import { InvalidOptionError, reportUnhandled } from '@portcullis/core';
import type { DiscoveredEndpoint, DiscoveryListener } from './source.js';

/** Refuses a listener without `update` and `error` functions where the mistake is made. */
export function checkListener(listener: DiscoveryListener): DiscoveryListener {
  const candidate = listener as Partial<Record<keyof DiscoveryListener, unknown>> | null | undefined;
  if (typeof candidate?.update !== 'function' || typeof candidate.error !== 'function') {
    throw new InvalidOptionError('listener', listener, 'an object with update and error functions');
  }
  return listener;
}

/** Calls `update`; a listener that throws is reported, never allowed to stop the source. */
export function deliverUpdate(listener: DiscoveryListener, endpoints: readonly DiscoveredEndpoint[]): void {
  try {
    listener.update(endpoints);
  } catch (error) {
    reportUnhandled(error, 'discovery listener');
  }
}

/** Calls `error`, with the same protection as {@link deliverUpdate}. */
export function deliverError(listener: DiscoveryListener, error: unknown): void {
  try {
    listener.error(error);
  } catch (thrown) {
    reportUnhandled(thrown, 'discovery listener');
  }
}
