/**
 * Thrown by the testkit when a test fixture cannot be set up or used: a binary is missing, a server
 * did not start, an operation needs a server the testkit started itself. `code` is stable, so a
 * test can branch on it; `isTestkitError` is a brand so the check survives duplicate copies of the
 * package.
 *
 * @example
 * ```ts
 * import { isTestkitError, startRedis } from '@portcullis/testkit';
 *
 * try {
 *   await startRedis();
 * } catch (error) {
 *   if (isTestkitError(error) && error.code === 'ERR_TESTKIT_BINARY_NOT_FOUND') console.warn(error.message);
 *   else throw error;
 * }
 * ```
 */
export class TestkitError extends Error {
  /** Stable identifier of the failure, e.g. `ERR_TESTKIT_BINARY_NOT_FOUND`. */
  readonly code: TestkitErrorCode;
  /** Brand checked by {@link isTestkitError}. */
  readonly isTestkitError = true as const;

  constructor(code: TestkitErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Every code a {@link TestkitError} can carry.
 *
 * - `ERR_TESTKIT_BINARY_NOT_FOUND`: `redis-server` or `redis-cli` is not installed / not on PATH.
 * - `ERR_TESTKIT_START_FAILED`: a server process exited or timed out before it was ready.
 * - `ERR_TESTKIT_EXTERNAL_SERVER`: a fault operation (`kill`, `restart`) on a `REDIS_URL` server.
 * - `ERR_TESTKIT_STOPPED`: the fixture was already stopped.
 * - `ERR_TESTKIT_INVALID_OPTION`: an option is out of range.
 *
 * @example
 * ```ts
 * import type { TestkitErrorCode } from '@portcullis/testkit';
 *
 * const code: TestkitErrorCode = 'ERR_TESTKIT_START_FAILED';
 * ```
 */
export type TestkitErrorCode =
  | 'ERR_TESTKIT_BINARY_NOT_FOUND'
  | 'ERR_TESTKIT_START_FAILED'
  | 'ERR_TESTKIT_EXTERNAL_SERVER'
  | 'ERR_TESTKIT_STOPPED'
  | 'ERR_TESTKIT_INVALID_OPTION';

/**
 * True when `value` is a {@link TestkitError}, from whichever copy of the package created it.
 *
 * @example
 * ```ts
 * import { isTestkitError, TestkitError } from '@portcullis/testkit';
 *
 * isTestkitError(new TestkitError('ERR_TESTKIT_STOPPED', 'stopped')); // true
 * isTestkitError(new Error('boom')); // false
 * ```
 */
export function isTestkitError(value: unknown): value is TestkitError {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)['isTestkitError'] === true;
}
