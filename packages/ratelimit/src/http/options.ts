import {
  finiteNumber,
  InvalidOptionError,
  isFunctionOption,
  nonEmptyString,
  oneOf,
  type GatewayRequest,
} from '@portcullis/core';
import type { Decision } from '../decision.js';
import type { RateLimiter } from '../limiter.js';
import { HEADER_STYLES, type RateLimitHeaderStyle } from './headers.js';
import { ipKey } from './ip-key.js';
import type { RefundRule } from './refund.js';
import { credentialKey, describeKey, hashesKeys, keyResolver, type RateLimitKey } from './request-key.js';

/**
 * The body of a 429: a string (sent as `text/plain`), an object (sent as JSON), or a function of
 * the decision and the request returning either.
 *
 * @example
 * ```ts
 * import type { RateLimitMessage } from '@portcullis/ratelimit';
 *
 * const message: RateLimitMessage = (decision) => ({ error: 'rate_limited', retryAfterMs: decision.retryAfterMs });
 * ```
 */
export type RateLimitMessage =
  string | Readonly<Record<string, unknown>> | ((decision: Decision, req: GatewayRequest) => unknown);

/**
 * Options of {@link rateLimitGuard} and of the framework `rateLimit` middlewares.
 *
 * @example
 * ```ts
 * import { createRateLimiter, tokenBucket, type RateLimitGuardOptions } from '@portcullis/ratelimit';
 *
 * const options: RateLimitGuardOptions = {
 *   limiter: createRateLimiter({ limits: { perMinute: tokenBucket({ capacity: 60, refillPerSecond: 1 }) } }),
 *   key: { header: 'x-api-key' },
 *   headers: 'both',
 *   skipFailedRequests: true,
 * };
 * ```
 */
export interface RateLimitGuardOptions {
  /** The limiter that decides (`createRateLimiter`). Required. */
  limiter: RateLimiter;
  /** What identifies a client; see {@link RateLimitKey}. Default `'ip'`. */
  key?: RateLimitKey | undefined;
  /**
   * How many leading bits of an IPv6 address identify one client when `key` is `'ip'` (see
   * {@link ipKey}). An integer from 1 to 128. Default 56.
   */
  ipv6Prefix?: number | undefined;
  /**
   * What to do with a request that has no key (the key function returned `undefined` or `''`, the
   * header is missing or empty, the framework knows no client address):
   * `'allow'` lets it through unlimited; `'deny'` answers `400 Bad Request` (problem+json; waiting
   * would not help, so not 429).
   *
   * Default: `'allow'` for `key: 'ip'` (no address is a deployment matter, not something a client
   * can choose, and denying would refuse every request), `'deny'` for a header or a function (a
   * client could otherwise escape the limit by leaving the header out).
   */
  onMissingKey?: 'allow' | 'deny' | undefined;
  /**
   * Units a request costs: a number >= 0, or a function of the request. A function's result is
   * checked by the limiter: a negative or non-finite cost answers `400 Bad Request`. Default 1.
   */
  cost?: number | ((req: GatewayRequest) => number) | undefined;
  /**
   * The limiter tier of a request. Returning `undefined` picks the limiter's `defaultTier` — the
   * first tier declared in `tiers` unless `defaultTier` is set — so an unknown customer gets the
   * first (usually the cheapest) tier; set `defaultTier` to make it explicit. A name the limiter
   * does not have is answered `400`. Default: none (every request gets the default tier).
   */
  tier?: ((req: GatewayRequest) => string | undefined) | undefined;
  /** The pool (team) whose shared limits a request is also charged to. Default: none. */
  pool?: ((req: GatewayRequest) => string | undefined) | undefined;
  /** Requests for which this returns true are not limited, counted or given headers. Default: none. */
  skip?: ((req: GatewayRequest) => boolean) | undefined;
  /**
   * Keys that are never limited (compared with the computed key; with `key: 'ip'` each entry is
   * keyed like an address first, so `'2001:db8::1'` exempts its whole /56; with a hashed header key
   * each entry is hashed alike, so list the raw values). Default: none.
   */
  allowList?: readonly string[] | undefined;
  /**
   * Rate-limit headers on every response the limiter decided, allowed or denied; see
   * {@link RateLimitHeaderStyle}. `false` sends none (a 429 still carries `Retry-After`).
   * Default `'draft'`.
   */
  headers?: RateLimitHeaderStyle | false | undefined;
  /**
   * The body of a 429. Default: problem details (`application/problem+json`):
   * `{ type: 'about:blank', title: 'Too Many Requests', status: 429, detail, limitedBy }`.
   */
  message?: RateLimitMessage | undefined;
  /** Give back the units of requests that failed (status >= 400, or the client left). Default false. */
  skipFailedRequests?: boolean | undefined;
  /** Give back the units of requests that succeeded (status < 400). Default false. */
  skipSuccessfulRequests?: boolean | undefined;
}

