import type { Emitter } from '@portcullis/core';
import { flattenedVerify, type JWTHeaderParameters, type JWTPayload, type VerifyOptions } from 'jose';
import { TokenCache } from './cache/token-cache.js';
import { isJwtVerificationError, JwtVerificationError } from './errors.js';
import type { JwtCacheEvents } from './events.js';
import type { KeyEntry } from './keys/key-entry.js';
import type { JwksSource } from './keys/jwks-source.js';
import { checkClaims } from './token/claims.js';
import { fromJoseError, type FailureSite } from './token/jose-errors.js';
import { HeaderMemo } from './token/header-memo.js';
import { parseToken, type ParsedToken } from './token/parse.js';
import { deepFreeze, type VerifiedJwt } from './verified.js';
import {
  resolveVerifierOptions,
  type JwtVerifierOptions,
  type ResolvedIssuer,
  type ResolvedVerifierOptions,
} from './verifier-options.js';

/**
 * Verifies JWTs locally: see {@link createJwtVerifier}.
 *
 * @example
 * ```ts
 * const jwt = await verifier.verify(token);
 * console.log(jwt.payload.sub);
 * ```
 */
export interface JwtVerifier extends Disposable {
  /**
   * Verifies a token: a cache hit answers at once; otherwise the token is parsed (size first),
   * its issuer, algorithm, key and every configured claim are checked. Rejects with a
   * `JwtVerificationError` only (a `TokenExpiredError` for expiry, a `JwksUnavailableError` when
   * the issuer's keys cannot be served).
   */
  verify(token: string): Promise<VerifiedJwt>;
  /**
   * The cached result for `token`, synchronously, or `undefined` when it is not in the cache (or
   * no longer valid there). A hit is exactly as good as `verify`'s.
   */
  cached(token: string): VerifiedJwt | undefined;
  /**
   * Revokes the key(s) with this `kid` (of one issuer, or of every issuer): they stop verifying
   * at once, tokens already cached with them included. Returns how many keys were held.
   */
  revokeKey(kid: string, issuer?: string): number;
  /** The remote key set of an issuer (for `snapshot()`, `state()`, `refresh()`), if it has one. */
  source(issuer: string): JwksSource | undefined;
  /** Every event of this verifier and of the key sets it created from URLs. */
  readonly events: Emitter<JwtCacheEvents>;
  /** Stops the key sets this verifier created (timers, fetches) and empties the cache. */
  dispose(): void;
}

