/**
 * The base of every error Portcullis throws. Each subclass has a stable `code` string and a brand
 * property, so callers can branch on the failure without `instanceof` (which breaks when the ESM and
 * CJS builds of a package are both loaded).
 *
 * @example
 * ```ts
 * import { isPortcullisError } from '@portcullis/core';
 *
 * try {
 *   await guard(request);
 * } catch (error) {
 *   if (isPortcullisError(error)) console.warn(error.code, error.message);
 *   else throw error;
 * }
 * ```
 */
export class PortcullisError extends Error {
  /** Stable, documented identifier of the failure, e.g. `ERR_PORTCULLIS_INVALID_OPTION`. */
  readonly code: string;
  /** Brand checked by {@link isPortcullisError}. */
  readonly isPortcullisError = true as const;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * True when `value` is any Portcullis error, from whichever copy of the package created it.
 *
 * @example
 * ```ts
 * import { isPortcullisError, PortcullisError } from '@portcullis/core';
 *
 * isPortcullisError(new PortcullisError('ERR_X', 'boom')); // true
 * isPortcullisError(new Error('boom')); // false
 * ```
 */
export function isPortcullisError(value: unknown): value is PortcullisError {
  return hasBrand(value, 'isPortcullisError');
}

/**
 * Thrown by factories when an option is missing, of the wrong type or out of range. `option` names
 * the option (dotted for nested ones) and `value` is what was passed.
 *
 * @example
 * ```ts
 * import { InvalidOptionError, isInvalidOptionError } from '@portcullis/core';
 *
 * const error = new InvalidOptionError('timeoutMs', -1, 'a finite number >= 0');
 * isInvalidOptionError(error); // true
 * error.message; // 'Invalid option "timeoutMs": expected a finite number >= 0, got -1'
 * ```
 */
export class InvalidOptionError extends PortcullisError {
  /** Brand checked by {@link isInvalidOptionError}. */
  readonly isInvalidOptionError = true as const;
  /** The option's name, dotted for nested options (`stores.redis.timeoutMs`). */
  readonly option: string;
  /** The value that was rejected. */
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super(
      'ERR_PORTCULLIS_INVALID_OPTION',
      `Invalid option "${option}": expected ${expected}, got ${describeValue(value)}`,
    );
    this.option = option;
    this.value = value;
  }
}

/**
 * True when `value` is an {@link InvalidOptionError}.
 *
 * @example
 * ```ts
 * import { isInvalidOptionError, positiveInteger } from '@portcullis/core';
 *
 * try {
 *   positiveInteger(0, 'limit');
 * } catch (error) {
 *   isInvalidOptionError(error); // true
 * }
 * ```
 */
export function isInvalidOptionError(value: unknown): value is InvalidOptionError {
  return hasBrand(value, 'isInvalidOptionError');
}

/**
 * True when `value` is an object whose `brand` property is exactly `true`. Every `isXError` guard in
 * Portcullis is built on this.
 *
 * @example
 * ```ts
 * import { hasBrand } from '@portcullis/core';
 *
 * hasBrand({ isThing: true }, 'isThing'); // true
 * ```
 */
export function hasBrand(value: unknown, brand: string): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[brand] === true;
}

/** A short, safe rendering of a rejected value for error messages (bounded length). */
function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'function') text = 'a function';
  else if (typeof value === 'bigint') text = `${value.toString()}n`;
  else if (typeof value === 'symbol') text = value.toString();
  else if (value === undefined) text = 'undefined';
  else {
    try {
      const json = JSON.stringify(value) as string | undefined;
      text = json ?? Object.prototype.toString.call(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
    // JSON turns NaN and ±Infinity into null; show them as they are.
    if (typeof value === 'number') text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
