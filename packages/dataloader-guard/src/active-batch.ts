import type { Clock, Emitter } from '@portcullis/core';
import { hitCount, type Batch } from './batch.js';
import type { BatchLimiter, QueuedBatch } from './batch-limiter.js';
import { BatchQueueFullError, BatchTimeoutError } from './errors.js';
import type { BatchOutcome, LoaderEvents } from './events.js';
import { isolateFailures } from './isolate.js';
import { matchResults } from './results.js';
import type { LoaderStats } from './stats.js';

/** What a running batch needs from its loader. */
export interface BatchHost<K, V> {
  readonly name: string | undefined;
  /**
   * The user's batch function, with the loader's context bound. `batch.signal` makes the batch's
   * signal when first read: most batches never time out nor abort, and an AbortController costs
   * more than the rest of a batch's bookkeeping together.
   */
  readonly call: (keys: readonly K[], batch: ActiveBatch<K, V>) => unknown;
  readonly timeoutMs: number | undefined;
  /** Absolute time (by `clock`) by which every batch must be over. */
  readonly deadline: number | undefined;
  readonly limiter: BatchLimiter | undefined;
  /** Extra calls allowed to isolate failing keys; 0 when off. */
  readonly isolationCalls: number;
  readonly clock: Clock;
  readonly events: Emitter<LoaderEvents>;
  readonly stats: LoaderStats;
  /** The error the loader's abort gave, once it aborted: a batch whose slot comes later never runs. */
  readonly aborted: () => unknown;
  /** Batches queued or running, so the loader can abort them. */
  readonly active: Set<ActiveBatch<K, V>>;
  /** Settles every key from its outcome. */
  complete(batch: Batch<K>, outcomes: ArrayLike<V | Error>): number;
  /** Fails every key with `error`. */
  fail(batch: Batch<K>, error: unknown): void;
}

/**
 * One dispatched batch, from its wait for a concurrency slot to its outcome: the call with an
 * AbortSignal, its timeout (one timer, cleared when it settles), the answer matched to the keys,
 * and the split-and-retry of a failed batch. It settles its keys exactly once, whichever comes
 * first: the answer, the timeout, or the loader's abort (which also takes it out of the queue).
 */
