import { hasBrand, PortcullisError } from '@portcullis/core';

/**
 * Why a token was refused. Each reason has its own stable error code,
 * `ERR_JWT_CACHE_<REASON IN UPPER CASE>` (e.g. `ERR_JWT_CACHE_EXPIRED`).
 *
 * - `too_large`: longer than `maxTokenBytes`; refused before any parsing.
 * - `malformed`: not a compact JWS with a JSON object header and payload.
 * - `forbidden_header`: the header carries key material or a key location (`jwk`, `jku`, `x5u`,
 *   `x5c`), or asks for an unencoded payload (`b64: false`).
 * - `crit`: the header lists a critical extension this issuer was not configured to understand.
 * - `algorithm`: `alg` is not in the issuer's allowlist (`none` never is).
 * - `unknown_issuer`: the `iss` claim is missing or names no configured issuer.
 * - `key_not_found`: no key of the issuer's set has the token's `kid` (after at most one refetch).
 * - `key_revoked`: the key was revoked explicitly.
 * - `signature`: the signature does not verify with the key.
 * - `expired`: `exp` has passed, or the token is older than `maxTokenAgeMs`.
 * - `not_yet_valid`: `nbf` is in the future.
 * - `claim`: another claim check failed (`iss`, `aud`, `typ`, a required claim, `iat` in the future).
 * - `jwks_unavailable`: the issuer's key set could not be fetched and no keys young enough to be
 *   served are left (fail closed).
 *
 * @example
 * ```ts
 * import type { JwtFailureReason } from '@portcullis/jwt-cache';
 *
 * const clientsFault = (reason: JwtFailureReason): boolean => reason !== 'jwks_unavailable';
 * ```
 */
export type JwtFailureReason =
  | 'too_large'
  | 'malformed'
  | 'forbidden_header'
  | 'crit'
  | 'algorithm'
  | 'unknown_issuer'
  | 'key_not_found'
  | 'key_revoked'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'claim'
  | 'jwks_unavailable';

/** What a verification error was raised with, besides the reason and message. */
export interface JwtErrorDetails {
  /** The claim whose check failed (`exp`, `aud`, …), when one did. */
  readonly claim?: string | undefined;
  /** The issuer the token was checked against, once known. */
  readonly issuer?: string | undefined;
  /** The token's `kid`, when it had one. */
  readonly kid?: string | undefined;
  /** The underlying error (a jose error, a fetch error). */
  readonly cause?: unknown;
}

/**
 * The only error a verifier throws for a token it refuses. `reason` says why, `code` is stable
 * (`ERR_JWT_CACHE_EXPIRED`, …); messages never quote the token. Expiry has its own subclass
 * ({@link TokenExpiredError}) so clients can be told to refresh, and an unreachable key set has
 * {@link JwksUnavailableError} (a server-side failure, not the client's).
 *
 * @example
 * ```ts
 * import { isJwtVerificationError } from '@portcullis/jwt-cache';
 *
 * try {
 *   await verifier.verify(token);
 * } catch (error) {
 *   if (isJwtVerificationError(error)) console.warn(error.code, error.reason, error.message);
 *   else throw error;
 * }
 * ```
 */
export class JwtVerificationError extends PortcullisError {
  /** Brand checked by {@link isJwtVerificationError}. */
  readonly isJwtVerificationError = true as const;
  /** Why the token was refused. */
  readonly reason: JwtFailureReason;
  /** The claim whose check failed, when one did. */
  readonly claim: string | undefined;
  /** The issuer the token was checked against, once known. */
  readonly issuer: string | undefined;
  /** The token's `kid`, when it had one. */
  readonly kid: string | undefined;

  constructor(reason: JwtFailureReason, message: string, details: JwtErrorDetails = {}) {
    super(
      `ERR_JWT_CACHE_${reason.toUpperCase()}`,
      message,
      details.cause === undefined ? {} : { cause: details.cause },
    );
    this.reason = reason;
    this.claim = details.claim;
    this.issuer = details.issuer;
    this.kid = details.kid;
  }
}

/**
 * True when `value` is a {@link JwtVerificationError} (any reason, including expiry and an
 * unavailable key set).
 *
 * @example
 * ```ts
 * import { isJwtVerificationError } from '@portcullis/jwt-cache';
 *
 * isJwtVerificationError(new Error('x')); // false
 * ```
 */
export function isJwtVerificationError(value: unknown): value is JwtVerificationError {
  return hasBrand(value, 'isJwtVerificationError');
}

/**
 * The token has expired: its `exp` has passed (beyond the clock tolerance), or it is older than the
 * issuer's `maxTokenAgeMs`. Code `ERR_JWT_CACHE_EXPIRED`; the HTTP guard says so in
 * `WWW-Authenticate` so clients run their refresh flow.
 *
 * @example
 * ```ts
 * import { isTokenExpiredError } from '@portcullis/jwt-cache';
 *
 * verifier.verify(token).catch((error: unknown) => {
 *   if (isTokenExpiredError(error)) return refreshAndRetry();
 *   throw error;
 * });
 * ```
 */
