import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * An asynchronous flag source did not answer within the split's `flagTimeoutMs`: the flag counted
 * as off for that request. Reported through the split's `onFlagError`, never thrown to a caller.
 *
 * @example
 * ```ts
 * import { createSplit, isFlagTimeoutError } from '@portcullis/router';
 *
 * const split = createSplit({
 *   name: 'checkout',
 *   variants: [{ name: 'stable', weight: 100 }, { name: 'beta', flag: 'new-checkout' }],
 *   flags,
 *   onFlagError: ({ error }) => {
 *     if (isFlagTimeoutError(error)) metrics.increment('flags.timeout');
 *   },
 * });
 * ```
 */
export class FlagTimeoutError extends PortcullisError {
  /** Brand checked by {@link isFlagTimeoutError}. */
  readonly isFlagTimeoutError = true as const;
  /** The flag that had no answer. */
  readonly flag: string;
  /** The wait that ran out, in ms. */
  readonly timeoutMs: number;
  constructor(flag: string, timeoutMs: number) {
    super(
      'ERR_PORTCULLIS_ROUTER_FLAG_TIMEOUT',
      `Feature flag "${flag}" had no answer within ${String(timeoutMs)} ms; it counts as off`,
    );
    this.flag = flag;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * True when `value` is a {@link FlagTimeoutError}.
 *
 * @example
 * ```ts
 * import { isFlagTimeoutError } from '@portcullis/router';
 *
 * isFlagTimeoutError(new Error('x')); // false
 * ```
 */
export function isFlagTimeoutError(value: unknown): value is FlagTimeoutError {
  return hasBrand(value, 'isFlagTimeoutError');
}

/**
 * A flag provider answered a flag with an error (OpenFeature's `errorCode`: `FLAG_NOT_FOUND`,
 * `PROVIDER_NOT_READY`, `GENERAL` for a provider that threw…): the flag counted as off for that
 * request. Reported through the split's `onFlagError`, never thrown to a caller.
 *
 * @example
 * ```ts
 * import { isFlagEvaluationError } from '@portcullis/router';
 *
 * const onFlagError = ({ error }: { error: unknown }) => {
 *   if (isFlagEvaluationError(error) && error.errorCode === 'FLAG_NOT_FOUND') alert(error.flag);
 * };
 * ```
 */
export class FlagEvaluationError extends PortcullisError {
  /** Brand checked by {@link isFlagEvaluationError}. */
  readonly isFlagEvaluationError = true as const;
  /** The flag that failed. */
  readonly flag: string;
  /** The provider's error code (OpenFeature's `ErrorCode`, e.g. `FLAG_NOT_FOUND`). */
  readonly errorCode: string;
  constructor(flag: string, errorCode: string, detail: string | undefined) {
    super(
      'ERR_PORTCULLIS_ROUTER_FLAG_EVALUATION',
      `Feature flag "${flag}" failed to evaluate (${errorCode}${detail === undefined ? '' : `: ${detail}`}); it counts as off`,
    );
    this.flag = flag;
    this.errorCode = errorCode;
  }
}

/**
 * True when `value` is a {@link FlagEvaluationError}.
 *
 * @example
 * ```ts
 * import { isFlagEvaluationError } from '@portcullis/router';
 *
 * isFlagEvaluationError(new Error('x')); // false
 * ```
 */
export function isFlagEvaluationError(value: unknown): value is FlagEvaluationError {
  return hasBrand(value, 'isFlagEvaluationError');
}