export class ActiveBatch<K, V> {
  readonly #host: BatchHost<K, V>;
  readonly #batch: Batch<K>;
  #done = false;
  #queued: QueuedBatch | undefined;
  #holdsSlot = false;
  #controller: AbortController | undefined;
  /** Set when the batch's signal must be aborted, whether or not it was made yet. */
  #abortReason: { reason: unknown } | undefined;
  /** The batch's timer, when it has a timeout or a deadline; cleared when it settles. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timeoutMs = 0;
  #byDeadline = false;
  #startedAt = 0;
  #calls = 0;

  constructor(host: BatchHost<K, V>, batch: Batch<K>) {
    this.#host = host;
    this.#batch = batch;
  }

  /** The signal the batch function gets: made when first read, aborted if the batch already was. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason.reason);
    }
    return this.#controller.signal;
  }

  /** A timer's callback, shared by every batch (the batch comes as the timer's argument). */
  static readonly #expire = <K, V>(batch: ActiveBatch<K, V>): void => {
    batch.#onTimeout(batch.#timeoutMs, batch.#byDeadline);
  };

  /** Keys in the batch. */
  get size(): number {
    return this.#batch.keys.length;
  }

  /** True while the batch function runs (not queued, not settled). */
  get running(): boolean {
    return !this.#done && this.#queued === undefined && this.#calls > 0;
  }

  /** Runs the batch now, queues it for a slot, or refuses it when the queue is full. */
  begin(): void {
    const limiter = this.#host.limiter;
    if (limiter === undefined) {
      this.#start();
      return;
    }
    this.#host.active.add(this);
    const slot = limiter.acquire(() => {
      this.#queued = undefined;
      this.#holdsSlot = true;
      this.#start();
    });
    if (slot === 'full') {
      this.#host.stats.refusedBatches++;
      this.#end('refused', new BatchQueueFullError(limiter.running, limiter.queued));
    } else if (slot !== 'started') {
      this.#queued = slot;
    }
  }

  /** Gives the batch up: out of the queue, or its signal aborted; every key fails with `error`. */
  abort(error: unknown): void {
    if (this.#done) return;
    this.#abortSignal(error);
    this.#end('aborted', error);
  }

  #start(): void {
    const host = this.#host;
    const keys = this.#batch.keys;
    host.active.add(this);
    const aborted = host.aborted();
    if (aborted !== undefined) {
      this.#end('aborted', aborted);
      return;
    }
    const now = host.clock.now();
    this.#startedAt = now;
    let timeoutMs = host.timeoutMs;
    let byDeadline = false;
    if (host.deadline !== undefined) {
      const left = host.deadline - now;
      if (left <= 0) {
        this.#onTimeout(0, true);
        return;
      }
      if (timeoutMs === undefined || left < timeoutMs) {
        timeoutMs = left;
        byDeadline = true;
      }
    }
    this.#calls = 1;
    host.stats.batches++;
    host.stats.keysLoaded += keys.length;
    if (keys.length > host.stats.largestBatch) host.stats.largestBatch = keys.length;
    if (timeoutMs !== undefined) {
      this.#timeoutMs = timeoutMs;
      this.#byDeadline = byDeadline;
      // Looked up at each call, so fake timers in tests steer it.
      this.#timer = setTimeout(ActiveBatch.#expire, timeoutMs, this);
    }
    let answer: unknown;
    try {
      answer = host.call(keys, this);
    } catch (error) {
      this.#onFailure(error, 'failed');
      return;
    }
    if (isPromiseLike(answer)) {
      answer.then(
        (value) => {
          this.#onAnswer(value);
        },
        (error: unknown) => {
          this.#onFailure(error, 'failed');
        },
      );
    } else {
      this.#onAnswer(answer);
    }
  }

  #onAnswer(answer: unknown): void {
    if (this.#done) return;
    let outcomes: ArrayLike<V | Error>;
    try {
      outcomes = matchResults<V>(this.#batch.keys, answer);
    } catch (error) {
      this.#onFailure(error, 'invalid');
      return;
    }
    if (!this.#finish()) return;
    const hits = hitCount(this.#batch);
    const failedKeys = this.#host.complete(this.#batch, outcomes);
    this.#report('loaded', failedKeys, hits);
    this.#releaseSlot();
  }

  #onFailure(error: unknown, outcome: 'failed' | 'invalid'): void {
    if (this.#done) return;
    const host = this.#host;
    const keys = this.#batch.keys;
    if (host.isolationCalls > 0 && keys.length > 1) {
      this.#isolate(error);
      return;
    }
    host.stats.failedBatches++;
    this.#end(outcome, error);
  }

  #isolate(error: unknown): void {
    const host = this.#host;
    const call = async (part: readonly K[]): Promise<ArrayLike<V | Error>> => {
      host.stats.isolationCalls++;
      this.#calls++;
      return matchResults<V>(part, await host.call(part, this));
    };
    isolateFailures<K, V>(this.#batch.keys, error, call, host.isolationCalls, () => !this.#done).then(
      ({ outcomes }) => {
        if (!this.#finish()) return;
        const hits = hitCount(this.#batch);
        const failedKeys = host.complete(this.#batch, outcomes);
        if (failedKeys === outcomes.length) host.stats.failedBatches++;
        this.#report(failedKeys === outcomes.length ? 'failed' : 'loaded', failedKeys, hits);
        this.#releaseSlot();
      },
      // isolateFailures catches every call's failure; this only guards against a bug there.
      (unexpected: unknown) => {
        this.#end('failed', unexpected);
      },
    );
  }

  #onTimeout(timeoutMs: number, byDeadline: boolean): void {
    if (this.#done) return;
    const host = this.#host;
    const error = new BatchTimeoutError(timeoutMs, host.name, byDeadline);
    host.stats.timeouts++;
    host.stats.failedBatches++;
    if (host.events.has('timeout')) {
      host.events.emit('timeout', { loader: host.name, size: this.#batch.keys.length, timeoutMs });
    }
    this.#abortSignal(error);
    this.#end('timeout', error);
  }

  #abortSignal(reason: unknown): void {
    this.#abortReason = { reason };
    this.#controller?.abort(reason);
  }

  /** Fails every key with `error` and reports the batch, if it was not settled yet. */
  #end(outcome: BatchOutcome, error: unknown): void {
    if (!this.#finish()) return;
    const hits = hitCount(this.#batch);
    this.#host.fail(this.#batch, error);
    this.#report(outcome, this.#batch.keys.length, hits);
    this.#releaseSlot();
  }

  /**
   * Marks the batch settled, clears its timer, takes it out of the queue; false when it already
   * was. Its slot is freed (`#releaseSlot`) once its keys are settled, so the next
   * batch starts after (and its events come after) this one's.
   */
  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#host.active.delete(this);
    if (this.#queued !== undefined) this.#host.limiter?.cancel(this.#queued);
    this.#queued = undefined;
    return true;
  }

  #releaseSlot(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    this.#host.limiter?.release();
  }

  #report(outcome: BatchOutcome, failedKeys: number, hits: number): void {
    const host = this.#host;
    if (!host.events.has('batch')) return;
    const batch = this.#batch;
    const now = host.clock.now();
    const started = this.#calls > 0;
    host.events.emit('batch', {
      loader: host.name,
      size: batch.keys.length,
      hits,
      waitMs: (started ? this.#startedAt : now) - batch.createdAt,
      durationMs: started ? now - this.#startedAt : 0,
      outcome,
      failedKeys,
      calls: this.#calls,
    });
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
