import { finiteNumber, InvalidOptionError, positiveNumber } from '@portcullis/core';
import { BucketRing } from '../bucket-ring.js';

/**
 * The sliding window a rate is measured over:
 *
 * - `{ calls: n }`: the last `n` calls (count-based), whenever they happened.
 * - `{ durationMs, buckets }`: calls that ended in the last `durationMs` (time-based), counted in
 *   `buckets` equal buckets (default 10): the window slides a bucket at a time, so it spans
 *   between `durationMs - durationMs / buckets` and `durationMs` of history.
 *
 * Both keep fixed-size state (`n` bytes, or 3 counters per bucket) and update in O(1).
 *
 * @example
 * ```ts
 * import { failureRate, type SlidingWindow } from '@portcullis/circuit-breaker';
 *
 * const lastMinute: SlidingWindow = { durationMs: 60_000, buckets: 12 };
 * const policy = failureRate({ threshold: 0.5, window: lastMinute });
 * ```
 */
export type SlidingWindow =
  { readonly calls: number } | { readonly durationMs: number; readonly buckets?: number | undefined };

/** Counts of failed and slow calls over a sliding window. */
export interface OutcomeWindow {
  add(failed: boolean, slow: boolean, now: number): void;
  /** Calls, failures and slow calls in the window at `now` (a live view: read it at once). */
  counts(now: number): WindowCounts;
  clear(now: number): void;
}

/** Calls, failures and slow calls in a window. */
export interface WindowCounts {
  calls: number;
  failures: number;
  slow: number;
}

/** The most buckets a time window may have (its state is 3 × 4 bytes per bucket). */
export const MAX_BUCKETS = 10_000;
/** The most calls a count window may hold (one byte each). */
export const MAX_WINDOW_CALLS = 1_000_000;

/** A validated window option: its shape, and a factory of empty windows of that shape. */
export interface WindowShape {
  /** True for a time window (its meter needs the time of each outcome). */
  readonly timeBased: boolean;
  /** The most calls the window can hold: its size for a count window, `Infinity` for a time window. */
  readonly capacity: number;
  /** An empty window, starting at `now`. */
  create(now: number): OutcomeWindow;
}

/** Validates a window option (default `{ calls: 100 }`), naming `option` in errors. */
export function windowShape(window: SlidingWindow | undefined, option: string): WindowShape {
  const spec: unknown = window ?? { calls: 100 };
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidOptionError(option, spec, '{ calls } or { durationMs, buckets? }');
  }
  if ('calls' in spec) {
    const size = finiteNumber(spec.calls, `${option}.calls`, { min: 1, max: MAX_WINDOW_CALLS, integer: true });
    return { timeBased: false, capacity: size, create: () => new CountWindow(size) };
  }
  if ('durationMs' in spec) {
    const durationMs = positiveNumber(spec.durationMs, `${option}.durationMs`);
    const buckets = finiteNumber((spec as { buckets?: unknown }).buckets ?? 10, `${option}.buckets`, {
      min: 1,
      max: MAX_BUCKETS,
      integer: true,
    });
    return { timeBased: true, capacity: Infinity, create: (now) => new TimeWindow(durationMs / buckets, buckets, now) };
  }
  throw new InvalidOptionError(option, spec, '{ calls } or { durationMs, buckets? }');
}

const PRESENT = 4;
const FAILED = 1;
const SLOW = 2;

/** The last `size` outcomes in a ring of bytes, with running totals. */
class CountWindow implements OutcomeWindow {
  readonly #ring: Uint8Array;
  #next = 0;
  readonly #counts: WindowCounts = { calls: 0, failures: 0, slow: 0 };

  constructor(size: number) {
    this.#ring = new Uint8Array(size);
  }

  add(failed: boolean, slow: boolean): void {
    const ring = this.#ring;
    const counts = this.#counts;
    const old = ring[this.#next] as number;
    if (old !== 0) {
      counts.calls--;
      counts.failures -= old & FAILED;
      counts.slow -= (old & SLOW) >> 1;
    }
    ring[this.#next] = PRESENT | (failed ? FAILED : 0) | (slow ? SLOW : 0);
    counts.calls++;
    if (failed) counts.failures++;
    if (slow) counts.slow++;
    this.#next = this.#next + 1 === ring.length ? 0 : this.#next + 1;
  }

  counts(): WindowCounts {
    return this.#counts;
  }

  clear(): void {
    this.#ring.fill(0);
    this.#next = 0;
    this.#counts.calls = 0;
    this.#counts.failures = 0;
    this.#counts.slow = 0;
  }
}

/** Outcomes per time bucket (calls, failures, slow calls), in a {@link BucketRing}. */
class TimeWindow implements OutcomeWindow {
  readonly #ring: BucketRing;
  readonly #counts: WindowCounts = { calls: 0, failures: 0, slow: 0 };

  constructor(bucketMs: number, size: number, now: number) {
    this.#ring = new BucketRing(3, size, bucketMs, now);
  }

  add(failed: boolean, slow: boolean, now: number): void {
    const ring = this.#ring;
    const bucket = ring.slide(now);
    ring.add(bucket, CALLS);
    if (failed) ring.add(bucket, FAILURES);
    if (slow) ring.add(bucket, SLOW_CALLS);
  }

  counts(now: number): WindowCounts {
    const ring = this.#ring;
    ring.slide(now);
    const counts = this.#counts;
    counts.calls = ring.totals[CALLS] as number;
    counts.failures = ring.totals[FAILURES] as number;
    counts.slow = ring.totals[SLOW_CALLS] as number;
    return counts;
  }

  clear(now: number): void {
    this.#ring.clear(now);
  }
}

// The series of a time window's ring.
const CALLS = 0;
const FAILURES = 1;
const SLOW_CALLS = 2;
