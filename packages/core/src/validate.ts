import { InvalidOptionError } from './errors.js';

/**
 * Option validators. Each returns the value, typed, or throws an {@link InvalidOptionError} naming
 * the option and the rejected value. Factories call them once, at the top, with the default applied:
 *
 * @example
 * ```ts
 * import { duration, positiveInteger } from '@portcullis/core';
 *
 * function createThing(options: { timeoutMs?: number; limit: number }) {
 *   const timeoutMs = duration(options.timeoutMs ?? 50, 'timeoutMs');
 *   const limit = positiveInteger(options.limit, 'limit');
 *   return { timeoutMs, limit };
 * }
 * ```
 * @module
 */

/** Bounds for {@link finiteNumber}. */
export interface NumberBounds {
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** When true, `min` itself is not allowed. */
  minExclusive?: boolean;
  /** When true, only whole numbers are allowed. */
  integer?: boolean;
}

/**
 * A finite number within optional bounds.
 *
 * @example
 * ```ts
 * import { finiteNumber } from '@portcullis/core';
 *
 * finiteNumber(0.5, 'jitter', { min: 0, max: 1 }); // 0.5
 * ```
 */
export function finiteNumber(value: unknown, option: string, bounds: NumberBounds = {}): number {
  const { min, max, minExclusive = false, integer = false } = bounds;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (min === undefined || (minExclusive ? value > min : value >= min)) &&
    (max === undefined || value <= max);
  if (!ok) throw new InvalidOptionError(option, value, describeBounds(bounds));
  return value;
}

/**
 * A whole number > 0 (a limit, a capacity, a count of probes).
 *
 * @example
 * ```ts
 * import { positiveInteger } from '@portcullis/core';
 *
 * positiveInteger(100, 'limit'); // 100
 * ```
 */
export function positiveInteger(value: unknown, option: string): number {
  return finiteNumber(value, option, { min: 1, integer: true });
}

/**
 * A whole number >= 0.
 *
 * @example
 * ```ts
 * import { nonNegativeInteger } from '@portcullis/core';
 *
 * nonNegativeInteger(0, 'maxRetries'); // 0
 * ```
 */
export function nonNegativeInteger(value: unknown, option: string): number {
  return finiteNumber(value, option, { min: 0, integer: true });
}

/**
 * A finite number > 0 (a rate, a weight).
 *
 * @example
 * ```ts
 * import { positiveNumber } from '@portcullis/core';
 *
 * positiveNumber(2.5, 'refillPerSecond'); // 2.5
 * ```
 */
export function positiveNumber(value: unknown, option: string): number {
  return finiteNumber(value, option, { min: 0, minExclusive: true });
}

/**
 * A duration in milliseconds: finite and >= 0.
 *
 * @example
 * ```ts
 * import { duration } from '@portcullis/core';
 *
 * duration(30_000, 'cooldownMs'); // 30000
 * ```
 */
export function duration(value: unknown, option: string): number {
  return finiteNumber(value, option, { min: 0 });
}

/**
 * A ratio in [0, 1] (a failure rate, a percentage as a fraction).
 *
 * @example
 * ```ts
 * import { ratio } from '@portcullis/core';
 *
 * ratio(0.5, 'failureRateThreshold'); // 0.5
 * ```
 */
export function ratio(value: unknown, option: string): number {
  return finiteNumber(value, option, { min: 0, max: 1 });
}

/**
 * One of a fixed set of strings.
 *
 * @example
 * ```ts
 * import { oneOf } from '@portcullis/core';
 *
 * oneOf('closed', ['open', 'closed'] as const, 'failMode'); // 'closed'
 * ```
 */
export function oneOf<const T extends string>(value: unknown, allowed: readonly T[], option: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidOptionError(option, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  return value as T;
}

/**
 * A function.
 *
 * @typeParam F - The function's own type, returned unchanged.
 *
 * @example
 * ```ts
 * import { isFunctionOption } from '@portcullis/core';
 *
 * const keyOf = isFunctionOption((req: { ip?: string }) => req.ip ?? '', 'key');
 * ```
 */
export function isFunctionOption<F extends (...args: never[]) => unknown>(value: F, option: string): F {
  if (typeof value !== 'function') throw new InvalidOptionError(option, value, 'a function');
  return value;
}

/**
 * A non-empty string of at most `maxLength` characters.
 *
 * @example
 * ```ts
 * import { nonEmptyString } from '@portcullis/core';
 *
 * nonEmptyString('tenant-a', 'prefix'); // 'tenant-a'
 * ```
 */
export function nonEmptyString(value: unknown, option: string, maxLength = 1024): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new InvalidOptionError(option, value, `a non-empty string of at most ${String(maxLength)} characters`);
  }
  return value;
}

function describeBounds({ min, max, minExclusive = false, integer = false }: NumberBounds): string {
  const kind = integer ? 'an integer' : 'a finite number';
  const parts: string[] = [];
  if (min !== undefined) parts.push(`${minExclusive ? '>' : '>='} ${String(min)}`);
  if (max !== undefined) parts.push(`<= ${String(max)}`);
  return parts.length === 0 ? kind : `${kind} ${parts.join(' and ')}`;
}
