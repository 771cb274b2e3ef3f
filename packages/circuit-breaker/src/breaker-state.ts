/**
 * A breaker's state:
 *
 * - `closed`: calls run; outcomes feed the trip policies.
 * - `open`: calls are refused at once until the open period ends.
 * - `half-open`: up to `halfOpen.maxProbes` calls at a time run as probes; enough successes close
 *   the breaker, a failure opens it again.
 * - `isolated`: opened by hand (`isolate()`), refusing every call until `reset()`.
 */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';
