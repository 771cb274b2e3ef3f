import { finiteNumber, InvalidOptionError, positiveNumber } from '@portcullis/core';

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
  readonly timeBased: boolean;
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

/** Validates a window option and builds a factory of windows of that shape. */
export function windowFactory(window: SlidingWindow | undefined, option: string): (now: number) => OutcomeWindow {
  const spec: unknown = window ?? { calls: 100 };
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidOptionError(option, spec, '{ calls } or { durationMs, buckets? }');
  }
  if ('calls' in spec) {
    const size = finiteNumber(spec.calls, `${option}.calls`, { min: 1, max: MAX_WINDOW_CALLS, integer: true });
    return () => new CountWindow(size);
  }
  if ('durationMs' in spec) {
    const durationMs = positiveNumber(spec.durationMs, `${option}.durationMs`);
    const buckets = finiteNumber((spec as { buckets?: unknown }).buckets ?? 10, `${option}.buckets`, {
      min: 1,
      max: MAX_BUCKETS,
      integer: true,
    });
    return (now) => new TimeWindow(durationMs / buckets, buckets, now);
  }
  throw new InvalidOptionError(option, spec, '{ calls } or { durationMs, buckets? }');
}

const PRESENT = 4;
const FAILED = 1;
const SLOW = 2;

/** The last `size` outcomes in a ring of bytes, with running totals. */
class CountWindow implements OutcomeWindow {
  readonly timeBased = false;
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

/**
 * Outcomes per time bucket in rings of counters, with running totals. Bucket `k` holds the calls
 * that ended in `[k × bucketMs, (k + 1) × bucketMs)`; the window is the newest `size` buckets.
 */
class TimeWindow implements OutcomeWindow {
  readonly timeBased = true;
  readonly #bucketMs: number;
  readonly #calls: Uint32Array;
  readonly #failures: Uint32Array;
  readonly #slow: Uint32Array;
  /** Absolute index of the newest bucket. */
  #head: number;
  readonly #counts: WindowCounts = { calls: 0, failures: 0, slow: 0 };

  constructor(bucketMs: number, size: number, now: number) {
    this.#bucketMs = bucketMs;
    this.#calls = new Uint32Array(size);
    this.#failures = new Uint32Array(size);
    this.#slow = new Uint32Array(size);
    this.#head = Math.floor(now / bucketMs);
  }

  add(failed: boolean, slow: boolean, now: number): void {
    const slot = this.#slide(now);
    this.#calls[slot] = (this.#calls[slot] as number) + 1;
    this.#counts.calls++;
    if (failed) {
      this.#failures[slot] = (this.#failures[slot] as number) + 1;
      this.#counts.failures++;
    }
    if (slow) {
      this.#slow[slot] = (this.#slow[slot] as number) + 1;
      this.#counts.slow++;
    }
  }

  counts(now: number): WindowCounts {
    this.#slide(now);
    return this.#counts;
  }

  clear(now: number): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#slow.fill(0);
    this.#counts.calls = 0;
    this.#counts.failures = 0;
    this.#counts.slow = 0;
    this.#head = Math.floor(now / this.#bucketMs);
  }

  /** Moves the window to `now`, emptying the buckets that fell out; returns the newest's slot. */
  #slide(now: number): number {
    const size = this.#calls.length;
    const index = Math.floor(now / this.#bucketMs);
    // A clock that stepped back keeps counting into the newest bucket.
    const steps = Math.min(index - this.#head, size);
    if (steps > 0) {
      for (let k = 1; k <= steps; k++) {
        const slot = mod(this.#head + k, size);
        this.#counts.calls -= this.#calls[slot] as number;
        this.#counts.failures -= this.#failures[slot] as number;
        this.#counts.slow -= this.#slow[slot] as number;
        this.#calls[slot] = 0;
        this.#failures[slot] = 0;
        this.#slow[slot] = 0;
      }
      this.#head = index;
    }
    return mod(this.#head, size);
  }
}

/** `a mod n` in 0..n-1, also for negative `a` (a clock before its epoch). */
function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
