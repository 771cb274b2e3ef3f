// What telemetry reads of each package, as structural types: the real objects (a rate limiter, a
// breaker, a pool…) fit them, and this package depends on none of those packages, so a user of
// one of them installs nothing else.

/**
 * The listening half of `@portcullis/core`'s `Emitter`: what the observers attach to.
 *
 * @example
 * ```ts
 * import type { EventSource } from '@portcullis/telemetry';
 *
 * const count = (events: EventSource<{ tick: number }>): (() => void) => events.on('tick', () => undefined);
 * ```
 */
export interface EventSource<Events> {
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void;
}

/**
 * Removes what an `observe…` call attached; idempotent.
 *
 * @example
 * ```ts
 * import type { Disposer } from '@portcullis/telemetry';
 *
 * const detachAll = (disposers: readonly Disposer[]): void => disposers.forEach((detach) => detach());
 * ```
 */
export type Disposer = () => void;

/**
 * A rate limiter (`createRateLimiter` of `@portcullis/ratelimit`), as far as its metrics read it.
 *
 * @example
 * ```ts
 * import { createRateLimiter, tokenBucket } from '@portcullis/ratelimit';
 * import type { ObservableLimiter } from '@portcullis/telemetry';
 *
 * const limiter: ObservableLimiter = createRateLimiter({ limits: { perSecond: tokenBucket({ capacity: 10, refillPerSecond: 10 }) } });
 * ```
 */
export interface ObservableLimiter {
  readonly events: EventSource<{
    decision: {
      readonly decision: { readonly allowed: boolean; readonly limitedBy: string | undefined };
      readonly source: string;
    };
    storeError: { readonly source: string };
  }>;
}

/**
 * A breaker's state as its metrics read it (`BreakerSnapshot` of `@portcullis/circuit-breaker`).
 *
 * @example
 * ```ts
 * import type { BreakerSnapshotView } from '@portcullis/telemetry';
 *
 * const open = (s: BreakerSnapshotView): boolean => s.state === 'open';
 * ```
 */
export interface BreakerSnapshotView {
  readonly name: string;
  readonly state: string;
  readonly unhealthySince: number | undefined;
  readonly counters: {
    readonly successes: number;
    readonly failures: number;
    readonly ignored: number;
    readonly rejections: number;
  };
}

/**
 * The events of a breaker or a registry, as far as telemetry listens: `stateChange`.
 *
 * @example
 * ```ts
 * import type { BreakerEventsView } from '@portcullis/telemetry';
 *
 * type Change = BreakerEventsView['stateChange']; // { breaker, from, to }
 * ```
 */
export interface BreakerEventsView {
  stateChange: { readonly breaker: string; readonly from: string; readonly to: string };
}

/**
 * A circuit breaker (`createBreaker` of `@portcullis/circuit-breaker`).
 *
 * @example
 * ```ts
 * import { createBreaker } from '@portcullis/circuit-breaker';
 * import type { ObservableBreaker } from '@portcullis/telemetry';
 *
 * const breaker: ObservableBreaker = createBreaker({ name: 'payments' });
 * ```
 */
export interface ObservableBreaker {
  /** Its state changes, counted as they happen. */
  readonly events: EventSource<BreakerEventsView>;
  /** Its state and counters now: read when metrics are collected. */
  snapshot(): BreakerSnapshotView;
}

/**
 * A registry of breakers (`createBreakerRegistry` of `@portcullis/circuit-breaker`): one event
 * stream and one snapshot for all of its breakers.
 *
 * @example
 * ```ts
 * import { createBreakerRegistry } from '@portcullis/circuit-breaker';
 * import type { ObservableBreakerRegistry } from '@portcullis/telemetry';
 *
 * const breakers: ObservableBreakerRegistry = createBreakerRegistry({ services: { payments: {} } });
 * ```
 */
export interface ObservableBreakerRegistry {
  /** The state changes of every breaker it holds. */
  readonly events: EventSource<BreakerEventsView>;
  /** Every breaker it holds now: read when metrics are collected. */
  snapshot(): readonly BreakerSnapshotView[];
}

/**
 * One endpoint of a pool snapshot, as its metrics read it (`UpstreamEndpointState` of `@portcullis/router`).
 *
 * @example
 * ```ts
 * import type { PoolEndpointView } from '@portcullis/telemetry';
 *
 * const out = (e: PoolEndpointView): boolean => !e.healthy || e.ejected;
 * ```
 */
export interface PoolEndpointView {
  readonly endpoint: { readonly id: string };
  readonly healthy: boolean;
  readonly ejected: boolean;
  readonly breaker: string | undefined;
  readonly inFlight: number;
}

/**
 * An upstream pool (`createUpstreamPool` of `@portcullis/router`).
 *
 * @example
 * ```ts
 * import { createUpstreamPool } from '@portcullis/router';
 * import type { ObservablePool } from '@portcullis/telemetry';
 *
 * const pool: ObservablePool = createUpstreamPool({ name: 'users', endpoints: [{ host: '127.0.0.1', port: 9001 }] });
 * ```
 */