/** The options, validated and defaulted. */
export interface ResolvedOptions {
  readonly limiter: RateLimiter;
  readonly keyOf: (req: GatewayRequest) => string | undefined;
  /** The header the key is read from (`key: { header }`), lower-case; otherwise undefined. */
  readonly keyHeader: string | undefined;
  readonly missingKey: string;
  readonly denyMissingKey: boolean;
  readonly cost: number | ((req: GatewayRequest) => number);
  readonly tier: ((req: GatewayRequest) => string | undefined) | undefined;
  readonly pool: ((req: GatewayRequest) => string | undefined) | undefined;
  readonly skip: ((req: GatewayRequest) => boolean) | undefined;
  readonly allowList: ReadonlySet<string>;
  readonly headers: RateLimitHeaderStyle | false;
  readonly message: RateLimitMessage | undefined;
  /** When to refund; `undefined` when neither `skipFailedRequests` nor `skipSuccessfulRequests`. */
  readonly refund: RefundRule | undefined;
}

/** Validates every option once, naming the option in the error; applies the defaults. */
export function resolveOptions(options: RateLimitGuardOptions): ResolvedOptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const limiter = options.limiter as Partial<RateLimiter> | undefined;
  if (typeof limiter?.limit !== 'function' || typeof limiter.refund !== 'function') {
    throw new InvalidOptionError('limiter', limiter, 'a RateLimiter (createRateLimiter)');
  }
  const ipv6Prefix = finiteNumber(options.ipv6Prefix ?? 56, 'ipv6Prefix', { min: 1, max: 128, integer: true });
  const key = options.key ?? 'ip';
  const keyOf = keyResolver(key, ipv6Prefix);
  const onMissingKey = oneOf(
    options.onMissingKey ?? (key === 'ip' ? 'allow' : 'deny'),
    ['allow', 'deny'],
    'onMissingKey',
  );
  const cost = typeof options.cost === 'function' ? options.cost : finiteNumber(options.cost ?? 1, 'cost', { min: 0 });
  const failed = flag(options.skipFailedRequests, 'skipFailedRequests');
  const successful = flag(options.skipSuccessfulRequests, 'skipSuccessfulRequests');
  const allowList = new Set<string>();
  const entries: unknown = options.allowList ?? [];
  if (!Array.isArray(entries)) throw new InvalidOptionError('allowList', entries, 'an array of keys');
  for (const [i, entry] of entries.entries()) {
    const listed = nonEmptyString(entry, `allowList[${i}]`);
    allowList.add(
      key === 'ip' ? (ipKey(listed, ipv6Prefix) ?? listed) : hashesKeys(key) ? credentialKey(listed) : listed,
    );
  }
  return {
    limiter: limiter as RateLimiter,
    keyOf,
    keyHeader: typeof key === 'object' ? key.header.toLowerCase() : undefined,
    missingKey: describeKey(key),
    denyMissingKey: onMissingKey === 'deny',
    cost,
    tier: optionalFunction(options.tier, 'tier'),
    pool: optionalFunction(options.pool, 'pool'),
    skip: optionalFunction(options.skip, 'skip'),
    allowList,
    headers: options.headers === false ? false : oneOf(options.headers ?? 'draft', HEADER_STYLES, 'headers'),
    message: checkMessage(options.message),
    refund: failed || successful ? { failed, successful } : undefined,
  };
}

function optionalFunction<F extends (...args: never[]) => unknown>(
  value: F | undefined,
  option: string,
): F | undefined {
  return value === undefined ? undefined : isFunctionOption(value, option);
}

function flag(value: boolean | undefined, option: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidOptionError(option, value, 'a boolean');
  return value ?? false;
}

function checkMessage(message: RateLimitMessage | undefined): RateLimitMessage | undefined {
  const kind = typeof message;
  if (
    message === undefined ||
    kind === 'string' ||
    kind === 'function' ||
    (kind === 'object' && (message as unknown) !== null)
  ) {
    return message;
  }
  throw new InvalidOptionError('message', message, 'a string, an object or a function of the decision');
}
