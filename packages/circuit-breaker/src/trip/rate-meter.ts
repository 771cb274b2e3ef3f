import type { OutcomeWindow } from './window.js';
import type { TripMeter, TripReading } from './types.js';

/**
 * Trips when, over its window, at least `minimumCalls` calls were seen and the share of bad ones
 * (failed, or slow: `countSlow`) reached `threshold`.
 */
export class RateMeter implements TripMeter {
  readonly #policy: string;
  readonly #window: OutcomeWindow;
  readonly #threshold: number;
  readonly #minimumCalls: number;
  /** Calls slower than this are slow; `Infinity` for a failure-rate policy. */
  readonly #slowCallMs: number;
  readonly #countSlow: boolean;

  constructor(policy: string, window: OutcomeWindow, threshold: number, minimumCalls: number, slowCallMs: number) {
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
    const bad = this.#countSlow ? counts.slow : counts.failures;
    return bad >= this.#threshold * counts.calls;
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
      threshold: this.#threshold,
      calls: counts.calls,
      minimumCalls: this.#minimumCalls,
    };
  }
}