export interface ObservablePool {
  readonly name: string;
  readonly events: EventSource<{
    ejected: { readonly pool: string; readonly reason: string };
    unhealthy: { readonly pool: string };
    healthy: { readonly pool: string };
    panicEntered: { readonly pool: string };
    discoveryError: { readonly pool: string };
    breakerStateChange: { readonly pool: string; readonly to: string };
  }>;
  /** The pool's and its endpoints' state now: read when metrics are collected. */
  snapshot(): {
    readonly name: string;
    readonly panic: boolean;
    readonly available: number;
    readonly total: number;
    readonly inFlight: number;
    readonly endpoints: readonly PoolEndpointView[];
  };
}

/**
 * A canary's state as its metrics read it (`CanaryState` of `@portcullis/router`).
 *
 * @example
 * ```ts
 * import type { CanaryStateView } from '@portcullis/telemetry';
 *
 * const share = (s: CanaryStateView): number => s.percent / 100;
 * ```
 */
export interface CanaryStateView {
  readonly phase: string;
  readonly percent: number;
  readonly failedChecks: number;
}

/**
 * A canary release controller (`createCanary` or `createRedisCanary` of `@portcullis/router`), or
 * anything with its `state()`; without `events`, its decisions are not counted.
 *
 * @example
 * ```ts
 * import { createCanary, createSplit } from '@portcullis/router';
 * import type { ObservableCanary } from '@portcullis/telemetry';
 *
 * const split = createSplit({ name: 'orders', variants: [{ name: 'stable', weight: 90 }, { name: 'canary', weight: 10 }] });
 * const canary: ObservableCanary = createCanary({ split });
 * ```
 */
export interface ObservableCanary {
  readonly events?: EventSource<{ decision: { readonly action: string; readonly trigger: string } }> | undefined;
  /** The current state; `undefined` while unknown (a Redis canary before its first sync). */
  state(): CanaryStateView | undefined;
}

/**
 * A loader or a loader factory (`createLoader`, `createLoaderFactory` of
 * `@portcullis/dataloader-guard`: a factory's loaders all report on its emitter).
 *
 * @example
 * ```ts
 * import { createLoader } from '@portcullis/dataloader-guard';
 * import type { ObservableLoader } from '@portcullis/telemetry';
 *
 * const users: ObservableLoader = createLoader(async (ids: readonly string[]) => ids.map((id) => ({ id })), { name: 'users' });
 * ```
 */
export interface ObservableLoader {
  readonly events: EventSource<{
    batch: {
      readonly loader: string | undefined;
      readonly size: number;
      readonly hits: number;
      readonly waitMs: number;
      readonly durationMs: number;
      readonly outcome: string;
      readonly failedKeys: number;
    };
    tooManyKeys: { readonly loader: string | undefined; readonly budget: string };
    aborted: { readonly loader: string | undefined; readonly droppedKeys: number };
  }>;
}

/**
 * One forwarding attempt, as its metrics and spans read it (`AttemptEvent` of `@portcullis/router`).
 *
 * @example
 * ```ts
 * import type { AttemptView } from '@portcullis/telemetry';
 *
 * const retried = (a: AttemptView): boolean => a.attempt > 1;
 * ```
 */
export interface AttemptView {
  readonly endpoint: string;
  readonly attempt: number;
  readonly method: string;
  readonly outcome: {
    readonly status?: number | undefined;
    readonly failure?: string | undefined;
    readonly durationMs: number;
  };
}

/**
 * A forwarder (`createForwarder` of `@portcullis/router`).
 *
 * @example
 * ```ts
 * import { createForwarder } from '@portcullis/router';
 * import type { ObservableForwarder } from '@portcullis/telemetry';
 *
 * const forwarder: ObservableForwarder = createForwarder();
 * ```
 */
export interface ObservableForwarder {
  readonly events: EventSource<{ attempt: AttemptView }>;
}

/**
 * A JWT verifier or a JWKS source (`createJwtVerifier`, `createJwksSource` of
 * `@portcullis/jwt-cache`).
 *
 * @example
 * ```ts
 * import { createJwtVerifier } from '@portcullis/jwt-cache';
 * import type { ObservableVerifier } from '@portcullis/telemetry';
 *
 * const verifier: ObservableVerifier = createJwtVerifier({
 *   issuers: { 'https://id.example.com/': { jwks: 'https://id.example.com/.well-known/jwks.json' } },
 * });
 * ```
 */
export interface ObservableVerifier {
  readonly events: EventSource<{
    fetch: { readonly source: string; readonly reason: string; readonly ok: boolean; readonly durationMs: number };
    stale: { readonly source: string };
    kidMiss: { readonly source: string; readonly refetched: boolean };
    rotation: { readonly source: string };
    revocation: { readonly source: string };
    failure: { readonly reason: string };
  }>;
}
