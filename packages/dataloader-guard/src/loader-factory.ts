import {
  duration,
  Emitter,
  hasBrand,
  InvalidOptionError,
  isFunctionOption,
  systemClock,
  type Clock,
  type GuardContext,
} from '@portcullis/core';
import type { LoaderEvents } from './events.js';
import { KeyBudget } from './key-budget.js';
import { Loader } from './loader.js';
import { LoaderCache, type LoaderCacheOptions } from './loader-cache.js';
import { resolveOptions, type BatchFunction, type LoaderOptions } from './options.js';

/**
 * One loader of a factory: its batch function and its options. The options are
 * {@link LoaderOptions} less what each request supplies (`signal`, `context`, `deadline`, the shared
 * `budget`) or the factory does (`events`, `clock`); `sharedCache` takes the cache's options and the
 * factory makes one cache for this loader, shared by every request.
 *
 * @example
 * ```ts
 * import type { LoaderSpec } from '@portcullis/dataloader-guard';
 *
 * const users: LoaderSpec<string, User> = {
 *   batchFn: fetchUsers,
 *   maxBatchSize: 100,
 *   sharedCache: { ttlMs: 3_600_000, max: 10_000 },
 * };
 * ```
 */
export interface LoaderSpec<K, V, C = K, Ctx = GuardContext> extends Omit<
  LoaderOptions<K, V, C, Ctx>,
  'signal' | 'context' | 'deadline' | 'budget' | 'events' | 'clock' | 'sharedCache' | 'name'
> {
  /** Loads many keys in one call; gets the request's `context` and a signal. */
  batchFn: BatchFunction<K, V, Ctx>;
  /** A value cache shared by every request's loader: its options, or a cache you made. Default none. */
  sharedCache?: LoaderCacheOptions | LoaderCache | undefined;
}

/** Any loader spec, for constraints. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the key and value types are inferred per loader
export type AnyLoaderSpec<Ctx> = LoaderSpec<any, any, any, Ctx>;

/**
 * The loaders one request gets: a {@link Loader} per spec, typed from its batch function.
 *
 * @example
 * ```ts
 * import type { LoadersOf, LoaderSpec } from '@portcullis/dataloader-guard';
 *
 * type Specs = { users: LoaderSpec<string, User> };
 * const resolveUser = (id: string, loaders: LoadersOf<Specs>): Promise<User> => loaders.users.load(id);
 * ```
 */
export type LoadersOf<Specs> = {
  readonly [N in keyof Specs]: Specs[N] extends LoaderSpec<infer K, infer V, infer C, infer _Ctx>
    ? Loader<K, V, C>
    : never;
};

/**
 * Options of {@link createLoaderFactory}.
 *
 * @example
 * ```ts
 * import type { LoaderFactoryOptions } from '@portcullis/dataloader-guard';
 *
 * const options: LoaderFactoryOptions = { maxKeysPerRequest: 2_000, deadlineMs: 500 };
 * ```
 */
export interface LoaderFactoryOptions {
  /**
   * The most keys one request's loaders may send to their backends, together (on top of each
   * loader's `maxKeys`). Whole number >= 1 or `Infinity`. Default `Infinity`.
   */
  maxKeysPerRequest?: number | undefined;
  /**
   * Each request's deadline, in ms from `forRequest` (overridden per request by its own
   * `deadlineMs`): batches stop by then and their keys fail with `BatchTimeoutError`. Finite, > 0.
   * Default none.
   */
  deadlineMs?: number | undefined;
  /** Where the time comes from (deadlines, waits, cache ages). Default is `systemClock`. */
  clock?: Clock | undefined;
}

/** What one request brings to {@link LoaderFactory.forRequest}. */
export interface RequestInit<Ctx = GuardContext> {
  /** The request's signal: when it aborts, its loaders give everything up. */
  signal?: AbortSignal | undefined;
  /** Given to every batch function (`info.context`): the caller's identity, a token to forward, … */
  context?: Ctx | undefined;
  /** This request's deadline in ms from now, instead of the factory's `deadlineMs`. */
  deadlineMs?: number | undefined;
}

