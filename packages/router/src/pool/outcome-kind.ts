import type { EndpointOutcome } from './lease.js';

/**
 * What one outcome says about the endpoint, for outlier detection and the breaker:
 *
 * - `success`: a response below 500 (a 404 is the endpoint working);
 * - `gateway`: the endpoint could not be reached or did not answer in time (refused, reset,
 *   timeout) or a proxy in front of it said so (502, 503, 504);
 * - `error`: another 5xx, or a failure of another kind;
 * - `ignored`: the client went away (`aborted`), or the outcome carries neither a status nor a
 *   failure: nothing to hold against the endpoint.
 */
export type OutcomeKind = 'success' | 'gateway' | 'error' | 'ignored';

/** Classifies an outcome; never throws, whatever the forwarder passed. */
export function outcomeKind(outcome: EndpointOutcome | undefined): OutcomeKind {
  if (typeof outcome !== 'object' || (outcome as unknown) === null) return 'ignored';
  const { failure, status } = outcome;
  if (failure !== undefined) {
    if (failure === 'aborted') return 'ignored';
    return failure === 'refused' || failure === 'reset' || failure === 'timeout' ? 'gateway' : 'error';
  }
  if (typeof status !== 'number' || !Number.isFinite(status)) return 'ignored';
  if (status < 500) return 'success';
  return status === 502 || status === 503 || status === 504 ? 'gateway' : 'error';
}
