import { Emitter, InvalidOptionError, nonEmptyString, nonNegativeInteger, positiveInteger } from '@portcullis/core';
import { BulkheadRejectedError, PolicyDisposedError } from './errors.js';
import {
  contextFor,
  invoke,
  type ExecuteContext,
  type ExecuteOptions,
  type Policy,
  type Protected,
  rejectWith,
} from './policy.js';
import { rejecter } from './rejection.js';
import { withoutStack } from './stackless.js';

/** Payload of the bulkhead's `rejection` event. */
export interface BulkheadRejectionEvent {
  /** The policy's name. */
  readonly policy: string;
  /** Calls running when it was refused (= `maxConcurrent`). */
  readonly running: number;
  /** Calls queued when it was refused (= `maxQueue`). */
  readonly queued: number;
}

/**
 * The events of a bulkhead.
 *
 * @example
 * ```ts
 * import { bulkhead } from '@portcullis/circuit-breaker';
 *
 * const pool = bulkhead({ maxConcurrent: 10, maxQueue: 50, name: 'orders' });
 * pool.events.on('rejection', (e) => metrics.increment(`bulkhead.${e.policy}.rejected`));
 * ```
 */
export interface BulkheadEvents {
  /** A call was refused: all slots busy, queue full. */
  rejection: BulkheadRejectionEvent;
}

/**
 * Options of {@link bulkhead}.
 *
 * @example
 * ```ts
 * import type { BulkheadOptions } from '@portcullis/circuit-breaker';
 *
 * const options: BulkheadOptions = { maxConcurrent: 10, maxQueue: 50 };
 * ```
 */
export interface BulkheadOptions {
  /** Calls allowed to run at once. Whole number >= 1. Required. */
  maxConcurrent: number;
  /** Calls allowed to wait for a slot (first in, first out); more are refused. Whole number >= 0. Default 0. */
  maxQueue?: number | undefined;
  /** Names the policy in events (1 to 200 characters). Default `'bulkhead'`. */
  name?: string | undefined;
}

/** A queued call: a node of a doubly linked list, so an aborted waiter leaves in O(1). */
interface Waiter {
  readonly start: () => void;
  readonly cancel: (reason: unknown) => void;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

/**
 * A bulkhead policy; see {@link bulkhead}.
 *
 * Hand-written rather than built on p-limit: p-limit's queue is unbounded (it cannot refuse when
 * full) and a queued task cannot leave it when its caller aborts, and both are the point here.
 */
export class BulkheadPolicy implements Policy {
  /** Refusals; see {@link BulkheadEvents}. */
  readonly events: Emitter<BulkheadEvents> = new Emitter<BulkheadEvents>();
  /** Calls allowed to run at once. */
  readonly maxConcurrent: number;
  /** Calls allowed to wait. */
  readonly maxQueue: number;
  readonly #name: string;
  #running = 0;
  #queued = 0;
  #head: Waiter | undefined;
  #tail: Waiter | undefined;
  #rejectRefusal: (() => Promise<never>) | undefined;

  /** @param options - See {@link BulkheadOptions}; validated here. */
  constructor(options: BulkheadOptions) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object with maxConcurrent');
    }
    this.maxConcurrent = positiveInteger(options.maxConcurrent, 'maxConcurrent');
    this.maxQueue = nonNegativeInteger(options.maxQueue ?? 0, 'maxQueue');
    this.#name = nonEmptyString(options.name ?? 'bulkhead', 'name', 200);
  }

  /** Calls running now. */
  get running(): number {
    return this.#running;
  }

  /** Calls waiting now. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Runs `fn` when a slot is free: at once, or after waiting in the queue. Rejects at once with a
   * {@link BulkheadRejectedError} (stackless and shared) when the queue is full, and with the
   * caller's abort reason when the caller aborts while queued (its place is freed at once).
   */
  execute<T>(fn: Protected<T>, options?: ExecuteOptions): Promise<T> {
    const signal = options?.signal;
    if (signal?.aborted === true) return rejectWith(signal.reason);
    const context = contextFor(options);
    if (this.#running < this.maxConcurrent) return this.#run(fn, context);
    // Rejected a microtask later, once the caller listens, without a throw: see rejection.ts.
    if (this.#queued >= this.maxQueue) return this.#refuse()();
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        this.#remove(waiter);
        reject((signal as AbortSignal).reason as Error);
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#run(fn, context).then(resolve, reject);
        },
        cancel: (reason) => {
          signal?.removeEventListener('abort', onAbort);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- errors and abort reasons pass through unchanged
          reject(reason);
        },
        prev: this.#tail,
        next: undefined,
      };
      if (this.#tail === undefined) this.#head = waiter;
      else this.#tail.next = waiter;
      this.#tail = waiter;
      this.#queued++;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Rejects every queued call with `PolicyDisposedError`; running calls are left to finish. */
  dispose(): void {
    const error = new PolicyDisposedError('bulkhead');
    for (let waiter = this.#head; waiter !== undefined; waiter = this.#head) {
      this.#remove(waiter);
      waiter.cancel(error);
    }
  }

  #run<T>(fn: Protected<T>, context: ExecuteContext): Promise<T> {
    this.#running++;
    return invoke(fn, context).finally(() => {
      this.#running--;
      const next = this.#head;
      if (next !== undefined) {
        this.#remove(next);
        next.start();
      }
    });
  }

  #remove(waiter: Waiter): void {
    if (waiter.prev === undefined) this.#head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    this.#queued--;
  }

  /** Emits the refusal and returns a function rejecting with the shared, stackless error. */
  #refuse(): () => Promise<never> {
    if (this.events.has('rejection')) {
      this.events.emit('rejection', { policy: this.#name, running: this.#running, queued: this.#queued });
    }
    this.#rejectRefusal ??= rejecter(
      withoutStack(() => Object.freeze(new BulkheadRejectedError(this.maxConcurrent, this.maxQueue))),
    );
    return this.#rejectRefusal;
  }
}

/**
 * A bulkhead: at most `maxConcurrent` calls run at once, up to `maxQueue` more wait their turn
 * (first in, first out), and the rest are refused at once with a {@link BulkheadRejectedError}, so
 * a slow upstream cannot take every socket and every request of the gateway with it. A caller
 * that aborts while queued leaves the queue at once.
 *
 * @param options - See {@link BulkheadOptions}.
 * @throws InvalidOptionError naming the option: `maxConcurrent` not a whole number >= 1,
 *   `maxQueue` not a whole number >= 0.
 *
 * @example
 * ```ts
 * import { bulkhead } from '@portcullis/circuit-breaker';
 *
 * const orders = bulkhead({ maxConcurrent: 20, maxQueue: 100 });
 * const res = await orders.execute(({ signal }) => fetch('http://orders.internal/42', { signal }));
 * ```
 */
export function bulkhead(options: BulkheadOptions): BulkheadPolicy {
  return new BulkheadPolicy(options);
}
