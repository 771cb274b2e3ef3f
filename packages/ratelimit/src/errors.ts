import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * A rate-limit key that cannot be used: empty or not a string. (Over-long keys are not an error:
 * they are hashed to a fixed length.)
 *
 * @example
 * ```ts
 * import { isInvalidKeyError } from '@portcullis/ratelimit';
 *
 * try {
 *   await limiter.limit('');
 * } catch (error) {
 *   isInvalidKeyError(error); // true
 * }
 * ```
 */
export class InvalidKeyError extends PortcullisError {
  /** Brand checked by {@link isInvalidKeyError}. */
  readonly isInvalidKeyError = true as const;
  constructor(message: string) {
    super('ERR_PORTCULLIS_RATELIMIT_INVALID_KEY', message);
  }
}

/**
 * True when `value` is an {@link InvalidKeyError}.
 *
 * @example
 * ```ts
 * import { isInvalidKeyError } from '@portcullis/ratelimit';
 *
 * isInvalidKeyError(new Error('x')); // false
 * ```
 */
export function isInvalidKeyError(value: unknown): value is InvalidKeyError {
  return hasBrand(value, 'isInvalidKeyError');
}

/**
 * A cost that cannot be charged: negative, not finite, or (for a sliding log) not a whole number.
 *
 * @example
 * ```ts
 * import { isInvalidCostError } from '@portcullis/ratelimit';
 *
 * try {
 *   await limiter.limit('user:1', { cost: -1 });
 * } catch (error) {
 *   isInvalidCostError(error); // true
 * }
 * ```
 */
export class InvalidCostError extends PortcullisError {
  /** Brand checked by {@link isInvalidCostError}. */
  readonly isInvalidCostError = true as const;
  /** The rejected cost. */
  readonly cost: unknown;
  constructor(cost: unknown, expected: string) {
    super('ERR_PORTCULLIS_RATELIMIT_INVALID_COST', `Invalid cost: expected ${expected}, got ${String(cost)}`);
    this.cost = cost;
  }
}

/**
 * True when `value` is an {@link InvalidCostError}.
 *
 * @example
 * ```ts
 * import { isInvalidCostError } from '@portcullis/ratelimit';
 *
 * isInvalidCostError(new Error('x')); // false
 * ```
 */
export function isInvalidCostError(value: unknown): value is InvalidCostError {
  return hasBrand(value, 'isInvalidCostError');
}

/**
 * The store did not answer in time (see the limiter's `timeoutMs`). Reported through the limiter's
 * `storeError` event; decisions then follow the fail mode.
 *
 * @example
 * ```ts
 * import { isStoreTimeoutError } from '@portcullis/ratelimit';
 *
 * limiter.events.on('storeError', ({ error }) => {
 *   if (isStoreTimeoutError(error)) metrics.increment('ratelimit.store_timeout');
 * });
 * ```
 */
export class StoreTimeoutError extends PortcullisError {
  /** Brand checked by {@link isStoreTimeoutError}. */
  readonly isStoreTimeoutError = true as const;
  constructor(timeoutMs: number) {
    super(
      'ERR_PORTCULLIS_RATELIMIT_STORE_TIMEOUT',
      `The rate-limit store did not answer within ${String(timeoutMs)} ms`,
    );
  }
}

/**
 * True when `value` is a {@link StoreTimeoutError}.
 *
 * @example
 * ```ts
 * import { isStoreTimeoutError } from '@portcullis/ratelimit';
 *
 * isStoreTimeoutError(new Error('x')); // false
 * ```
 */
export function isStoreTimeoutError(value: unknown): value is StoreTimeoutError {
  return hasBrand(value, 'isStoreTimeoutError');
}

/**
 * A call named a tier the limiter does not have (for example a plan name from a token that no
 * policy was configured for). The HTTP guard answers it with a 400.
 *
 * @example
 * ```ts
 * import { isUnknownTierError } from '@portcullis/ratelimit';
 *
 * try {
 *   await limiter.limit('user:1', { tier: 'platinum' });
 * } catch (error) {
 *   if (isUnknownTierError(error)) console.warn(`no policy for tier ${error.tier}`);
 * }
 * ```
 */
export class UnknownTierError extends PortcullisError {
  /** Brand checked by {@link isUnknownTierError}. */
  readonly isUnknownTierError = true as const;
  /** The tier asked for. */
  readonly tier: string;
  constructor(tier: string, known: readonly string[]) {
    super(
      'ERR_PORTCULLIS_RATELIMIT_UNKNOWN_TIER',
      `Unknown rate-limit tier ${JSON.stringify(tier).slice(0, 80)}: expected one of ${known.join(', ')}`,
    );
    this.tier = tier;
  }
}

/**
 * True when `value` is an {@link UnknownTierError}.
 *
 * @example
 * ```ts
 * import { isUnknownTierError } from '@portcullis/ratelimit';
 *
 * isUnknownTierError(new Error('x')); // false
 * ```
 */
export function isUnknownTierError(value: unknown): value is UnknownTierError {
  return hasBrand(value, 'isUnknownTierError');
}
