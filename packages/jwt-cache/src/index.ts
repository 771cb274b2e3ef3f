/**
 * JWT verification at the edge, on `jose`: one or many issuers, JWKS cached in memory with
 * refresh ahead of expiry, one shared fetch, kid-miss refetch with a cooldown attackers cannot
 * exhaust, key-rotation grace, explicit revocation, stale-if-error with a bound, a verified-token
 * cache tied to the verifying key, and `jwtGuard` — 401/403 with RFC 6750 `WWW-Authenticate`,
 * identity forwarded to upstreams as headers clients cannot spoof — with Express, Fastify and Hono
 * middleware in the `/express`, `/fastify` and `/hono` subpaths.
 *
 * @packageDocumentation
 */
export { ASYMMETRIC_ALGORITHMS } from './algorithms.js';
export type { JwsAlgorithm } from './algorithms.js';
export type { TokenCacheKey } from './cache/token-cache.js';
export {
  isJwksFetchError,
  isJwksUnavailableError,
  isJwtVerificationError,
  isTokenExpiredError,
  JwksFetchError,
  JwksUnavailableError,
  JwtVerificationError,
  TokenExpiredError,
} from './errors.js';
export type { JwksFetchFailure, JwtErrorDetails, JwtFailureReason } from './errors.js';
export type { JwksFetchReason, JwtCacheEvents } from './events.js';
export { jwtGuard } from './http/guard.js';
export type { JwtContext } from './http/guard.js';
export type { ClaimPath } from './http/forward.js';
export type { JwtGuardOptions, JwtIdentity } from './http/options.js';
export type { TokenLocation } from './http/token-location.js';
export type { FetchLike, JwksRedirects } from './keys/fetch-jwks.js';
export type { JwksCacheOptions } from './keys/jwks-options.js';
export { createJwksSource } from './keys/jwks-source.js';
export type { JwksSource, JwksSourceOptions, JwksSourceState } from './keys/jwks-source.js';
export type { JwksSnapshot } from './keys/snapshot.js';
export type { KeyHeaderPolicy } from './token/header.js';
export type { VerifiedJwt } from './verified.js';
export { createJwtVerifier } from './verifier.js';
export type { JwtVerifier } from './verifier.js';
export type { IssuerOptions, JwtVerifierOptions, TokenCacheOptions } from './verifier-options.js';
