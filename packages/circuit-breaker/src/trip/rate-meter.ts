import type { DecimalRatio } from '../decimal-ratio.js';
import type { OutcomeWindow } from './window.js';
import type { TripMeter, TripReading } from './types.js';

/**
 * Trips when, over its window, at least `minimumCalls` calls were seen and the share of bad ones
 * (failed, or slow: `countSlow`) reached `threshold`, compared exactly (`bad / calls ≥
 * threshold` with the threshold as the decimal it was written as: 7 of 100 reach 0.07).
 */
export class RateMeter implements TripMeter {
  readonly #policy: string;
  readonly #window: OutcomeWindow;
  readonly #threshold: DecimalRatio;
  readonly #minimumCalls: number;
  /** Calls slower than this are slow; `Infinity` for a failure-rate policy. */
  readonly #slowCallMs: number;
  readonly #countSlow: boolean;

  /**
   * @param minimumCalls - Already capped at the window's capacity (a count window of 10 calls
   *   can never hold 20).
   */
  constructor(
    policy: string,
    window: OutcomeWindow,
    threshold: DecimalRatio,
    minimumCalls: number,
    slowCallMs: number,
  ) {
    this.#policy = policy;
    this.#window = window;
    this.#threshold = threshold;
    this.#minimumCalls = minimumCalls;
    this.#slowCallMs = slowCallMs;
    this.#countSlow = Number.isFinite(slowCallMs);
  }

  record(failed: boolean, durationMs: number, now: number): boolean {
    const window = this.#window;
    window.add(failed, durationMs > this.#slowCallMs, now);
    const counts = window.counts(now);
    if (counts.calls < this.#minimumCalls) return false;
    return this.#threshold.compare(this.#countSlow ? counts.slow : counts.failures, counts.calls) >= 0;
  }

  reset(now: number): void {
    this.#window.clear(now);
  }

  read(now: number): TripReading {
    const counts = this.#window.counts(now);
    const bad = this.#countSlow ? counts.slow : counts.failures;
    return {
      policy: this.#policy,
      value: counts.calls === 0 ? 0 : bad / counts.calls,
      threshold: this.#threshold.value,
      calls: counts.calls,
      minimumCalls: this.#minimumCalls,
    };
  }
}
