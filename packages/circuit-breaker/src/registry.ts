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
import {
  CONFIG,
  MAX_NAME_LENGTH,
  resolveBreakerConfig,
  type BreakerConfig,
  type BreakerOptions,
  type ConfiguredBreakerOptions,
} from './breaker-options.js';
import type { ExecuteOptions, Protected } from './policy.js';
import { serviceKey } from './service-name.js';

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
  /** Settings of every breaker (an object). Default: the breaker defaults. */
  defaults?: ServiceBreakerOptions | undefined;
  /**
   * Per-service settings (an object of objects, keyed by service names of at most 200
   * characters), merged over `defaults` option by option (a service's `halfOpen` replaces the
   * default `halfOpen` as a whole). Listed services are never evicted.
   */
  services?: Readonly<Record<string, ServiceBreakerOptions>> | undefined;
  /**
   * The most breakers kept. Past it, the least recently used unlisted breaker is dropped, closed
   * ones first (an evicted breaker's history is forgotten). When every breaker kept is a listed
   * service, a new unlisted service's breaker is not kept at all (it protects nothing across
   * calls): leave room above the listed services. Whole number >= the number of listed services,
   * and >= 1. Default 1000.
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
  /** The validated settings of unlisted services, shared by their breakers. */
  readonly #defaults: BreakerConfig;
  /** The validated settings of each listed service. */
  readonly #services: ReadonlyMap<string, BreakerConfig>;
  /** In least- to most-recently-used order. */
  readonly #breakers = new Map<string, Breaker>();

  /** @param options - See {@link BreakerRegistryOptions}; every service's settings are validated here. */
  constructor(options: BreakerRegistryOptions = {}) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object');
    }
    const clock = options.clock ?? systemClock;
    if (typeof (clock as Partial<Clock> | null)?.now !== 'function') {
      throw new InvalidOptionError('clock', clock, 'a Clock ({ now(): number })');
    }
    const defaults = settingsObject(options.defaults, 'defaults');
    const listed: unknown = options.services ?? {};
    if (typeof listed !== 'object' || listed === null || Array.isArray(listed)) {
      throw new InvalidOptionError('services', listed, 'an object of service settings');
    }
    const entries = Object.entries(listed as Record<string, unknown>);
    this.maxBreakers = positiveInteger(options.maxBreakers ?? 1000, 'maxBreakers');
    if (this.maxBreakers < entries.length) {
      throw new InvalidOptionError('maxBreakers', this.maxBreakers, `at least the ${entries.length} listed services`);
    }
    // Every configuration is validated now, not on the first request of a rarely used service,
    // and once: the breakers of a service share it.
    const fixed = { clock, events: this.events };
    this.#defaults = prefixed('defaults', () => resolveBreakerConfig({ ...defaults, ...fixed }));
    const services = new Map<string, BreakerConfig>();
    for (const [name, settings] of entries) {
      nonEmptyString(name, 'services', MAX_NAME_LENGTH);
      const own = settingsObject(settings, `services.${name}`);
      services.set(
        name,
        prefixed(`services.${name}`, () => resolveBreakerConfig({ ...defaults, ...own, ...fixed })),
      );
    }
    this.#services = services;
  }

  /** Breakers held now. */
  get size(): number {
    return this.#breakers.size;
  }

  /**
   * The breaker of `service`, created on first use. Any non-empty string is a service: one longer
   * than 200 characters is keyed (and its breaker named) `h:` + its SHA-256, so names derived
   * from client input never make this throw.
   *
   * @throws InvalidOptionError naming `service` when it is not a non-empty string.
   */
  get(service: string): Breaker {
    const name = serviceKey(service);
    const breakers = this.#breakers;
    let breaker = breakers.get(name);
    if (breaker !== undefined) {
      // Most recently used last; skipped when it already is.
      if (breakers.size > 1) {
        breakers.delete(name);
        breakers.set(name, breaker);
      }
      return breaker;
    }
    const config = this.#services.get(name);
    const options: ConfiguredBreakerOptions = { name, [CONFIG]: config ?? this.#defaults };
    breaker = new Breaker(options);
    // Full of listed services (only when maxBreakers equals their number): an unlisted breaker is
    // not kept, so the bound holds. A listed one always finds an unlisted one to evict.
    if (breakers.size >= this.maxBreakers && !this.#evict()) return breaker;
    breakers.set(name, breaker);
    return breaker;
  }

  /** True when `service` has a breaker now. */
  has(service: string): boolean {
    return isServiceName(service) && this.#breakers.has(serviceKey(service));
  }

  /** Forgets the breaker of `service` (the next `get` creates a fresh one). */
  delete(service: string): boolean {
    return isServiceName(service) && this.#breakers.delete(serviceKey(service));
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

  /**
   * Drops the least recently used unlisted breaker, preferring a closed one; false when every
   * breaker held is a listed service.
   */
  #evict(): boolean {
    let victim: string | undefined;
    for (const [name, breaker] of this.#breakers) {
      if (this.#services.has(name)) continue;
      victim ??= name;
      if (breaker.state === 'closed') {
        victim = name;
        break;
      }
    }
    return victim !== undefined && this.#breakers.delete(victim);
  }
}

/** Service settings: an object; `undefined` or `null` for none (as every option's default). */
function settingsObject(value: unknown, option: string): ServiceBreakerOptions {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(option, value, 'an object of breaker settings');
  }
  return value;
}

function isServiceName(service: unknown): service is string {
  return typeof service === 'string' && service.length > 0;
}

/** Runs `build`, renaming an invalid option as `prefix.option`. */
function prefixed<T>(prefix: string, build: () => T): T {
  try {
    return build();
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
