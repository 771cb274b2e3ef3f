import { createHash } from 'node:crypto';
import { InvalidOptionError, type GatewayRequest } from '@portcullis/core';
import { InvalidKeyError } from '../errors.js';
import { ipKey } from './ip-key.js';

/**
 * What identifies the client a limit applies to:
 *
 * - `'ip'`: the client address (`req.ip`, after the framework's trust-proxy rules), keyed by
 *   {@link ipKey} so an IPv6 client counts per network prefix.
 * - `{ header: 'x-api-key' }`: the value of a request header. Such a value is usually a credential,
 *   so it is keyed by its SHA-256 (`#` + base64url) unless `hash: false`: the raw value never
 *   reaches Redis key names, events or logs of keys (anyone who can list keys or run MONITOR would
 *   otherwise read customers' API keys). `{ header: 'x-tenant', hash: false }` keeps it readable.
 *   A value with a comma — what a header sent twice arrives as — is refused (`400`): one key per
 *   request. The guard sets the header to the value it counted, so no other copy or spelling
 *   (`X_Api_Key`) reaches the handler or upstream.
 * - a function: whatever it returns, e.g. the subject an authentication guard put in `req.context`.
 *
 * A key that is `undefined` or empty counts as missing (see `onMissingKey`).
 *
 * @example
 * ```ts
 * import type { RateLimitKey } from '@portcullis/ratelimit';
 *
 * const byIp: RateLimitKey = 'ip';
 * const byApiKey: RateLimitKey = { header: 'x-api-key' };
 * const byUser: RateLimitKey = (req) => (req.context['user'] as { id: string } | undefined)?.id;
 * ```
 */
export type RateLimitKey =
  | 'ip'
  | { readonly header: string; readonly hash?: boolean | undefined }
  | ((req: GatewayRequest) => string | undefined);

// RFC 9110 token characters: anything else can never be a header name.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Turns the `key` option into a function of the request; validates it once. */
export function keyResolver(key: RateLimitKey, ipv6Prefix: number): (req: GatewayRequest) => string | undefined {
  if (key === 'ip') {
    return function ipOf(req) {
      return ipKey(req.ip, ipv6Prefix);
    };
  }
  if (typeof key === 'function') {
    return function keyOf(req) {
      const value = key(req);
      return value === '' ? undefined : value;
    };
  }
  if (typeof key === 'object' && (key as unknown) !== null) {
    const name = (key as { header?: unknown }).header;
    if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
      throw new InvalidOptionError('key.header', name, 'a header name');
    }
    const hash = (key as { hash?: unknown }).hash ?? true;
    if (typeof hash !== 'boolean') throw new InvalidOptionError('key.hash', hash, 'a boolean');
    const sentTwice = `The ${name.toLowerCase()} header is sent more than once (or holds a comma): one key per request.`;
    return function headerOf(req) {
      const value = req.header(name);
      if (value === undefined || value === '') return undefined;
      // Every adapter joins the copies of a repeated header with ", ": counted as it comes, each
      // combination would be a fresh key with a fresh limit.
      if (value.includes(',')) throw new InvalidKeyError(sentTwice);
      return hash ? credentialKey(value) : value;
    };
  }
  throw new InvalidOptionError('key', key, "'ip', { header: string } or a function of the request");
}

/** What a credential is keyed by: `#` + base64url(SHA-256 of its UTF-8), 44 characters. */
export function credentialKey(value: string): string {
  return `#${createHash('sha256').update(value).digest('base64url')}`;
}

/** Whether the keys `key` computes are credential hashes (allow-list entries are hashed alike). */
export function hashesKeys(key: RateLimitKey): boolean {
  return typeof key === 'object' && key.hash !== false;
}

/** How the missing-key answer names what was missing. */
export function describeKey(key: RateLimitKey): string {
  if (key === 'ip') return 'no client address';
  if (typeof key === 'function') return 'no rate-limit key';
  return `no "${key.header}" header`;
}
