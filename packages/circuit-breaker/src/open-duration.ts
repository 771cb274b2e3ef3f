import { duration, finiteNumber, InvalidOptionError, positiveNumber } from '@portcullis/core';

/**
 * How long a breaker stays open before it lets a probe through: a fixed number of ms, or growing
 * with each consecutive open (a probe that fails opens the breaker again, for longer), capped:
 * the n-th consecutive open lasts `min(maxMs, initialMs × multiplier^(n-1))`. The count of
 * consecutive opens resets when the breaker closes.
 *
 * @example
 * ```ts
 * import type { OpenDuration } from '@portcullis/circuit-breaker';
 *
 * const fixed: OpenDuration = 30_000;
 * // 5 s, 10 s, 20 s, 40 s, then 60 s for as long as probes keep failing.
 * const growing: OpenDuration = { initialMs: 5_000, multiplier: 2, maxMs: 60_000 };
 * ```
 */
export type OpenDuration =
  | number
  | {
      /** The first open period, in ms (finite, > 0). */
      readonly initialMs: number;
      /** Factor applied per consecutive open (finite, >= 1). Default 2. */
      readonly multiplier?: number | undefined;
      /** The longest open period, in ms (finite, >= initialMs). */
      readonly maxMs: number;
    };

/** Validates an {@link OpenDuration}; returns the duration of the n-th consecutive open (n >= 1). */
export function openDurationFn(value: OpenDuration | undefined, option: string): (opens: number) => number {
  const spec: unknown = value ?? 30_000;
  if (typeof spec === 'number') {
    const ms = positiveNumber(spec, option);
    return () => ms;
  }
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidOptionError(option, spec, 'a duration in ms or { initialMs, multiplier?, maxMs }');
  }
  const { initialMs, multiplier, maxMs } = spec as { initialMs?: unknown; multiplier?: unknown; maxMs?: unknown };
  const initial = positiveNumber(initialMs, `${option}.initialMs`);
  const factor = finiteNumber(multiplier ?? 2, `${option}.multiplier`, { min: 1 });
  const max = duration(maxMs, `${option}.maxMs`);
  if (max < initial) throw new InvalidOptionError(`${option}.maxMs`, maxMs, `a duration >= initialMs (${initial})`);
  return (opens) => Math.min(max, initial * factor ** (opens - 1));
}