/**
 * Builds a fresh set of loaders per request from shared definitions; see
 * {@link createLoaderFactory}.
 *
 * @example
 * ```ts
 * import { createLoaderFactory } from '@portcullis/dataloader-guard';
 *
 * const loaders = createLoaderFactory({ users: { batchFn: fetchUsers } }, { maxKeysPerRequest: 500 });
 * const { users } = loaders.forRequest({ signal: request.signal, context: { token } });
 * loaders.events.on('batch', (e) => console.log(e.loader, e.size, e.outcome));
 * loaders.caches.users?.clear();
 * ```
 */
export class LoaderFactory<Specs extends Record<string, AnyLoaderSpec<Ctx>>, Ctx = GuardContext> {
  /** Brand: recognised across copies of this package (ESM and CJS builds). */
  readonly isLoaderFactory = true as const;
  /** Every request's loaders report here: see {@link LoaderEvents} (`loader` names the loader). */
  readonly events: Emitter<LoaderEvents> = new Emitter<LoaderEvents>();
  /** The shared value caches by loader name (for `clear()` after a bulk write, or their `size`). */
  readonly caches: { readonly [N in keyof Specs]: LoaderCache | undefined };
  readonly #specs: Specs;
  readonly #maxKeysPerRequest: number;
  readonly #deadlineMs: number | undefined;
  readonly #clock: Clock;
  readonly #created = new WeakSet<object>();

