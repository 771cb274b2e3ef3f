import {
  Emitter,
  InvalidOptionError,
  isInvalidOptionError,
  nonEmptyString,
  positiveInteger,
  systemClock,
  type Clock,
} from '@portcullis/core';
import { Breaker, type BreakerSnapshot } from './breaker.js';
import type { BreakerEvents } from './breaker-events.js';
import type { BreakerOptions } from './breaker-options.js';
import type { ExecuteOptions, Protected } from './policy.js';

/** A breaker's settings in a registry: everything but what the registry supplies. */
export type ServiceBreakerOptions = Omit<BreakerOptions, 'name' | 'clock' | 'events'>;

/**
 * Options of {@link createBreakerRegistry}.
 *
 * @example
 * ```ts
 * import { consecutiveFailures, failureRate, type BreakerRegistryOptions } from '@portcullis/circuit-breaker';
 *
 * const options: BreakerRegistryOptions = {
 *   defaults: { trip: failureRate({ threshold: 0.5 }), openDuration: 30_000 },
 *   services: { payments: { trip: consecutiveFailures(3), openDuration: 60_000 } },
 *   maxBreakers: 500,
 * };
 * ```
 */
export interface BreakerRegistryOptions {
  /** Settings of every breaker. Default: the breaker defaults. */
  defaults?: ServiceBreakerOptions | undefined;
  /**
   * Per-service settings, merged over `defaults` option by option (a service's `halfOpen`
   * replaces the default `halfOpen` as a whole). Listed services are never evicted.
   */
  services?: Readonly<Record<string, ServiceBreakerOptions>> | undefined;
  /**
   * The most breakers kept. Past it, the least recently used unlisted breaker is dropped, closed
   * ones first (an evicted breaker's history is forgotten). Whole number >= the number of listed
   * services, and >= 1. Default 1000.
   */
  maxBreakers?: number | undefined;
  /** The clock of every breaker. Default {@link systemClock}. */
  clock?: Clock | undefined;
}

/**
 * Breakers keyed by service (or upstream), created on first use with per-service settings, in a
 * bounded map; one event stream and one snapshot for all of them. See
 * {@link createBreakerRegistry}.
 */
export class BreakerRegistry {
  /** The events of every breaker of the registry (each payload names its breaker). */
  readonly events: Emitter<BreakerEvents> = new Emitter<BreakerEvents>();
  /** The most breakers kept. */
  readonly maxBreakers: number;
  readonly #defaults: ServiceBreakerOptions;
  readonly #services: ReadonlyMap<string, ServiceBreakerOptions>;
  readonly #clock: Clock;
  /** In least- to most-recently-used order. */
  readonly #breakers = new Map<string, Breaker>();

