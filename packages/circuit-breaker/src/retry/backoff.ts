import { finiteNumber, InvalidOptionError, oneOf, positiveNumber } from '@portcullis/core';

/**
 * How retry delays are randomised, after Marc Brooker's "Exponential Backoff and Jitter" (AWS
 * Architecture Blog, 2015), with `exp(n) = min(maxMs, initialMs × multiplier^n)` for the n-th retry
 * (n from 0):
 *
 * - `'none'`: `exp(n)`. Synchronised clients retry together: avoid in fleets.
 * - `'full'`: uniform in `[0, exp(n)]`. Least total work; the default.
 * - `'equal'`: `exp(n) / 2` plus uniform in `[0, exp(n) / 2]`: never retries at once.
 * - `'decorrelated'`: `min(maxMs, uniform in [initialMs, previous × 3])`, previous starting at
 *   `initialMs`: grows from the last delay rather than the attempt count.
 *
 * @example
 * ```ts
 * import { retry, type Jitter } from '@portcullis/circuit-breaker';
 *
 * const jitter: Jitter = 'decorrelated';
 * const policy = retry({ backoff: { initialMs: 100, maxMs: 5_000, jitter } });
 * ```
 */
export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

const JITTERS: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];

/**
 * Options of the retry backoff.
 *
 * @example
 * ```ts
 * import type { BackoffOptions } from '@portcullis/circuit-breaker';
 *
 * // 100, 200, 400 ms (before jitter), never more than 2 s.
 * const backoff: BackoffOptions = { initialMs: 100, multiplier: 2, maxMs: 2_000, jitter: 'full' };
 * ```
 */
export interface BackoffOptions {
  /** The base delay, in ms (finite, > 0). Default 100. */
  initialMs?: number | undefined;
  /** Growth per retry (finite, >= 1). Default 2. */
  multiplier?: number | undefined;
  /**
   * The cap on any delay, in ms (finite, >= initialMs). Default 10000. Delays beyond
   * `setTimeout`'s limit (2^31 − 1 ms, about 24.8 days) are honoured (a chain of timers).
   */
  maxMs?: number | undefined;
  /** See {@link Jitter}. Default `'full'`. */
  jitter?: Jitter | undefined;
}

/**
 * A retry policy's backoff settings, validated and defaulted (`policy.backoff`).
 *
 * @example
 * ```ts
 * import { retry } from '@portcullis/circuit-breaker';
 *
 * retry({ backoff: { initialMs: 200 } }).backoff; // { initialMs: 200, multiplier: 2, maxMs: 10000, jitter: 'full' }
 * ```
 */
export interface Backoff {
  /** The base delay, in ms. */
  readonly initialMs: number;
  /** Growth per retry. */
  readonly multiplier: number;
  /** The cap on any delay, in ms. */
  readonly maxMs: number;
  /** See {@link Jitter}. */
  readonly jitter: Jitter;
}

/** Validates {@link BackoffOptions} (names start with `backoff.`) and applies the defaults. */
export function resolveBackoff(options: BackoffOptions | undefined): Backoff {
  const o: unknown = options ?? {};
  if (typeof o !== 'object' || o === null) throw new InvalidOptionError('backoff', o, 'an object');
  const { initialMs, multiplier, maxMs, jitter } = o as BackoffOptions;
  const initial = positiveNumber(initialMs ?? 100, 'backoff.initialMs');
  const max = finiteNumber(maxMs ?? Math.max(10_000, initial), 'backoff.maxMs', { min: initial });
  return {
    initialMs: initial,
    multiplier: finiteNumber(multiplier ?? 2, 'backoff.multiplier', { min: 1 }),
    maxMs: max,
    jitter: oneOf(jitter ?? 'full', JITTERS, 'backoff.jitter'),
  };
}

/**
 * The delay before retry number `retry` (0 for the first retry), given the previous delay (for
 * decorrelated jitter; `initialMs` before the first) and a uniform random number in [0, 1).
 */
export function backoffDelay(backoff: Backoff, retry: number, previousMs: number, random: number): number {
  const { initialMs, multiplier, maxMs, jitter } = backoff;
  if (jitter === 'decorrelated') {
    const upper = Math.max(initialMs, previousMs * 3);
    return Math.min(maxMs, initialMs + random * (upper - initialMs));
  }
  const exp = Math.min(maxMs, initialMs * multiplier ** retry);
  switch (jitter) {
    case 'none':
      return exp;
    case 'full':
      return random * exp;
    case 'equal':
      return exp / 2 + (random * exp) / 2;
  }
}
