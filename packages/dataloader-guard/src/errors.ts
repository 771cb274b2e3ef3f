import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * A load refused because the loader's key budget (`maxKeys`) or the request's shared budget
 * (`maxKeysPerRequest`) is spent: the backend never saw the key. Once a budget is exceeded it stays
 * exceeded: the keys waiting for their batch fail with this error too, as does every later key that
 * would have to reach the backend (keys already in the cache are still answered).
 *
 * @example
 * ```ts
 * import { isTooManyKeysError } from '@portcullis/dataloader-guard';
 *
 * try {
 *   await loaders.products.load(id);
 * } catch (error) {
 *   if (isTooManyKeysError(error)) throw new GraphQLError(error.message, { extensions: { code: error.code } });
 *   throw error;
 * }
 * ```
 */
export class TooManyKeysError extends PortcullisError {
  /** Brand checked by {@link isTooManyKeysError}. */
  readonly isTooManyKeysError = true as const;
  /** The budget that was exceeded. */
  readonly maxKeys: number;
  /** `'loader'` for the loader's own `maxKeys`, `'request'` for a budget shared by several loaders. */
  readonly budget: 'loader' | 'request';
  /** The loader's name, when it has one. */
  readonly loader: string | undefined;

  constructor(maxKeys: number, budget: 'loader' | 'request', loader: string | undefined) {
    const owner = budget === 'request' ? 'this request' : `loader ${loader === undefined ? '' : `"${loader}" `}`;
    super(
      'ERR_PORTCULLIS_DATALOADER_TOO_MANY_KEYS',
      `Too many keys: ${owner.trimEnd()} may load at most ${String(maxKeys)} keys; narrow the query (fewer items, paging)`,
    );
    this.maxKeys = maxKeys;
    this.budget = budget;
    this.loader = loader;
  }
}

/**
 * True when `value` is a {@link TooManyKeysError}.
 *
 * @example
 * ```ts
 * import { isTooManyKeysError } from '@portcullis/dataloader-guard';
 *
 * const results = await loader.loadMany(ids);
 * const refused = results.filter(isTooManyKeysError).length;
 * ```
 */
export function isTooManyKeysError(value: unknown): value is TooManyKeysError {
  return hasBrand(value, 'isTooManyKeysError');
}

/**
 * A batch function did not settle within `timeoutMs`: its signal was aborted with this error and
 * every key of the batch fails with it.
 *
 * @example
 * ```ts
 * import { isBatchTimeoutError } from '@portcullis/dataloader-guard';
 *
 * loader.load(id).catch((error: unknown) => {
 *   if (isBatchTimeoutError(error)) console.warn(`gave up after ${String(error.timeoutMs)} ms`);
 * });
 * ```
 */
export class BatchTimeoutError extends PortcullisError {
  /** Brand checked by {@link isBatchTimeoutError}. */
  readonly isBatchTimeoutError = true as const;
  /** The time the batch was given, in ms. */
  readonly timeoutMs: number;
  /** True when it was the loader's `deadline` (the request's) that ran out rather than `timeoutMs`. */
  readonly deadline: boolean;

  constructor(timeoutMs: number, loader: string | undefined, deadline = false) {
    super(
      'ERR_PORTCULLIS_DATALOADER_TIMEOUT',
      deadline
        ? `Batch ${loader === undefined ? '' : `of loader "${loader}" `}stopped at the deadline`
        : `Batch ${loader === undefined ? '' : `of loader "${loader}" `}timed out after ${String(timeoutMs)} ms`,
    );
    this.timeoutMs = timeoutMs;
    this.deadline = deadline;
  }
}

/**
 * True when `value` is a {@link BatchTimeoutError}.
 *
 * @example
 * ```ts
 * import { isBatchTimeoutError } from '@portcullis/dataloader-guard';
 *
 * isBatchTimeoutError(new Error('x')); // false
 * ```
 */
export function isBatchTimeoutError(value: unknown): value is BatchTimeoutError {
  return hasBrand(value, 'isBatchTimeoutError');
}

/**
 * The loader's signal aborted (the request ended, the client left, its deadline passed): the load
 * was waiting for its batch, queued, or running, and was given up. `cause` is the signal's reason.
 *
 * @example
 * ```ts
 * import { createLoader, isLoaderAbortedError } from '@portcullis/dataloader-guard';
 *
 * const controller = new AbortController();
 * const users = createLoader(fetchUsers, { signal: controller.signal });
 * const pending = users.load('1');
 * controller.abort();
 * await pending.catch((error: unknown) => isLoaderAbortedError(error)); // true
 * ```
 */
export class LoaderAbortedError extends PortcullisError {
  /** Brand checked by {@link isLoaderAbortedError}. */
  readonly isLoaderAbortedError = true as const;

  constructor(reason: unknown, loader: string | undefined) {
    super(
      'ERR_PORTCULLIS_DATALOADER_ABORTED',
      `Load ${loader === undefined ? '' : `from loader "${loader}" `}aborted: ${describeReason(reason)}`,
      { cause: reason },
    );
  }
}

