/**
 * The contract between an upstream pool and whatever sends requests to its endpoints (the
 * forwarder, a custom client): ask for a lease on an endpoint, use it, report how it went once.
 * Types only; `createUpstreamPool` implements {@link EndpointPicker}.
 */

/** How one request to an endpoint ended, as outlier detection, the breaker and the balancer read it. */
export interface EndpointOutcome {
  /** The upstream's response status, when one arrived. */
  readonly status?: number | undefined;
  /**
   * Why no (complete) response arrived: `refused` (connect refused/unreachable), `reset` (the
   * connection closed mid-exchange), `timeout` (connect, headers or body/idle timeout), `aborted`
   * (the client went away: not the endpoint's fault, never counted against it), `other`.
   */
  readonly failure?: 'refused' | 'reset' | 'timeout' | 'aborted' | 'other' | undefined;
  /** Milliseconds from the pick to the end of the exchange. */
  readonly durationMs: number;
}

/** One endpoint handed out for one request. `complete` must be called exactly once. */
export interface EndpointLease {
  /** The endpoint's stable id (e.g. `10.0.0.7:8080`). */
  readonly id: string;
  /** Where to send the request: `http://host:port` or `https://host:port` (no path). */
  readonly origin: string;
  /** Reports the outcome; later calls are ignored. Releases the balancer's in-flight count. */
  complete(outcome: EndpointOutcome): void;
}

/** What hands out endpoints: an upstream pool, or a fixed list in tests and simple setups. */
export interface EndpointPicker {
  /**
   * A lease on an endpoint for one request, chosen by `key` for the hashing balancers, avoiding
   * the ids in `avoid` when another endpoint is available (retries go elsewhere). `undefined` when
   * the pool has no endpoint to offer.
   */
  acquire(key?: string, avoid?: ReadonlySet<string>): EndpointLease | undefined;
}
