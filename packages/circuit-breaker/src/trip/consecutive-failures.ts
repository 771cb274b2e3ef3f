import { positiveInteger } from '@portcullis/core';
import type { TripMeter, TripPolicy, TripReading } from './types.js';

/**
 * Opens the breaker after `threshold` failures in a row (any success resets the streak): the
 * fastest signal of a hard-down upstream, and the cheapest policy (no clock, one counter).
 *
 * @param threshold - Failures in a row that open the breaker; a whole number >= 1.
 * @throws InvalidOptionError naming `threshold` when it is not a whole number >= 1.
 *
 * @example
 * ```ts
 * import { createBreaker, consecutiveFailures } from '@portcullis/circuit-breaker';
 *
 * const breaker = createBreaker({ name: 'orders', trip: consecutiveFailures(5) });
 * ```
 */
export function consecutiveFailures(threshold: number): TripPolicy {
  const limit = positiveInteger(threshold, 'threshold');
  return {
    name: 'consecutiveFailures',
    needsClock: false,
    slowCallMs: undefined,
    createMeter: () => new ConsecutiveMeter(limit),
  };
}

class ConsecutiveMeter implements TripMeter {
  readonly #threshold: number;
  #streak = 0;

  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  record(failed: boolean): boolean {
    if (!failed) {
      this.#streak = 0;
      return false;
    }
    return ++this.#streak >= this.#threshold;
  }

  reset(): void {
    this.#streak = 0;
  }

  read(): TripReading {
    return {
      policy: 'consecutiveFailures',
      value: this.#streak,
      threshold: this.#threshold,
      calls: this.#streak,
      minimumCalls: 1,
    };
  }
}
