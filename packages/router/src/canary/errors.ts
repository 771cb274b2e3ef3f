import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * An outcome the canary cannot count: a status that is not an HTTP status (an integer from 100 to
 * 599) or a duration that is not a finite number of milliseconds >= 0.
 *
 * @example
 * ```ts
 * import { isInvalidOutcomeError } from '@portcullis/router';
 *
 * try {
 *   canary.record('canary', { status: 200, durationMs: Number.NaN });
 * } catch (error) {
 *   isInvalidOutcomeError(error); // true
 * }
 * ```
 */
export class InvalidOutcomeError extends PortcullisError {
  /** Brand checked by {@link isInvalidOutcomeError}. */
  readonly isInvalidOutcomeError = true as const;
  /** The rejected outcome. */
  readonly outcome: unknown;
  constructor(outcome: unknown, message: string) {
    super('ERR_PORTCULLIS_ROUTER_INVALID_OUTCOME', message);
    this.outcome = outcome;
  }
}

/**
 * True when `value` is an {@link InvalidOutcomeError}.
 *
 * @example
 * ```ts
 * import { isInvalidOutcomeError } from '@portcullis/router';
 *
 * isInvalidOutcomeError(new Error('x')); // false
 * ```
 */
export function isInvalidOutcomeError(value: unknown): value is InvalidOutcomeError {
  return hasBrand(value, 'isInvalidOutcomeError');
}
