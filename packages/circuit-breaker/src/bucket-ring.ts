/**
 * Counters per time bucket in a ring, with running totals: bucket `k` holds what happened in
 * `[k × bucketMs, (k + 1) × bucketMs)`, and the totals cover the newest `size` buckets, so the
 * window slides a bucket at a time. Fixed size; O(1) amortised per operation. Shared by the
 * time-based trip windows (calls, failures, slow calls) and the retry budget (calls, retries).
 */
export class BucketRing {
  /** Running total of each series over the window (read after {@link BucketRing.slide}). */
  readonly totals: Uint32Array;
  readonly #counters: Uint32Array;
  readonly #series: number;
  readonly #size: number;
  readonly #bucketMs: number;
  /** Absolute index of the newest bucket. */
  #head: number;

  constructor(series: number, size: number, bucketMs: number, now: number) {
    this.#series = series;
    this.#size = size;
    this.#bucketMs = bucketMs;
    this.totals = new Uint32Array(series);
    this.#counters = new Uint32Array(series * size);
    this.#head = Math.floor(now / bucketMs);
  }

  /** Moves the window to `now`, emptying the buckets that fell out; returns the newest bucket. */
  slide(now: number): number {
    const size = this.#size;
    const index = Math.floor(now / this.#bucketMs);
    // A clock that stepped back keeps counting into the newest bucket.
    const steps = Math.min(index - this.#head, size);
    if (steps > 0) {
      const series = this.#series;
      const counters = this.#counters;
      const totals = this.totals;
      for (let k = 1; k <= steps; k++) {
        const base = mod(this.#head + k, size) * series;
        for (let s = 0; s < series; s++) {
          totals[s] = (totals[s] as number) - (counters[base + s] as number);
          counters[base + s] = 0;
        }
      }
      this.#head = index;
    }
    return mod(this.#head, size);
  }

  /** Counts one in `series` of `bucket` (from {@link BucketRing.slide}). */
  add(bucket: number, series: number): void {
    const at = bucket * this.#series + series;
    this.#counters[at] = (this.#counters[at] as number) + 1;
    this.totals[series] = (this.totals[series] as number) + 1;
  }

  /** Empties every bucket; the newest is the one holding `now`. */
  clear(now: number): void {
    this.#counters.fill(0);
    this.totals.fill(0);
    this.#head = Math.floor(now / this.#bucketMs);
  }
}

/** `a mod n` in 0..n-1, also for negative `a` (a clock before its epoch). */
function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
