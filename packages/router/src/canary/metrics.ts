import * as hdr from 'hdr-histogram-js';

/** Durations above this (one hour) are recorded as one hour: the histogram's range, and its memory, are fixed. */
export const MAX_TRACKED_MS = 3_600_000;

/**
 * One variant's outcomes over one interval: request and error counts and a latency histogram.
 * The histogram is HdrHistogram (`hdr-histogram-js`): mergeable (`add`), serialisable
 * (compressed base64) for a shared store, fixed memory (~9 KB at 2 significant digits up to an hour),
 * 1 % value precision. (`@datadog/sketches-js`'s DDSketch was the other candidate; its package
 * requires `protobufjs` without declaring it, so it fails to load on a clean install.)
 */
export class VariantWindow {
  /** Requests counted. */
  requests = 0;
  /** Of which errors. */
  errors = 0;
  /** Latencies in whole milliseconds. */
  readonly latency: hdr.Histogram = hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKED_MS,
    numberOfSignificantValueDigits: 2,
    autoResize: false,
    useWebAssembly: false,
  });

  /** Counts one outcome. */
  record(isError: boolean, durationMs: number): void {
    this.requests++;
    if (isError) this.errors++;
    this.latency.recordValue(Math.min(MAX_TRACKED_MS, Math.round(durationMs)));
  }

  /** The error rate, 0 when there were no requests. */
  errorRate(): number {
    return this.requests === 0 ? 0 : this.errors / this.requests;
  }

  /** The latency at quantile `q` in (0, 1], in ms (0 when empty). */
  quantile(q: number): number {
    return this.requests === 0 ? 0 : this.latency.getValueAtPercentile(q * 100);
  }

  /** This window's latencies, serialised for a shared store (HdrHistogram's compressed base64). */
  serialiseLatency(): string {
    return hdr.encodeIntoCompressedBase64(this.latency);
  }

  /**
   * Adds another instance's counts and serialised latencies. A latency string that does not decode
   * is skipped and returned as `false` (the counts still count).
   */
  absorb(requests: number, errors: number, latencies: readonly string[]): boolean {
    this.requests += requests;
    this.errors += errors;
    let ok = true;
    for (const encoded of latencies) {
      try {
        this.latency.add(hdr.decodeFromCompressedBase64(encoded, 32, false));
      } catch {
        ok = false;
      }
    }
    return ok;
  }

  /** Empties the window for the next interval (no allocation). */
  reset(): void {
    this.requests = 0;
    this.errors = 0;
    this.latency.reset();
  }
}