export class TokenExpiredError extends JwtVerificationError {
  /** Brand checked by {@link isTokenExpiredError}. */
  readonly isTokenExpiredError = true as const;
  constructor(message: string, details: JwtErrorDetails = {}) {
    super('expired', message, details);
  }
}

/**
 * True when `value` is a {@link TokenExpiredError}.
 *
 * @example
 * ```ts
 * import { isTokenExpiredError } from '@portcullis/jwt-cache';
 *
 * isTokenExpiredError(new Error('x')); // false
 * ```
 */
export function isTokenExpiredError(value: unknown): value is TokenExpiredError {
  return hasBrand(value, 'isTokenExpiredError');
}

/**
 * The issuer's key set cannot be served: it was never fetched, or the endpoint has been failing for
 * longer than `maxStaleMs` past the set's expiry. Verification fails closed with this error (code
 * `ERR_JWT_CACHE_JWKS_UNAVAILABLE`); `cause` is the last {@link JwksFetchError}.
 *
 * @example
 * ```ts
 * import { isJwksUnavailableError } from '@portcullis/jwt-cache';
 *
 * verifier.events.on('failure', ({ error }) => {
 *   if (isJwksUnavailableError(error)) alerts.page('identity provider unreachable', error.source);
 * });
 * ```
 */
export class JwksUnavailableError extends JwtVerificationError {
  /** Brand checked by {@link isJwksUnavailableError}. */
  readonly isJwksUnavailableError = true as const;
  /** The key set's URL. */
  readonly source: string;
  constructor(source: string, message: string, details: JwtErrorDetails = {}) {
    super('jwks_unavailable', message, details);
    this.source = source;
  }
}

/**
 * True when `value` is a {@link JwksUnavailableError}.
 *
 * @example
 * ```ts
 * import { isJwksUnavailableError } from '@portcullis/jwt-cache';
 *
 * isJwksUnavailableError(new Error('x')); // false
 * ```
 */
export function isJwksUnavailableError(value: unknown): value is JwksUnavailableError {
  return hasBrand(value, 'isJwksUnavailableError');
}

/**
 * How a key set fetch failed:
 *
 * - `network`: the connection failed (refused, reset, DNS).
 * - `timeout`: no complete answer within `fetchTimeoutMs`.
 * - `status`: the answer's status was not `200`.
 * - `redirect`: the answer redirected (`3xx`), or the `fetch` followed a redirect on its own; key
 *   sets are read from the configured URL only (see `redirects` in `JwksCacheOptions`).
 * - `too_large`: the body exceeded `maxResponseBytes` (declared or streamed).
 * - `malformed`: the body is not JSON, or not `{ "keys": [ ... ] }`.
 * - `aborted`: the source was disposed during the fetch.
 *
 * @example
 * ```ts
 * import type { JwksFetchFailure } from '@portcullis/jwt-cache';
 *
 * const transient = (kind: JwksFetchFailure): boolean => kind === 'network' || kind === 'timeout';
 * ```
 */
export type JwksFetchFailure = 'network' | 'timeout' | 'status' | 'redirect' | 'too_large' | 'malformed' | 'aborted';

/**
 * A key set fetch failed (code `ERR_JWT_CACHE_JWKS_FETCH`). Reported by the `fetch` and `stale`
 * events and as the `cause` of a {@link JwksUnavailableError}; never thrown at callers of `verify`.
 *
 * @example
 * ```ts
 * import { isJwksFetchError } from '@portcullis/jwt-cache';
 *
 * source.events.on('fetch', ({ error }) => {
 *   if (isJwksFetchError(error) && error.kind === 'timeout') metrics.increment('jwks.timeout');
 * });
 * ```
 */
export class JwksFetchError extends PortcullisError {
  /** Brand checked by {@link isJwksFetchError}. */
  readonly isJwksFetchError = true as const;
  /** How the fetch failed. */
  readonly kind: JwksFetchFailure;
  /** The key set's URL. */
  readonly url: string;
  /** The HTTP status, for `kind: 'status'` and `'redirect'`. */
  readonly status: number | undefined;

  constructor(
    kind: JwksFetchFailure,
    url: string,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super('ERR_JWT_CACHE_JWKS_FETCH', message, options.cause === undefined ? {} : { cause: options.cause });
    this.kind = kind;
    this.url = url;
    this.status = options.status;
  }
}

/**
 * True when `value` is a {@link JwksFetchError}.
 *
 * @example
 * ```ts
 * import { isJwksFetchError } from '@portcullis/jwt-cache';
 *
 * isJwksFetchError(new Error('x')); // false
 * ```
 */
export function isJwksFetchError(value: unknown): value is JwksFetchError {
  return hasBrand(value, 'isJwksFetchError');
}
