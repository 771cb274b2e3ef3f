import type { BreakerState, TransitionReason } from '@portcullis/circuit-breaker';
import type { UpstreamEndpoint } from './endpoint.js';
import type { EjectionReason } from './outlier-detection.js';

/** What every event about one endpoint carries. */
export interface EndpointEvent {
  /** The pool's name. */
  readonly pool: string;
  /** The endpoint concerned. */
  readonly endpoint: UpstreamEndpoint;
  /** When, on the pool's clock (ms). */
  readonly at: number;
}

/** Payload of `ejected`. */
export interface EjectedEvent extends EndpointEvent {
  /** Which run of failures reached its threshold. */
  readonly reason: EjectionReason;
  /** Ejections in a row, this one included (the ejection lasts this many base times, capped). */
  readonly ejections: number;
  /** When the ejection ends (clock ms), unless active checks bring the endpoint back earlier. */
  readonly until: number;
}

/**
 * Payload of `restored`: an ejected endpoint is back. `elapsed`: its ejection ended; `active-check`:
 * active checks passed `healthyThreshold` times in a row; `cap`: the pool shrank and the most
 * ejections it allows went down (the endpoints due back soonest return first).
 */
export interface RestoredEvent extends EndpointEvent {
  readonly reason: 'elapsed' | 'active-check' | 'cap';
}

/** Payload of `unhealthy`: active checks failed `unhealthyThreshold` times in a row. */
export interface UnhealthyEvent extends EndpointEvent {
  /** The last failed check: `status 503`, `timeout`, or an error's code or message. */
  readonly lastFailure: string;
}

/** Payload of `panicEntered` and `panicLeft`. */
export interface PanicEvent {
  /** The pool's name. */
  readonly pool: string;
  /** Endpoints (with a weight above 0) that are healthy, not ejected and not refused by their breaker. */
  readonly available: number;
  /** Endpoints with a weight above 0. */
  readonly total: number;
  /** When, on the pool's clock (ms). */
  readonly at: number;
}

/** Payload of `endpointsUpdated`: a new endpoint set was applied (ids; a reweight is `changed`). */
export interface EndpointsUpdatedEvent {
  readonly pool: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Endpoints that stay with a new weight, zone or metadata. */
  readonly changed: readonly string[];
  /** Endpoints in the set now. */
  readonly total: number;
  readonly at: number;
}

/**
 * Payload of `discoveryError`: the discovery source failed, or reported a set the pool refused
 * (`EmptyDiscoveryError`, `InvalidEndpointsError`). The last good set stays.
 */
export interface DiscoveryErrorEvent {
  readonly pool: string;
  readonly error: unknown;
  readonly at: number;
}

/** Payload of `breakerStateChange`: an endpoint's breaker changed state. */
export interface EndpointBreakerEvent extends EndpointEvent {
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly reason: TransitionReason;
}

/**
 * The events of an upstream pool (`pool.events`): every change of an endpoint's state and of the
 * pool's. Listeners run synchronously; one that throws is reported and never breaks the pool.
 *
 * @example
 * ```ts
 * import { createUpstreamPool } from '@portcullis/router';
 *
 * const pool = createUpstreamPool({ name: 'users', endpoints: [{ host: '10.0.0.7', port: 8080 }] });
 * pool.events.on('ejected', (e) => metrics.increment('pool.ejections', { pool: e.pool, reason: e.reason }));
 * pool.events.on('panicEntered', (e) => alert(`${e.pool}: ${String(e.available)}/${String(e.total)} healthy, routing to all`));
 * ```
 */
export interface UpstreamPoolEvents {
  /** Outlier detection took an endpoint out. */
  ejected: EjectedEvent;
  /** An ejected endpoint is back. */
  restored: RestoredEvent;
  /** Active checks marked an endpoint unhealthy. */
  unhealthy: UnhealthyEvent;
  /** Active checks marked an unhealthy endpoint healthy again. */
  healthy: EndpointEvent;
  /** Healthy endpoints fell below the panic threshold: picks go to all endpoints. */
  panicEntered: PanicEvent;
  /** Healthy endpoints are back at or above the panic threshold. */
  panicLeft: PanicEvent;
  /** A new endpoint set was applied (from discovery or `update`). */
  endpointsUpdated: EndpointsUpdatedEvent;
  /** Discovery failed or sent a set that was refused; the last good set stays. */
  discoveryError: DiscoveryErrorEvent;
  /** An endpoint's breaker changed state (`open` removes it from picks; `half-open` lets a probe through). */
  breakerStateChange: EndpointBreakerEvent;
}
