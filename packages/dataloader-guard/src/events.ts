/** How a batch ended, in {@link BatchEvent.outcome}. */
export type BatchOutcome = 'loaded' | 'failed' | 'invalid' | 'timeout' | 'aborted' | 'refused';

/** Payload of the `batch` event: one batch function call (with its retries, if it was split). */
export interface BatchEvent {
  /** The loader's name, when it has one. */
  readonly loader: string | undefined;
  /** Keys in the batch. */
  readonly size: number;
  /** Cache hits answered with this batch (DataLoader answers them together with the batch). */
  readonly hits: number;
  /** From the batch's first key to the batch function's call (scheduling plus the queue), in ms. */
  readonly waitMs: number;
  /** From the call to the outcome, in ms (0 when it never ran). */
  readonly durationMs: number;
  /**
   * `'loaded'` (an answer matched to the keys; some may hold per-key errors), `'failed'` (the
   * function threw or rejected), `'invalid'` (an answer that cannot be matched to the keys),
   * `'timeout'`, `'aborted'` (the loader's signal), `'refused'` (the queue was full).
   */
  readonly outcome: BatchOutcome;
  /** Keys that got an error. */
  readonly failedKeys: number;
  /** Calls made: 1, or more when a failed batch was split to isolate the keys that fail. */
  readonly calls: number;
}

/** Payload of the `timeout` event. */
export interface TimeoutEvent {
  /** The loader's name, when it has one. */
  readonly loader: string | undefined;
  /** Keys in the batch that timed out. */
  readonly size: number;
  /** The timeout that expired, in ms. */
  readonly timeoutMs: number;
}

/** Payload of the `tooManyKeys` event, sent once per exceeded budget and loader. */
export interface TooManyKeysEvent {
  /** The loader's name, when it has one. */
  readonly loader: string | undefined;
  /** The budget: its size, and whose it is. */
  readonly maxKeys: number;
  /** `'loader'` (its `maxKeys`) or `'request'` (a shared budget). */
  readonly budget: 'loader' | 'request';
  /** Keys that were waiting for their batch and failed with it. */
  readonly droppedKeys: number;
}

/** Payload of the `aborted` event. */
export interface AbortedEvent {
  /** The loader's name, when it has one. */
  readonly loader: string | undefined;
  /** Keys that were waiting, queued or running and failed. */
  readonly droppedKeys: number;
  /** Batches that were running (their signals aborted). */
  readonly runningBatches: number;
}

/**
 * The events of a loader: what a metrics recipe needs (batch sizes, waits, durations, outcomes,
 * cache hits; timeouts; refused budgets; aborts). Listeners run synchronously; one that throws
 * is reported and never breaks the loader. A loader made by a factory shares the factory's emitter,
 * so one listener sees every request's loaders (tell them apart by `loader`).
 *
 * @example
 * ```ts
 * import { createLoader } from '@portcullis/dataloader-guard';
 *
 * const users = createLoader(fetchUsers, { name: 'users' });
 * users.events.on('batch', (e) => histogram.observe({ loader: e.loader, outcome: e.outcome }, e.size));
 * users.events.on('timeout', (e) => counter.inc({ loader: e.loader }));
 * ```
 */
export interface LoaderEvents {
  /** A batch ended. */
  batch: BatchEvent;
  /** A batch ran out of time; its signal was aborted. */
  timeout: TimeoutEvent;
  /** A key budget was exceeded. */
  tooManyKeys: TooManyKeysEvent;
  /** The loader's signal aborted while it had work. */
  aborted: AbortedEvent;
}
