import { finiteNumber, InvalidOptionError, nonNegativeInteger, positiveInteger } from '@portcullis/core';

/**
 * Options of {@link createBatchLimiter}.
 *
 * @example
 * ```ts
 * import type { BatchLimiterOptions } from '@portcullis/dataloader-guard';
 *
 * const options: BatchLimiterOptions = { maxConcurrent: 4, maxQueue: 100 };
 * ```
 */
export interface BatchLimiterOptions {
  /** Batches allowed to run at once. Whole number >= 1. Required. */
  maxConcurrent: number;
  /**
   * Batches allowed to wait for a slot, first in first out; one more is refused
   * (`BatchQueueFullError`). Whole number >= 0 or `Infinity`. Default is 1_000.
   */
  maxQueue?: number | undefined;
}

/** A queued batch: a node of a doubly linked list, so an aborted batch leaves the queue in O(1). */
export interface QueuedBatch {
  /** Runs the batch, once it has a slot. */
  readonly start: () => void;
  prev: QueuedBatch | undefined;
  next: QueuedBatch | undefined;
  /** False once started or cancelled. */
  queued: boolean;
}

/**
 * Slots for running batches and a bounded queue for the ones waiting. A loader makes its own from
 * `maxConcurrentBatches`; create one with {@link createBatchLimiter} and pass it as `limiter` to
 * cap the batches of many loaders together (e.g. every request's `users` loader against one
 * users service).
 *
 * Hand-written rather than p-limit: p-limit's queue has no bound (it cannot refuse when full) and a
 * queued task cannot leave it when its request aborts (`clearQueue` drops every task and leaves
 * their promises pending for ever), and both are the point here.
 *
 * @example
 * ```ts
 * import { createBatchLimiter } from '@portcullis/dataloader-guard';
 *
 * const limiter = createBatchLimiter({ maxConcurrent: 1, maxQueue: 1 });
 * limiter.acquire(() => console.log('first runs')); // 'started'
 * limiter.acquire(() => console.log('second runs')); // queued: its queue entry
 * limiter.acquire(() => undefined); // 'full'
 * limiter.release(); // logs "second runs"
 * ```
 */
export class BatchLimiter {
  /** Brand: recognised across copies of this package (ESM and CJS builds). */
  readonly isBatchLimiter = true as const;
  /** Batches allowed to run at once. */
  readonly maxConcurrent: number;
  /** Batches allowed to wait. */
  readonly maxQueue: number;
  #running = 0;
  #queued = 0;
  #head: QueuedBatch | undefined;
  #tail: QueuedBatch | undefined;

  /** @param options - See {@link BatchLimiterOptions}; validated here. */
  constructor(options: BatchLimiterOptions) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object with maxConcurrent');
    }
    this.maxConcurrent = positiveInteger(options.maxConcurrent, 'maxConcurrent');
    const maxQueue = options.maxQueue ?? 1_000;
    this.maxQueue = maxQueue === Infinity ? Infinity : nonNegativeInteger(maxQueue, 'maxQueue');
  }

  /** Batches running now. */
  get running(): number {
    return this.#running;
  }

  /** Batches waiting for a slot now. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Runs `start` now when a slot is free (returns `'started'`), queues it (returns its queue entry,
   * for {@link BatchLimiter.cancel}), or refuses (returns `'full'`). Whoever started must call
   * {@link BatchLimiter.release} exactly once when the batch is over.
   */
  acquire(start: () => void): 'started' | 'full' | QueuedBatch {
    if (this.#running < this.maxConcurrent) {
      this.#running++;
      start();
      return 'started';
    }
    if (this.#queued >= this.maxQueue) return 'full';
    const entry: QueuedBatch = { start, prev: this.#tail, next: undefined, queued: true };
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
    this.#queued++;
    return entry;
  }

  /** Frees a slot; the oldest queued batch starts in it. */
  release(): void {
    const next = this.#head;
    if (next === undefined) {
      this.#running--;
      return;
    }
    this.#unlink(next);
    // The slot passes straight to the next batch: `running` stays the same.
    next.start();
  }

  /** Takes a batch out of the queue (its request aborted); true when it was still queued. */
  cancel(entry: QueuedBatch): boolean {
    if (!entry.queued) return false;
    this.#unlink(entry);
    return true;
  }

  #unlink(entry: QueuedBatch): void {
    entry.queued = false;
    if (entry.prev === undefined) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    this.#queued--;
  }
}

/**
 * A {@link BatchLimiter} to share between loaders: at most `maxConcurrent` of their batches run at
 * once, `maxQueue` more wait (first in, first out), and a batch beyond that fails at once with
 * `BatchQueueFullError`. A batch whose loader aborts leaves the queue at once.
 *
 * @param options - See {@link BatchLimiterOptions}.
 * @throws InvalidOptionError naming the option that is invalid.
 *
 * @example
 * ```ts
 * import { createBatchLimiter, createLoaderFactory } from '@portcullis/dataloader-guard';
 *
 * // Every request's users loader shares four slots on the users service.
 * const usersService = createBatchLimiter({ maxConcurrent: 4, maxQueue: 200 });
 * const loaders = createLoaderFactory({
 *   users: { batch: fetchUsers, limiter: usersService },
 * });
 * ```
 */
export function createBatchLimiter(options: BatchLimiterOptions): BatchLimiter {
  return new BatchLimiter(options);
}

/** `maxQueuedBatches` as a loader option: a whole number >= 0 or `Infinity`. */
export function queueBound(value: unknown, option: string): number {
  return value === Infinity ? Infinity : finiteNumber(value, option, { min: 0, integer: true });
}