/**
 * True when `value` is a {@link LoaderAbortedError}.
 *
 * @example
 * ```ts
 * import { isLoaderAbortedError } from '@portcullis/dataloader-guard';
 *
 * isLoaderAbortedError(new Error('x')); // false
 * ```
 */
export function isLoaderAbortedError(value: unknown): value is LoaderAbortedError {
  return hasBrand(value, 'isLoaderAbortedError');
}

/**
 * A batch was refused because `maxConcurrentBatches` batches were running and the queue
 * (`maxQueuedBatches`) was full; every key of the batch fails with it and the backend never saw them.
 *
 * @example
 * ```ts
 * import { isBatchQueueFullError } from '@portcullis/dataloader-guard';
 *
 * isBatchQueueFullError(new Error('x')); // false
 * ```
 */
export class BatchQueueFullError extends PortcullisError {
  /** Brand checked by {@link isBatchQueueFullError}. */
  readonly isBatchQueueFullError = true as const;
  /** Batches running when it was refused. */
  readonly running: number;
  /** Batches queued when it was refused. */
  readonly queued: number;

  constructor(running: number, queued: number) {
    super(
      'ERR_PORTCULLIS_DATALOADER_QUEUE_FULL',
      `Batch refused: ${String(running)} batches running and ${String(queued)} queued (the most allowed)`,
    );
    this.running = running;
    this.queued = queued;
  }
}

/**
 * True when `value` is a {@link BatchQueueFullError}.
 *
 * @example
 * ```ts
 * import { isBatchQueueFullError } from '@portcullis/dataloader-guard';
 *
 * isBatchQueueFullError(new Error('x')); // false
 * ```
 */
export function isBatchQueueFullError(value: unknown): value is BatchQueueFullError {
  return hasBrand(value, 'isBatchQueueFullError');
}

/** Why a batch result was refused: see {@link InvalidBatchResultError.reason}. */
export type InvalidResultReason = 'not-a-list' | 'length' | 'missing';

/**
 * A batch function answered something that cannot be matched to its keys: not an array or a `Map`
 * (`'not-a-list'`), an array of another length than the keys (`'length'`: positions cannot be
 * trusted, so every key of the batch fails), or a `Map` without one of the keys (`'missing'`: only
 * that key fails). The process never crashes on a bad answer.
 *
 * @example
 * ```ts
 * import { isInvalidBatchResultError } from '@portcullis/dataloader-guard';
 *
 * loader.load(id).catch((error: unknown) => {
 *   if (isInvalidBatchResultError(error) && error.reason === 'missing') return null; // not found
 *   throw error;
 * });
 * ```
 */
export class InvalidBatchResultError extends PortcullisError {
  /** Brand checked by {@link isInvalidBatchResultError}. */
  readonly isInvalidBatchResultError = true as const;
  /** What was wrong. */
  readonly reason: InvalidResultReason;

  constructor(reason: InvalidResultReason, detail: string) {
    super('ERR_PORTCULLIS_DATALOADER_INVALID_RESULT', `Invalid batch result (${reason}): ${detail}`);
    this.reason = reason;
  }
}

/**
 * True when `value` is an {@link InvalidBatchResultError}.
 *
 * @example
 * ```ts
 * import { isInvalidBatchResultError } from '@portcullis/dataloader-guard';
 *
 * isInvalidBatchResultError(new Error('x')); // false
 * ```
 */
export function isInvalidBatchResultError(value: unknown): value is InvalidBatchResultError {
  return hasBrand(value, 'isInvalidBatchResultError');
}

/**
 * `load` was called with `null` or `undefined`, `loadMany` without an array, or a loader was made
 * without a batch function. Thrown synchronously, as DataLoader throws its `TypeError`: it is a bug
 * in the caller, not a failure of the backend.
 *
 * @example
 * ```ts
 * import { isInvalidLoadKeyError } from '@portcullis/dataloader-guard';
 *
 * try {
 *   void loader.load(undefined as unknown as string);
 * } catch (error) {
 *   isInvalidLoadKeyError(error); // true
 * }
 * ```
 */
export class InvalidLoadKeyError extends PortcullisError {
  /** Brand checked by {@link isInvalidLoadKeyError}. */
  readonly isInvalidLoadKeyError = true as const;

  /** The value given. */
  readonly value: unknown;

  constructor(value: unknown, message = 'load() must be called with a key') {
    super('ERR_PORTCULLIS_DATALOADER_INVALID_KEY', `${message}, got ${describeValue(value)}`);
    this.value = value;
  }
}

/**
 * True when `value` is an {@link InvalidLoadKeyError}.
 *
 * @example
 * ```ts
 * import { isInvalidLoadKeyError } from '@portcullis/dataloader-guard';
 *
 * isInvalidLoadKeyError(new Error('x')); // false
 * ```
 */
export function isInvalidLoadKeyError(value: unknown): value is InvalidLoadKeyError {
  return hasBrand(value, 'isInvalidLoadKeyError');
}

function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message === '' ? reason.name : reason.message;
  return reason === undefined ? 'no reason given' : describeValue(reason);
}
