import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * The reason a check's signal is aborted with when it runs past its `timeoutMs` (code
 * `ERR_PORTCULLIS_HEALTH_CHECK_TIMEOUT`). The run counts as failed (`reason: 'timeout'`).
 *
 * @example
 * ```ts
 * import { isCheckTimeoutError, type CheckFunction } from '@portcullis/health';
 *
 * const check: CheckFunction = (signal) =>
 *   new Promise((resolve) => {
 *     signal.addEventListener('abort', () => {
 *       if (isCheckTimeoutError(signal.reason)) console.log('gave up after', signal.reason.timeoutMs, 'ms');
 *       resolve('fail');
 *     });
 *   });
 * ```
 */
export class CheckTimeoutError extends PortcullisError {
  /** Brand checked by {@link isCheckTimeoutError}. */
  readonly isCheckTimeoutError = true as const;
  /** The check's name. */
  readonly check: string;
  /** Its timeout. */
  readonly timeoutMs: number;

  constructor(check: string, timeoutMs: number) {
    super('ERR_PORTCULLIS_HEALTH_CHECK_TIMEOUT', `check "${check}" timed out after ${String(timeoutMs)} ms`);
    this.check = check;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * True when `value` is a {@link CheckTimeoutError}, from whichever copy of the package made it.
 *
 * @example
 * ```ts
 * import { CheckTimeoutError, isCheckTimeoutError } from '@portcullis/health';
 *
 * isCheckTimeoutError(new CheckTimeoutError('db', 800)); // true
 * ```
 */
export function isCheckTimeoutError(value: unknown): value is CheckTimeoutError {
  return hasBrand(value, 'isCheckTimeoutError');
}

/**
 * Thrown by `health.register()` when a check of that name is already registered (code
 * `ERR_PORTCULLIS_HEALTH_DUPLICATE_CHECK`).
 *
 * @example
 * ```ts
 * import { createHealth, isDuplicateCheckError } from '@portcullis/health';
 *
 * const health = createHealth();
 * health.register({ name: 'db', check: () => 'pass' });
 * try {
 *   health.register({ name: 'db', check: () => 'pass' });
 * } catch (error) {
 *   isDuplicateCheckError(error); // true
 * }
 * ```
 */
export class DuplicateCheckError extends PortcullisError {
  /** Brand checked by {@link isDuplicateCheckError}. */
  readonly isDuplicateCheckError = true as const;
  /** The name registered twice. */
  readonly check: string;

  constructor(check: string) {
    super('ERR_PORTCULLIS_HEALTH_DUPLICATE_CHECK', `a check named "${check}" is already registered`);
    this.check = check;
  }
}

/**
 * True when `value` is a {@link DuplicateCheckError}.
 *
 * @example
 * ```ts
 * import { DuplicateCheckError, isDuplicateCheckError } from '@portcullis/health';
 *
 * isDuplicateCheckError(new DuplicateCheckError('db')); // true
 * ```
 */
export function isDuplicateCheckError(value: unknown): value is DuplicateCheckError {
  return hasBrand(value, 'isDuplicateCheckError');
}