/**
 * A JWT verifier for one or many issuers, on `jose`. Nothing is fetched on the hot path: keys come
 * from in-memory key sets (see `createJwksSource` for their caching, rotation grace, revocation and
 * stale-if-error) and verified tokens from a bounded cache.
 *
 * Checks, in order: size (`maxTokenBytes`, before parsing); shape (compact JWS; JWE refused);
 * header (`alg: none`, embedded or remote keys `jwk`/`jku`/`x5u`/`x5c`, `b64: false`, malformed
 * `crit` refused); the `iss` claim picks the issuer (unknown ones refused before any key lookup);
 * `alg` in the issuer's allowlist; `crit` names the issuer understands; the key (by `kid`, and fit
 * for `alg`); then jose verifies the signature (and the header rules again); then `typ`, required
 * claims, `iss`, `aud`, `nbf`, `exp` and `iat`/max age with the clock tolerance, as jose's
 * `jwtVerify` checks them, on the claims decoded once from the signed payload.
 *
 * @param options - See {@link JwtVerifierOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { createJwtVerifier, isTokenExpiredError } from '@portcullis/jwt-cache';
 *
 * const verifier = createJwtVerifier({
 *   issuers: {
 *     'https://idp.example.com/': {
 *       jwks: 'https://idp.example.com/.well-known/jwks.json',
 *       audience: 'orders-api',
 *       algorithms: ['RS256', 'ES256'],
 *     },
 *   },
 *   clockToleranceMs: 5_000,
 * });
 *
 * try {
 *   const jwt = await verifier.verify(token);
 *   console.log(jwt.payload.sub);
 * } catch (error) {
 *   if (isTokenExpiredError(error)) console.log('refresh the token');
 * }
 * ```
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  return new Verifier(resolveVerifierOptions(options));
}

const NO_SITE = { issuer: undefined, kid: undefined };

class Verifier implements JwtVerifier {
  readonly events: Emitter<JwtCacheEvents>;
  readonly #o: ResolvedVerifierOptions;
  readonly #cache: TokenCache | undefined;
  readonly #cacheTtlMs: number;
  readonly #headers: HeaderMemo;

  constructor(options: ResolvedVerifierOptions) {
    this.#o = options;
    this.#headers = new HeaderMemo(options.keyHeaders);
    this.events = options.events;
    this.#cache = options.cache === undefined ? undefined : new TokenCache(options.cache);
    this.#cacheTtlMs = options.cache?.ttlMs ?? 0;
  }

  verify(token: string): Promise<VerifiedJwt> {
    const hit = this.cached(token);
    return hit === undefined ? this.#verify(token) : Promise.resolve(hit);
  }

  cached(token: string): VerifiedJwt | undefined {
    const cache = this.#cache;
    if (cache === undefined || typeof token !== 'string' || token.length > this.#o.maxTokenBytes) return undefined;
    return cache.get(token, this.#o.clock.now());
  }

  revokeKey(kid: string, issuer?: string): number {
    const providers = new Set(
      [...this.#o.issuers.values()].filter((i) => issuer === undefined || i.name === issuer).map((i) => i.provider),
    );
    let held = 0;
    for (const provider of providers) held += provider.revokeKid(kid);
    return held;
  }

  source(issuer: string): JwksSource | undefined {
    return this.#o.sources.get(issuer);
  }

  dispose(): void {
    for (const source of this.#o.ownSources) source.dispose();
    this.#cache?.clear();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // One async function for the whole uncached path: every extra async layer costs promises and
  // microtasks on each verification.
  async #verify(token: string): Promise<VerifiedJwt> {
    let site: { issuer: string | undefined; kid: string | undefined } = NO_SITE;
    try {
      const parsed = parseToken(token, this.#o.maxTokenBytes, this.#headers);
      const issuer = this.#issuerOf(parsed.payload['iss']);
      const { alg, kid } = parsed;
      const where = { issuer: issuer.name, kid };
      site = where;
      const options = this.#joseOptions(issuer, parsed, where);
      // Awaited only when pending: a microtask per await adds up on the uncached path.
      const found = issuer.provider.resolve(kid, alg, issuer.name);
      const entry = found instanceof Promise ? await found : found;
      let key;
      try {
        const imported = entry.verificationKey(alg);
        key = imported instanceof Promise ? await imported : imported;
      } catch (error) {
        throw new JwtVerificationError('key_not_found', `The key of ${issuer.name} cannot be used for ${alg}`, {
          ...where,
          cause: error,
        });
      }
      const at = this.#o.clock.now();
      try {
        // jose checks the signature over the token's first two segments (and the header rules
        // again). The flattened form takes the segments parseToken split: no second split.
        await flattenedVerify(parsed.jws, key, options);
      } catch (error) {
        throw fromJoseError(error, where);
      }
      return this.#accept(token, parsed, issuer, entry, at, where);
    } catch (error) {
      const failure = isJwtVerificationError(error)
        ? error
        : new JwtVerificationError('signature', 'The token could not be verified', { ...site, cause: error });
      if (this.events.has('failure')) {
        this.events.emit('failure', {
          reason: failure.reason,
          code: failure.code,
          issuer: failure.issuer ?? site.issuer,
          kid: failure.kid ?? site.kid,
          error: failure,
        });
      }
      throw failure;
    }
  }

  #issuerOf(iss: unknown): ResolvedIssuer {
    const issuer = typeof iss === 'string' ? this.#o.issuers.get(iss) : undefined;
    if (issuer !== undefined) return issuer;
    throw new JwtVerificationError(
      'unknown_issuer',
      typeof iss === 'string'
        ? `The issuer ${JSON.stringify(iss.slice(0, 100))} is not trusted`
        : 'The token has no "iss" claim',
      { claim: 'iss' },
    );
  }

  /** Refuses an algorithm or a critical extension the issuer does not allow; else what jose is to enforce. */
  #joseOptions(issuer: ResolvedIssuer, parsed: ParsedToken, site: FailureSite): VerifyOptions {
    const { alg, crit } = parsed;
    const options = issuer.jose.get(alg);
    if (options === undefined) {
      throw new JwtVerificationError(
        'algorithm',
        `The algorithm ${JSON.stringify(alg.slice(0, 20))} is not allowed`,
        site,
      );
    }
    if (crit !== undefined) {
      for (const name of crit) {
        if (!issuer.crit.has(name)) {
          throw new JwtVerificationError(
            'crit',
            `The critical header extension ${JSON.stringify(name.slice(0, 40))} is not understood`,
            site,
          );
        }
      }
    }
    return options;
  }

  /**
   * After the signature has verified: the claims (at `at`, the time the verification started), the
   * key's state, then the frozen result, cached when the cache is on.
   */
  #accept(
    token: string,
    parsed: ParsedToken,
    issuer: ResolvedIssuer,
    entry: KeyEntry,
    at: number,
    site: FailureSite,
  ): VerifiedJwt {
    const { alg, kid, header, payload } = parsed;
    // The claims are checked on the payload parseToken decoded, not on a second decoding by jose:
    // it is the same string, split at the same two dots (parseToken refuses any other shape), and
    // each segment was required to be canonical base64url, which has exactly one decoding, and
    // strict UTF-8; so these are the bytes the signature covers, read as jose reads them.
    // parseToken also refused "b64": false, so the payload is the base64url of the claims set, as
    // RFC 7519 requires.
    checkClaims(header, payload, issuer.claims, at, site);
    // Revoked (or ended) while the signature was being checked: the revocation wins.
    if (!entry.usable(this.#o.clock.now())) {
      throw entry.revoked
        ? new JwtVerificationError('key_revoked', `The signing key of ${issuer.name} was revoked`, site)
        : new JwtVerificationError('key_not_found', `The signing key of ${issuer.name} left its key set`, site);
    }
    const exp = typeof payload['exp'] === 'number' ? payload['exp'] * 1000 : undefined;
    const result: VerifiedJwt = Object.freeze({
      payload: deepFreeze(payload as JWTPayload),
      header: deepFreeze(header as JWTHeaderParameters),
      issuer: issuer.name,
      alg,
      kid,
      expiresAt: exp,
    });
    const cache = this.#cache;
    if (cache !== undefined) {
      let until = at + this.#cacheTtlMs;
      if (exp !== undefined) until = Math.min(until, exp);
      const iat = payload['iat'];
      if (issuer.maxTokenAgeMs !== undefined && typeof iat === 'number') {
        until = Math.min(until, iat * 1000 + issuer.maxTokenAgeMs);
      }
      if (until > at) cache.set(token, result, until, entry, issuer.provider);
    }
    return result;
  }
}
