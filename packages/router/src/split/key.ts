import type { GatewayRequest, GuardContext } from '@portcullis/core';
import { isFunctionOption, lowerCaseHeader, nonEmptyString } from '@portcullis/core';
import { parseCookie } from 'cookie';

/** Reads a split key from a request; `undefined` when the request carries none. */
export type KeyFunction = (req: GatewayRequest) => string | undefined;

/** Where {@link stickyKey} looks for a request's key, in this order. */
export interface StickyKeyOptions {
  /**
   * Reads the user id from the context earlier guards set (e.g. `(ctx) => ctx.jwt?.payload.sub`);
   * a string or a finite number counts. Default: none.
   */
  user?: ((context: GuardContext) => unknown) | undefined;
  /** A cookie that holds a stable visitor id. Default: none. */
  cookie?: string | undefined;
  /** A header that holds a stable id (e.g. `x-user-id` set by a trusted edge). Default: none. */
  header?: string | undefined;
  /** Whether the client IP is the last resort. Default is true. */
  ip?: boolean | undefined;
}

/** Keys are hashed in time linear in their length; longer ones are cut here, which only merges buckets. */
export const MAX_KEY_LENGTH = 512;

/**
 * A key function that tries the user id from the context, then a cookie, then a header, then the
 * client IP, and returns the first non-empty one (cut to {@link MAX_KEY_LENGTH} characters).
 *
 * @example
 * ```ts
 * import { stickyKey } from '@portcullis/router';
 *
 * const key = stickyKey({ user: (ctx) => ctx.user, cookie: 'vid' });
 * ```
 */
export function stickyKey(options: StickyKeyOptions = {}): KeyFunction {
  const user = options.user === undefined ? undefined : isFunctionOption(options.user, 'user');
  const cookie = options.cookie === undefined ? undefined : nonEmptyString(options.cookie, 'cookie', 256);
  const header = options.header === undefined ? undefined : nonEmptyString(options.header, 'header', 256).toLowerCase();
  const ip = options.ip ?? true;
  return function splitKey(req: GatewayRequest): string | undefined {
    if (user !== undefined) {
      const id = user(req.context);
      if (typeof id === 'string' && id !== '') return bounded(id);
      if (typeof id === 'number' && Number.isFinite(id)) return String(id);
    }
    if (cookie !== undefined) {
      const value = readCookie(req, cookie);
      if (value !== undefined && value !== '') return bounded(value);
    }
    if (header !== undefined) {
      const value = lowerCaseHeader(req, header);
      if (value !== undefined && value !== '') return bounded(value);
    }
    if (ip && req.ip !== undefined && req.ip !== '') return req.ip;
    return undefined;
  };
}

/**
 * The value of cookie `name` on `req`, parsed with the `cookie` package; `undefined` when absent.
 *
 * @example
 * ```ts
 * readCookie(req, 'vid'); // 'a1b2' for `Cookie: vid=a1b2; theme=dark`
 * ```
 */
export function readCookie(req: GatewayRequest, name: string): string | undefined {
  const header = lowerCaseHeader(req, 'cookie');
  if (header === undefined || !header.includes(name)) return undefined;
  return parseCookie(header)[name];
}

function bounded(key: string): string {
  return key.length > MAX_KEY_LENGTH ? key.slice(0, MAX_KEY_LENGTH) : key;
}
