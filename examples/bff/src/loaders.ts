import type { Clock } from '@portcullis/core';
import {
  createLoaderFactory,
  type BatchFunction,
  type LoaderFactory,
  type LoadersOf,
  type LoaderSpec,
} from '@portcullis/dataloader-guard';
import type { Item, Order, Product, User } from './data.js';
import { MAX_IDS_PER_CALL, type ServiceName } from './services.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Options of {@link createBffLoaders}. */
export interface BffLoaderOptions {
  /** Where the cache ages come from (tests move it). Default: the system clock. */
  clock?: Clock | undefined;
  /**
   * Turn every guard and the batching off (one call per key, no cache): the N+1 pattern the
   * loaders exist to avoid, to compare the call counts.
   */
  naive?: boolean | undefined;
  /** The most ids one GraphQL query may make the BFF fetch, all types together. Default is 1_000. */
  maxKeysPerRequest?: number | undefined;
}

/**
 * A batch function over one demo service: `GET <base><path>?ids=…`, the signal passed on (a timeout,
 * the deadline or the client leaving cancels the HTTP call), answered as a `Map` by id so that an id
 * the service does not know fails alone.
 */
function fetchByIds<V extends { id: string }>(base: string, path: string): BatchFunction<string, V> {
  return async function fetchBatch(ids, { signal }) {
    const res = await fetch(`${base}${path}?ids=${ids.map(encodeURIComponent).join(',')}`, { signal });
    if (!res.ok) throw new Error(`${path} answered ${String(res.status)}`);
    const list = (await res.json()) as V[];
    return new Map(list.map((value) => [value.id, value]));
  };
}

/** The BFF's loaders by name (a type literal: a factory's specs are a record). */
export type BffSpecs = {
  readonly users: LoaderSpec<string, User>;
  readonly orders: LoaderSpec<string, Order>;
  readonly items: LoaderSpec<string, Item>;
  readonly products: LoaderSpec<string, Product>;
};

/**
 * The BFF's loaders, one set per GraphQL request, with what scenario 5 asks for: batches of at most
 * 100 ids (the services' own limit), per-type cache TTLs shared across requests (users 1 h, products
 * 6 h, orders and items 5 min), a 500 ms deadline per query, at most 1,000 ids per query, at most 4
 * batches in flight per loader, and every call given up when its client leaves.
 */
export function createBffLoaders(
  urls: Readonly<Record<ServiceName, string>>,
  options: BffLoaderOptions = {},
): LoaderFactory<BffSpecs> {
  const naive = options.naive === true;
  const common = naive
    ? { batch: false, cache: false }
    : { maxBatchSize: MAX_IDS_PER_CALL, maxConcurrentBatches: 4, timeoutMs: 2_000 };
  const ttl = (ttlMs: number): { sharedCache?: { ttlMs: number } } => (naive ? {} : { sharedCache: { ttlMs } });
  return createLoaderFactory<BffSpecs>(
    {
      users: { batchFn: fetchByIds<User>(urls.users, '/users'), ...common, ...ttl(HOUR) },
      orders: { batchFn: fetchByIds<Order>(urls.orders, '/orders'), ...common, ...ttl(5 * MINUTE) },
      items: { batchFn: fetchByIds<Item>(urls.orders, '/items'), ...common, ...ttl(5 * MINUTE) },
      products: { batchFn: fetchByIds<Product>(urls.products, '/products'), ...common, ...ttl(6 * HOUR) },
    },
    {
      clock: options.clock,
      maxKeysPerRequest: naive ? Infinity : (options.maxKeysPerRequest ?? 1_000),
    },
  );
}

/** The loaders of one request. */
export type BffLoaders = LoadersOf<BffSpecs>;
