import type { Instruments } from '../instruments.js';
import type {
  Disposer,
  ObservableBreaker,
  ObservableBreakerRegistry,
  ObservableCanary,
  ObservableForwarder,
  ObservableLimiter,
  ObservableLoader,
  ObservablePool,
  ObservableVerifier,
} from '../sources.js';
import { observeBreaker } from './breaker.js';
import { observeCanary, type CanaryObserveOptions } from './canary.js';
import { observeForwarder } from './forwarder.js';
import { observeLimiter, type LimiterObserveOptions } from './limiter.js';
import { observeLoader } from './loader.js';
import { observePool } from './pool.js';
import { observeVerifier } from './verifier.js';

/**
 * What both backends offer: attach to a Portcullis object, get back the function that detaches.
 * Nothing is attached to an object until it is observed, so an object you do not observe pays
 * nothing (its emitter has no listener; its snapshot is never read). Collection-time readings hold
 * the object weakly: one that is closed and dropped is collected even if never detached.
 *
 * @example
 * ```ts
 * import type { Observers } from '@portcullis/telemetry';
 *
 * // Works with either backend: prometheusMetrics() or openTelemetry().
 * function observeGateway(telemetry: Observers, parts: { limiter: ObservableLimiter; pools: ObservablePool[] }) {
 *   return [telemetry.observeLimiter(parts.limiter), ...parts.pools.map((p) => telemetry.observePool(p))];
 * }
 * ```
 */
export interface Observers {
  /**
   * Counts a rate limiter's decisions and store errors (`portcullis_ratelimit_*`).
   *
   * @example
   * ```ts
   * const detach = metrics.observeLimiter(limiter, { name: 'api' });
   * ```
   */
  observeLimiter(limiter: ObservableLimiter, options?: LimiterObserveOptions): Disposer;
  /**
   * A breaker's or a registry's state and calls at collection time, and its transitions
   * (`portcullis_breaker_*`).
   *
   * @example
   * ```ts
   * metrics.observeBreaker(createBreakerRegistry({ services: { payments: {} } }));
   * ```
   */
  observeBreaker(breaker: ObservableBreaker | ObservableBreakerRegistry): Disposer;
  /**
   * An upstream pool's health at collection time, and its ejections, health changes, panics,
   * discovery errors and breaker changes (`portcullis_pool_*`).
   *
   * @example
   * ```ts
   * const detach = metrics.observePool(pool);
   * await pool.close();
   * detach();
   * ```
   */
  observePool(pool: ObservablePool): Disposer;
  /**
   * A canary's weight, phase and failed intervals at collection time, and its decisions
   * (`portcullis_canary_*`).
   *
   * @example
   * ```ts
   * metrics.observeCanary(canary, { name: 'orders-v2' });
   * ```
   */
  observeCanary(canary: ObservableCanary, options?: CanaryObserveOptions): Disposer;
  /**
   * A loader's or a loader factory's batches (`portcullis_loader_*`).
   *
   * @example
   * ```ts
   * metrics.observeLoader(loaders); // a factory: every request's loaders
   * ```
   */
  observeLoader(loader: ObservableLoader): Disposer;
  /**
   * A forwarder's attempts (`portcullis_forward_*`).
   *
   * @example
   * ```ts
   * metrics.observeForwarder(forwarder);
   * ```
   */
  observeForwarder(forwarder: ObservableForwarder): Disposer;
  /**
   * A JWT verifier's or JWKS source's fetches and failures (`portcullis_jwks_*`, `portcullis_jwt_*`).
   *
   * @example
   * ```ts
   * metrics.observeVerifier(verifier);
   * ```
   */
  observeVerifier(verifier: ObservableVerifier): Disposer;
}

/** The observers, reporting to `instruments`. */
export function createObservers(instruments: Instruments): Observers {
  return {
    observeLimiter: (limiter, options) => observeLimiter(instruments, limiter, options),
    observeBreaker: (breaker) => observeBreaker(instruments, breaker),
    observePool: (pool) => observePool(instruments, pool),
    observeCanary: (canary, options) => observeCanary(instruments, canary, options),
    observeLoader: (loader) => observeLoader(instruments, loader),
    observeForwarder: (forwarder) => observeForwarder(instruments, forwarder),
    observeVerifier: (verifier) => observeVerifier(instruments, verifier),
  };
}
