/**
 * DataLoader with the guards plain DataLoader lacks: per-request key budgets (the "50K items in
 * one query" case), batch size and concurrency caps with a bounded queue, batch timeouts, request
 * deadlines and aborts, a bounded value cache with TTL and stale-while-revalidate shared across
 * requests, checked batch answers, split-and-retry of failed batches, stats and events; per-request
 * loader factories, mounted in Express, Fastify and Hono from the `/express`, `/fastify` and
 * `/hono` subpaths.
 *
 * @packageDocumentation
 */
export type { BatchEvent, BatchOutcome, LoaderEvents, AbortedEvent, TimeoutEvent, TooManyKeysEvent } from './events.js';
export { BatchLimiter, createBatchLimiter } from './batch-limiter.js';
export type { BatchLimiterOptions, QueuedBatch } from './batch-limiter.js';
export {
  BatchQueueFullError,
  BatchTimeoutError,
  InvalidBatchResultError,
  InvalidLoadKeyError,
  isBatchQueueFullError,
  isBatchTimeoutError,
  isInvalidBatchResultError,
  isInvalidLoadKeyError,
  isLoaderAbortedError,
  isTooManyKeysError,
  LoaderAbortedError,
  TooManyKeysError,
} from './errors.js';
export type { InvalidResultReason } from './errors.js';
export { createKeyBudget, KeyBudget } from './key-budget.js';
export { createLoader, Loader } from './loader.js';
export { createLoaderCache, LoaderCache } from './loader-cache.js';
export type { CacheLookup, LoaderCacheOptions } from './loader-cache.js';
export { createLoaderFactory, LoaderFactory } from './loader-factory.js';
export type { AnyLoaderSpec, LoaderFactoryOptions, LoadersOf, LoaderSpec, RequestInit } from './loader-factory.js';
export { loadersGuard } from './http/guard.js';
export type { LoadersContext, LoadersGuardOptions } from './http/guard.js';
export type { CacheMap } from './memo.js';
export type { BatchFunction, BatchInfo, LoaderOptions } from './options.js';
export type { BatchResult } from './results.js';
export type { LoaderStats } from './stats.js';
