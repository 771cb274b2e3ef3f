import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * A request path the router refuses to route (answered `400 Bad Request`): it is not in a form
 * every upstream reads the same way (an encoded `/`, `\` or control character, a malformed
 * percent-escape, a `..` above the root, a path not starting with `/`). `reason` says which rule.
 *
 * @example
 * ```ts
 * import { canonicalPath, isInvalidPathError } from '@portcullis/router';
 *
 * try {
 *   canonicalPath('/public/..%2Finternal');
 * } catch (error) {
 *   isInvalidPathError(error); // true
 * }
 * ```
 */
export class InvalidPathError extends PortcullisError {
  /** Brand checked by {@link isInvalidPathError}. */
  readonly isInvalidPathError = true as const;
  /** Which rule of the canonical form the path breaks, for a human. */
  readonly reason: string;
  constructor(reason: string) {
    super('ERR_PORTCULLIS_ROUTER_INVALID_PATH', `Invalid request path: ${reason}`);
    this.reason = reason;
  }
}

/**
 * True when `value` is an {@link InvalidPathError}.
 *
 * @example
 * ```ts
 * import { isInvalidPathError } from '@portcullis/router';
 *
 * isInvalidPathError(new Error('x')); // false
 * ```
 */
export function isInvalidPathError(value: unknown): value is InvalidPathError {
  return hasBrand(value, 'isInvalidPathError');
}

/**
 * A route table holding two routes that no request could tell apart (same methods, same path
 * shape, same host, version and predicates): thrown by `createRouteTable`, naming both.
 *
 * @example
 * ```ts
 * import { createRouteTable, isAmbiguousRoutesError } from '@portcullis/router';
 *
 * try {
 *   createRouteTable([
 *     { name: 'by-id', path: '/users/:id' },
 *     { name: 'by-name', path: '/users/:name' },
 *   ]);
 * } catch (error) {
 *   if (isAmbiguousRoutesError(error)) console.log(error.first, error.second); // 'by-id' 'by-name'
 * }
 * ```
 */
export class AmbiguousRoutesError extends PortcullisError {
  /** Brand checked by {@link isAmbiguousRoutesError}. */
  readonly isAmbiguousRoutesError = true as const;
  /** The name of the route declared first. */
  readonly first: string;
  /** The name of the route declared second. */
  readonly second: string;
  constructor(first: string, second: string, overlap: string) {
    super(
      'ERR_PORTCULLIS_ROUTER_AMBIGUOUS_ROUTES',
      `Routes "${first}" and "${second}" cannot be told apart by any request (${overlap})`,
    );
    this.first = first;
    this.second = second;
  }
}

/**
 * True when `value` is an {@link AmbiguousRoutesError}.
 *
 * @example
 * ```ts
 * import { isAmbiguousRoutesError } from '@portcullis/router';
 *
 * isAmbiguousRoutesError(new Error('x')); // false
 * ```
 */
export function isAmbiguousRoutesError(value: unknown): value is AmbiguousRoutesError {
  return hasBrand(value, 'isAmbiguousRoutesError');
}
