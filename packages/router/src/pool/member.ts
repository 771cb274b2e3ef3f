import type { Breaker } from '@portcullis/circuit-breaker';
import type { UpstreamEndpoint } from './endpoint.js';
import { outlierCounters, type OutlierCounters } from './outlier-detection.js';

/**
 * Everything a pool tracks about one endpoint: its current description, active check results,
 * outlier state, breaker and leases. Internal and mutable; a member keeps its state across
 * reweights (same id) and is dropped when discovery removes its endpoint (its leases still finish).
 */
export class Member {
  /** The endpoint as last discovered (replaced on a reweight). */
  endpoint: UpstreamEndpoint;
  /** Left the set; its leases drain, nothing else about it counts any more. */
  removed = false;
  /** Leases handed out and not completed. */
  inFlight = 0;
  /** When the endpoint became ready to ramp up (slow start): joined, healthy again, restored. */
  readySince: number | undefined;

  /** Active checks' verdict. Endpoints start healthy, so a new pool serves before its first round. */
  unhealthy = false;
  /** Passed / failed active checks in a row. */
  passes = 0;
  failures = 0;
  /** When the next active check is due (clock ms). */
  nextCheckAt: number = Infinity;
  /** The check in flight, if any (its controller identifies it: a late answer of an older one is dropped). */
  check: AbortController | undefined;
  /** When the check in flight times out. */
  checkDeadline: number = Infinity;
  /** Waiters for a check that has not started yet (`checkNow`), and for the one in flight. */
  nextWaiters: (() => void)[] = [];
  currentWaiters: (() => void)[] = [];

  readonly outlier: OutlierCounters;
  ejected = false;
  ejectedUntil: number = Infinity;

  readonly breaker: Breaker | undefined;
  /** The breaker refuses calls (open, isolated): out of picks until `breakerRetryAt`. */
  breakerBlocked = false;
  breakerRetryAt: number = Infinity;

  constructor(endpoint: UpstreamEndpoint, now: number, readySince: number | undefined, breaker: Breaker | undefined) {
    this.endpoint = endpoint;
    this.readySince = readySince;
    this.outlier = outlierCounters(now);
    this.breaker = breaker;
  }

  /** Healthy, not ejected and not refused by its breaker: counts towards the panic threshold. */
  get available(): boolean {
    return !this.unhealthy && !this.ejected && !this.breakerBlocked;
  }

  /** Resolves every `checkNow` waiting on this endpoint (a check ended, or the endpoint left). */
  static resolve(waiters: (() => void)[]): void {
    for (const resolve of waiters) resolve();
    waiters.length = 0;
  }
}