  /** @param options - See {@link BreakerRegistryOptions}; every service's settings are validated here. */
  constructor(options: BreakerRegistryOptions = {}) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object');
    }
    this.#clock = options.clock ?? systemClock;
    this.#defaults = options.defaults ?? {};
    const services = new Map<string, ServiceBreakerOptions>();
    const listed: unknown = options.services ?? {};
    if (typeof listed !== 'object' || listed === null) throw new InvalidOptionError('services', listed, 'an object');
    for (const [name, settings] of Object.entries(listed as Record<string, ServiceBreakerOptions>)) {
      services.set(nonEmptyString(name, 'services', 200), settings);
    }
    this.#services = services;
    this.maxBreakers = positiveInteger(options.maxBreakers ?? 1000, 'maxBreakers');
    if (this.maxBreakers < services.size) {
      throw new InvalidOptionError('maxBreakers', this.maxBreakers, `at least the ${services.size} listed services`);
    }
    // Validate every configuration now, not on the first request of a rarely used service.
    prefixed('defaults', () => new Breaker(this.#settings('default', undefined)));
    for (const [name, settings] of services)
      prefixed(`services.${name}`, () => new Breaker(this.#settings(name, settings)));
  }

  /** Breakers held now. */
  get size(): number {
    return this.#breakers.size;
  }

  /** The breaker of `service`, created on first use. */
  get(service: string): Breaker {
    const breakers = this.#breakers;
    let breaker = breakers.get(service);
    if (breaker !== undefined) {
      // Most recently used last; skipped when it already is.
      if (breakers.size > 1) {
        breakers.delete(service);
        breakers.set(service, breaker);
      }
      return breaker;
    }
    breaker = new Breaker(this.#settings(nonEmptyString(service, 'service', 200), this.#services.get(service)));
    if (breakers.size >= this.maxBreakers) this.#evict();
    breakers.set(service, breaker);
    return breaker;
  }

  /** True when `service` has a breaker now. */
  has(service: string): boolean {
    return this.#breakers.has(service);
  }

  /** Forgets the breaker of `service` (the next `get` creates a fresh one). */
  delete(service: string): boolean {
    return this.#breakers.delete(service);
  }

  /** Runs `fn` through the breaker of `service`; see {@link Breaker.execute}. */
  execute<T>(service: string, fn: Protected<T>, options?: ExecuteOptions): Promise<T> {
    return this.get(service).execute(fn, options);
  }

  /**
   * Every breaker's snapshot, for a health endpoint or a metrics exporter (see
   * {@link BreakerSnapshot}; `unhealthySince` drives an "open for more than 5 minutes" alert).
   */
  snapshot(): BreakerSnapshot[] {
    return [...this.#breakers.values()].map((breaker) => breaker.snapshot());
  }

  /** Forgets every breaker. Breakers hold no timers, so nothing else is left running. */
  dispose(): void {
    this.#breakers.clear();
  }

  #settings(name: string, service: ServiceBreakerOptions | undefined): BreakerOptions {
    return { ...this.#defaults, ...service, name, clock: this.#clock, events: this.events };
  }

  /** Drops the least recently used unlisted breaker, preferring a closed one. */
  #evict(): void {
    let victim: string | undefined;
    for (const [name, breaker] of this.#breakers) {
      if (this.#services.has(name)) continue;
      victim ??= name;
      if (breaker.state === 'closed') {
        victim = name;
        break;
      }
    }
    if (victim !== undefined) this.#breakers.delete(victim);
  }
}

/** Runs `build`, renaming an invalid option as `prefix.option`. */
function prefixed(prefix: string, build: () => unknown): void {
  try {
    build();
  } catch (error) {
    if (!isInvalidOptionError(error)) throw error;
    const expected = /expected (.*), got /s.exec(error.message)?.[1] ?? 'a valid value';
    throw new InvalidOptionError(`${prefix}.${error.option}`, error.value, expected);
  }
}

/**
 * Creates a {@link BreakerRegistry}: one breaker per service or upstream, each with its own
 * failure rates, created on first use from the defaults and the service's settings, at most
 * `maxBreakers` of them.
 *
 * @param options - See {@link BreakerRegistryOptions}.
 * @throws InvalidOptionError naming the option (e.g. `services.payments.halfOpen.maxProbes`).
 *
 * @example
 * ```ts
 * import { consecutiveFailures, createBreakerRegistry } from '@portcullis/circuit-breaker';
 *
 * const breakers = createBreakerRegistry({
 *   defaults: { trip: consecutiveFailures(5), openDuration: 30_000 },
 *   services: { payments: { openDuration: 60_000 } },
 * });
 * const res = await breakers.execute('orders', ({ signal }) => fetch('http://orders.internal/42', { signal }));
 *
 * // Health check / metrics:
 * for (const b of breakers.snapshot()) console.log(b.name, b.state, b.counters.failures);
 * ```
 */
export function createBreakerRegistry(options: BreakerRegistryOptions = {}): BreakerRegistry {
  return new BreakerRegistry(options);
}
