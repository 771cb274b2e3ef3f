import type { Accessors, EndpointSet } from './endpoint-set.js';

/** The requests in flight on one endpoint (a mutable cell the pick path updates in place). */
export interface Counter {
  /** Requests picked for this endpoint and not released yet. */
  count: number;
  /** False once the endpoint left the set: its releases no longer count towards the total. */
  live: boolean;
}

/**
 * In-flight request counts by endpoint id, for the balancers that weigh load (least request,
 * bounded load). Counts follow ids across updates, so an endpoint that stays keeps its count, and
 * one that leaves is forgotten once its last request is released (until then its entry stays, so
 * those releases are not mistaken for another endpoint's). Memory: one entry per endpoint of the
 * set plus the removed ones that still have requests in flight.
 */
export class InFlight<E> {
  readonly #byId = new Map<string, Counter>();
  readonly #accessors: Accessors<E>;
  /** Σ of the counts of the endpoints in the set. */
  total = 0;

  constructor(accessors: Accessors<E>) {
    this.#accessors = accessors;
  }

  /**
   * The counters of a new set, aligned with `set.endpoints` (existing ones reused). Touches nothing:
   * {@link InFlight.commit} makes them live, once the set has been validated.
   */
  countersFor(set: EndpointSet<E>): Counter[] {
    return set.ids.map((id) => this.#byId.get(id) ?? { count: 0, live: true });
  }

  /** Makes `counters` (from {@link InFlight.countersFor}) the live set; the others drain. */
  commit(set: EndpointSet<E>, counters: readonly Counter[]): void {
    for (const counter of this.#byId.values()) counter.live = false;
    let total = 0;
    set.ids.forEach((id, i) => {
      const counter = counters[i] as Counter;
      counter.live = true;
      total += counter.count;
      this.#byId.set(id, counter);
    });
    // Deleting while iterating a Map is well defined: the entry is simply not visited again.
    for (const [id, counter] of this.#byId) if (!counter.live && counter.count === 0) this.#byId.delete(id);
    this.total = total;
  }

  /** Counts one more request on `counter`. */
  acquire(counter: Counter): void {
    counter.count++;
    this.total++;
  }

  /** Counts one request less on `endpoint` (unknown endpoints and extra releases are ignored). */
  release(endpoint: E): void {
    const id = this.#accessors.id === undefined ? endpoint : this.#accessors.id(endpoint);
    const counter = this.#byId.get(id as string);
    if (counter === undefined || counter.count === 0) return;
    counter.count--;
    if (counter.live) this.total--;
    else if (counter.count === 0) this.#byId.delete(id as string);
  }

  /** Requests in flight on `endpoint` (0 when unknown). */
  of(endpoint: E): number {
    const id = this.#accessors.id === undefined ? endpoint : this.#accessors.id(endpoint);
    return this.#byId.get(id as string)?.count ?? 0;
  }
}
