/**
 * True when `value` has a `then` method. Guards may return any thenable, not only native promises,
 * so adapters test for the method rather than `instanceof Promise`.
 */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