  /**
   * @param specs - The loaders by name; see {@link LoaderSpec}.
   * @param options - See {@link LoaderFactoryOptions}; everything is validated here.
   */
  constructor(specs: Specs, options: LoaderFactoryOptions = {}) {
    if (typeof specs !== 'object' || (specs as unknown) === null) {
      throw new InvalidOptionError('specs', specs, 'an object of loader specs by name');
    }
    const maxKeys = options.maxKeysPerRequest ?? Infinity;
    this.#maxKeysPerRequest = maxKeys === Infinity ? Infinity : new KeyBudget(maxKeys).maxKeys;
    this.#deadlineMs = positiveDuration(options.deadlineMs, 'deadlineMs');
    this.#clock = options.clock ?? systemClock;
    if (typeof (this.#clock as Partial<Clock>).now !== 'function') {
      throw new InvalidOptionError('clock', this.#clock, 'an object with a now() method');
    }
    const caches: Record<string, LoaderCache | undefined> = {};
    for (const [name, spec] of Object.entries(specs)) {
      if (typeof spec !== 'object' || (spec as unknown) === null) {
        throw new InvalidOptionError(name, spec, 'a loader spec with a batchFn');
      }
      const { batchFn, sharedCache, ...options } = spec;
      isFunctionOption(batchFn, `${name}.batchFn`);
      // Validated now, named after the loader, rather than on the first request.
      resolveOptions(options as LoaderOptions<unknown, unknown, unknown>, `${name}.`);
      caches[name] = sharedCacheOf(sharedCache, name, this.#clock);
    }
    this.#specs = specs;
    this.caches = caches as { readonly [N in keyof Specs]: LoaderCache | undefined };
  }

  /**
   * A fresh loader per spec for one request: its own batching, memo and key budget, the request's
   * signal, deadline and context, the shared caches and limiters.
   */
  forRequest(init: RequestInit<Ctx> = {}): LoadersOf<Specs> {
    const clock = this.#clock;
    const deadlineMs =
      init.deadlineMs === undefined ? this.#deadlineMs : positiveDuration(init.deadlineMs, 'deadlineMs');
    const deadline = deadlineMs === undefined ? undefined : clock.now() + deadlineMs;
    const budget = this.#maxKeysPerRequest === Infinity ? undefined : new KeyBudget(this.#maxKeysPerRequest);
    const loaders: Record<string, Loader<unknown, unknown, unknown>> = {};
    for (const name of Object.keys(this.#specs)) {
      const { batchFn, sharedCache: _spec, ...options } = this.#specs[name] as AnyLoaderSpec<Ctx>;
      loaders[name] = new Loader(batchFn as BatchFunction<unknown, unknown>, {
        ...(options as LoaderOptions<unknown, unknown, unknown>),
        name,
        context: init.context,
        signal: init.signal,
        deadline,
        budget,
        sharedCache: this.caches[name],
        events: this.events,
        clock,
      });
    }
    const frozen = Object.freeze(loaders) as LoadersOf<Specs>;
    this.#created.add(frozen);
    return frozen;
  }

  /**
   * The loaders the guard put in a request's context (`req.portcullis` on Express,
   * `request.portcullis` on Fastify, `c.get('portcullis')` on Hono), typed.
   *
   * @throws InvalidOptionError when the context holds no loaders of this factory (the guard
   * is not mounted in front of this handler).
   */
  of(context: GuardContext | null | undefined): LoadersOf<Specs> {
    const loaders = (context as { loaders?: unknown } | null | undefined)?.loaders;
    if (typeof loaders !== 'object' || loaders === null || !this.#created.has(loaders)) {
      throw new InvalidOptionError(
        'context.loaders',
        loaders,
        "this factory's loaders: mount its dataLoaders() middleware in front of this handler",
      );
    }
    return loaders as LoadersOf<Specs>;
  }
}

/**
 * Per-request DataLoaders from shared definitions: the pattern DataLoader asks for (a new loader
 * per request, so one user's memo never answers another), with the guards and what is shared
 * across requests made once: the value caches with their TTLs (users 1 h, products 6 h, orders
 * 5 min), the concurrency limiters, the event emitter. Each request gets its own batching, memo,
 * key budgets (`maxKeys` per loader, `maxKeysPerRequest` for all), deadline and signal.
 *
 * Mount it with `dataLoaders(factory)` from `/express`, `/fastify` or `/hono` (or
 * `loadersGuard(factory)` in a `compose`), or call `forRequest` yourself (a GraphQL server's
 * context function).
 *
 * @param specs - The loaders by name; see {@link LoaderSpec}.
 * @param options - See {@link LoaderFactoryOptions}.
 * @throws InvalidOptionError naming the option that is invalid (`users.maxBatchSize`, …).
 *
 * @example
 * ```ts
 * import { createLoaderFactory } from '@portcullis/dataloader-guard';
 *
 * const loaders = createLoaderFactory(
 *   {
 *     users: { batchFn: fetchUsers, maxBatchSize: 100, sharedCache: { ttlMs: 3_600_000 } },
 *     products: { batchFn: fetchProducts, sharedCache: { ttlMs: 6 * 3_600_000 } },
 *     orders: { batchFn: fetchOrders, sharedCache: { ttlMs: 300_000 } },
 *   },
 *   { maxKeysPerRequest: 2_000, deadlineMs: 500 },
 * );
 *
 * // In a GraphQL server's context function:
 * const context = ({ request }: { request: Request }) => ({ loaders: loaders.forRequest({ signal: request.signal }) });
 * ```
 */
export function createLoaderFactory<Specs extends Record<string, AnyLoaderSpec<Ctx>>, Ctx = GuardContext>(
  specs: Specs,
  options: LoaderFactoryOptions = {},
): LoaderFactory<Specs, Ctx> {
  return new LoaderFactory<Specs, Ctx>(specs, options);
}

function sharedCacheOf(
  value: LoaderCacheOptions | LoaderCache | undefined,
  name: string,
  clock: Clock,
): LoaderCache | undefined {
  if (value === undefined) return undefined;
  if (hasBrand(value, 'isLoaderCache')) return value as LoaderCache;
  if (typeof value !== 'object' || (value as unknown) === null) {
    throw new InvalidOptionError(`${name}.sharedCache`, value, 'cache options ({ ttlMs, … }) or a LoaderCache');
  }
  return new LoaderCache({ clock, ...(value as LoaderCacheOptions) }, `${name}.sharedCache`);
}

function positiveDuration(value: number | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = duration(value, option);
  if (ms === 0) throw new InvalidOptionError(option, value, 'a finite number > 0');
  return ms;
}
