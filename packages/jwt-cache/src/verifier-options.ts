import {
  duration,
  Emitter,
  InvalidOptionError,
  nonEmptyString,
  oneOf,
  positiveInteger,
  systemClock,
  type Clock,
} from '@portcullis/core';
import type { JWK, VerifyOptions } from 'jose';
import { ALL_ALGORITHMS, ASYMMETRIC_ALGORITHMS, isSymmetric, type JwsAlgorithm } from './algorithms.js';
import type { TokenCacheKey } from './cache/token-cache.js';
import type { JwtCacheEvents } from './events.js';
import { createJwksSource, jwksUrl, type JwksSource } from './keys/jwks-source.js';
import type { JwksCacheOptions } from './keys/jwks-options.js';
import { providerOf, type KeyProvider } from './keys/provider.js';
import { StaticKeys } from './keys/static-keys.js';
import { claimRules, type ClaimRules } from './token/claims.js';
import type { KeyHeaderPolicy } from './token/header.js';

/**
 * How tokens of one issuer are checked, and where its keys come from: a JWKS (`jwks`) or keys
 * given here (`keys`), exactly one of them.
 *
 * @example
 * ```ts
 * import type { IssuerOptions } from '@portcullis/jwt-cache';
 *
 * const idp: IssuerOptions = {
 *   jwks: 'https://idp.example.com/.well-known/jwks.json',
 *   algorithms: ['RS256'],
 *   audience: 'orders-api',
 *   typ: 'at+jwt',
 *   requiredClaims: ['exp', 'sub'],
 *   maxTokenAgeMs: 24 * 3_600_000,
 * };
 * ```
 */
export interface IssuerOptions {
  /**
   * The issuer's JWKS URL (`jwks_uri`), or a source made by `createJwksSource` to share one cache
   * between verifiers. Issuers naming the same URL in one verifier share one source.
   */
  jwks?: string | URL | JwksSource | undefined;
  /**
   * Keys given in the configuration: public JWKs, or `kty: 'oct'` secrets for HMAC (which must
   * then be listed in `algorithms` explicitly).
   */
  keys?: readonly JWK[] | { readonly keys: readonly JWK[] } | undefined;
  /** The algorithms accepted for this issuer. Default: every asymmetric one (no HMAC, never `none`). */
  algorithms?: readonly JwsAlgorithm[] | undefined;
  /** Accepted audience(s): the token's `aud` must contain one. Default: `aud` is not checked. */
  audience?: string | readonly string[] | undefined;
  /** Required `typ` header (compared as media types: `at+jwt` equals `application/at+jwt`). Default: not checked. */
  typ?: string | undefined;
  /** Claims that must be present. Default `['exp']`: a token that never expires is refused. */
  requiredClaims?: readonly string[] | undefined;
  /** Refuse tokens whose `iat` is older than this (then `iat` is required). Default: no limit. */
  maxTokenAgeMs?: number | undefined;
  /** Clock skew allowed for `exp`, `nbf` and `iat`. Default: the verifier's `clockToleranceMs`. */
  clockToleranceMs?: number | undefined;
  /**
   * Critical header extensions (`crit`) this issuer's tokens may use and your code understands.
   * A token listing any other is refused. Default: none.
   */
  crit?: readonly string[] | undefined;
}

/**
 * Options of the verified-token cache.
 *
 * @example
 * ```ts
 * import type { TokenCacheOptions } from '@portcullis/jwt-cache';
 *
 * const cache: TokenCacheOptions = { max: 50_000, ttlMs: 60_000, key: 'sha256' };
 * ```
 */
export interface TokenCacheOptions {
  /** Most entries. Default 10_000. */
  max?: number | undefined;
  /**
   * Most bytes the cache holds: per entry its key (the token, or its 44-character SHA-256), the
   * decoded header and claims (estimated as V8 stores them), and ~256 bytes of bookkeeping. A
   * token larger than the whole budget is not cached. Default 16_777_216 (16 MiB).
   */
  maxBytes?: number | undefined;
  /** Longest an entry lives; it never outlives the token's `exp` either. Default 300_000 (5 minutes). */
  ttlMs?: number | undefined;
  /**
   * What entries are keyed by: the whole token (fastest), or its SHA-256 (less memory per entry,
   * and no token kept in memory). Default `'token'`.
   */
  key?: TokenCacheKey | undefined;
}

/**
 * Options of {@link createJwtVerifier}.
 *
 * @example
 * ```ts
 * import type { JwtVerifierOptions } from '@portcullis/jwt-cache';
 *
 * const options: JwtVerifierOptions = {
 *   issuers: {
 *     'https://idp.example.com/': { jwks: 'https://idp.example.com/.well-known/jwks.json', audience: 'api' },
 *     'https://partner.example.net': { keys: [partnerPublicJwk], algorithms: ['ES256'] },
 *   },
 *   clockToleranceMs: 5_000,
 *   jwks: { rotationGraceMs: 30 * 60_000 },
 * };
 * ```
 */
export interface JwtVerifierOptions {
  /** Issuer (`iss` value, exactly) → how its tokens are verified. A token's `iss` picks its issuer. Required. */
  issuers: Readonly<Record<string, IssuerOptions>>;
  /** Time source for claims, caches, cooldowns and grace. Default `systemClock`. */
  clock?: Clock | undefined;
  /** Clock skew allowed for `exp`, `nbf` and `iat`. Default 0. */
  clockToleranceMs?: number | undefined;
  /** Longest token accepted, checked before any parsing. Default 8_192. */
  maxTokenBytes?: number | undefined;
  /**
   * Tokens whose header carries a key or a key location (`jwk`, `jku`, `x5u`, `x5c`): `'reject'`
   * refuses them; `'ignore'` verifies them with the configured keys as usual (the header's key is
   * never used either way). Default `'reject'`.
   */
  keyHeaders?: KeyHeaderPolicy | undefined;
  /** The verified-token cache, or `false` for none. Default: on, with the defaults of {@link TokenCacheOptions}. */
  cache?: TokenCacheOptions | false | undefined;
  /** Cache settings of the key sets this verifier creates from URLs. Default: see {@link JwksCacheOptions}. */
  jwks?: JwksCacheOptions | undefined;
}

/** An issuer, validated. */
export interface ResolvedIssuer {
  readonly name: string;
  readonly provider: KeyProvider;
  readonly crit: ReadonlySet<string>;
  readonly maxTokenAgeMs: number | undefined;
  /**
   * Per allowed algorithm (one without an entry is refused), what jose's `flattenedVerify`
   * enforces besides the signature: that `alg` again, and the `crit` names understood. (One
   * algorithm per entry: jose turns the list into a set on every call, and the token's `alg` is
   * already known to be allowed.)
   */
  readonly jose: ReadonlyMap<string, VerifyOptions>;
  /** What the claims must satisfy, checked once the signature has verified. */
  readonly claims: ClaimRules;
}

export interface ResolvedVerifierOptions {
  readonly clock: Clock;
  readonly events: Emitter<JwtCacheEvents>;
  readonly maxTokenBytes: number;
  readonly keyHeaders: KeyHeaderPolicy;
  readonly issuers: ReadonlyMap<string, ResolvedIssuer>;
  /** Sources this verifier created (and disposes). */
  readonly ownSources: readonly JwksSource[];
  /** Issuer → its remote source, for `verifier.source()`. */
  readonly sources: ReadonlyMap<string, JwksSource>;
  readonly cache:
    | { readonly max: number; readonly maxBytes: number; readonly ttlMs: number; readonly key: TokenCacheKey }
    | undefined;
}

/** Validates every option once, naming it; applies the defaults; creates the key sources. */
export function resolveVerifierOptions(options: JwtVerifierOptions): ResolvedVerifierOptions {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const clock = options.clock ?? systemClock;
  if (typeof (clock as Partial<Clock>).now !== 'function') throw new InvalidOptionError('clock', clock, 'a Clock');
  const events = new Emitter<JwtCacheEvents>();
  const tolerance = duration(options.clockToleranceMs ?? 0, 'clockToleranceMs');
  const issuerEntries = typeof options.issuers === 'object' ? Object.entries(options.issuers) : [];
  if (issuerEntries.length === 0) throw new InvalidOptionError('issuers', options.issuers, 'at least one issuer');
  const ownSources = new Map<string, JwksSource>();
  const sources = new Map<string, JwksSource>();
  const issuers = new Map<string, ResolvedIssuer>();
  try {
    for (const [name, issuer] of issuerEntries) {
      const at = `issuers[${JSON.stringify(name)}]`;
      nonEmptyString(name, 'issuers');
      if (typeof issuer !== 'object' || (issuer as unknown) === null)
        throw new InvalidOptionError(at, issuer, 'an object');
      const provider = keyProvider(name, issuer, at, { clock, events, jwks: options.jwks ?? {}, ownSources, sources });
      issuers.set(name, resolveIssuer(name, issuer, at, provider, tolerance));
    }
  } catch (error) {
    for (const source of ownSources.values()) source.dispose();
    throw error;
  }
  const cache = options.cache === false ? undefined : resolveCache(options.cache ?? {});
  return {
    clock,
    events,
    maxTokenBytes: positiveInteger(options.maxTokenBytes ?? 8_192, 'maxTokenBytes'),
    keyHeaders: oneOf(options.keyHeaders ?? 'reject', ['reject', 'ignore'], 'keyHeaders'),
    issuers,
    ownSources: [...ownSources.values()],
    sources,
    cache,
  };
}

interface ProviderContext {
  readonly clock: Clock;
  readonly events: Emitter<JwtCacheEvents>;
  readonly jwks: JwksCacheOptions;
  readonly ownSources: Map<string, JwksSource>;
  readonly sources: Map<string, JwksSource>;
}

function keyProvider(name: string, issuer: IssuerOptions, at: string, context: ProviderContext): KeyProvider {
  const { jwks, keys } = issuer;
  if ((jwks === undefined) === (keys === undefined)) {
    throw new InvalidOptionError(at, issuer, 'exactly one of "jwks" (a URL or a JwksSource) and "keys"');
  }
  if (keys !== undefined) {
    const list: unknown = Array.isArray(keys) ? keys : (keys as { keys?: unknown }).keys;
    if (!Array.isArray(list) || list.length === 0)
      throw new InvalidOptionError(`${at}.keys`, keys, 'a non-empty array of JWKs');
    const provider = new StaticKeys(name, list, context.clock, context.events);
    if (provider.size !== list.length) {
      throw new InvalidOptionError(`${at}.keys`, keys, 'public JWKs (RSA, EC, OKP) or oct secrets, with distinct kids');
    }
    return provider;
  }
  const shared = typeof jwks === 'object' && !(jwks instanceof URL) ? providerOf(jwks) : undefined;
  if (shared !== undefined) {
    context.sources.set(name, jwks as JwksSource);
    return shared;
  }
  const url = jwksUrl(jwks, `${at}.jwks`);
  let source = context.ownSources.get(url);
  if (source === undefined) {
    source = createJwksSource({ ...context.jwks, url, clock: context.clock, events: context.events });
    context.ownSources.set(url, source);
  }
  context.sources.set(name, source);
  return providerOf(source) as KeyProvider;
}

function resolveIssuer(
  name: string,
  issuer: IssuerOptions,
  at: string,
  provider: KeyProvider,
  defaultTolerance: number,
): ResolvedIssuer {
  const algorithms = stringList(issuer.algorithms ?? ASYMMETRIC_ALGORITHMS, `${at}.algorithms`);
  for (const [i, alg] of algorithms.entries()) {
    oneOf(alg, ALL_ALGORITHMS, `${at}.algorithms[${i}]`);
    if (isSymmetric(alg) && issuer.keys === undefined) {
      throw new InvalidOptionError(
        `${at}.algorithms[${i}]`,
        alg,
        'an asymmetric algorithm (HMAC needs a secret in "keys")',
      );
    }
  }
  if (algorithms.length === 0) throw new InvalidOptionError(`${at}.algorithms`, issuer.algorithms, 'a non-empty array');
  const audience =
    issuer.audience === undefined
      ? undefined
      : typeof issuer.audience === 'string'
        ? nonEmptyString(issuer.audience, `${at}.audience`)
        : stringList(issuer.audience, `${at}.audience`);
  const typ = issuer.typ === undefined ? undefined : nonEmptyString(issuer.typ, `${at}.typ`);
  const requiredClaims = stringList(issuer.requiredClaims ?? ['exp'], `${at}.requiredClaims`);
  const maxTokenAgeMs =
    issuer.maxTokenAgeMs === undefined ? undefined : duration(issuer.maxTokenAgeMs, `${at}.maxTokenAgeMs`);
  const tolerance =
    issuer.clockToleranceMs === undefined
      ? defaultTolerance
      : duration(issuer.clockToleranceMs, `${at}.clockToleranceMs`);
  const crit = stringList(issuer.crit ?? [], `${at}.crit`);
  return {
    name,
    provider,
    crit: new Set(crit),
    maxTokenAgeMs,
    jose: new Map(
      algorithms.map((alg) => [
        alg,
        { algorithms: [alg], ...(crit.length === 0 ? {} : { crit: Object.fromEntries(crit.map((c) => [c, true])) }) },
      ]),
    ),
    claims: claimRules({ issuer: name, audience, typ, requiredClaims, maxTokenAgeMs, toleranceMs: tolerance }),
  };
}

function resolveCache(cache: TokenCacheOptions): ResolvedVerifierOptions['cache'] {
  if (typeof cache !== 'object' || (cache as unknown) === null) {
    throw new InvalidOptionError('cache', cache, 'an object or false');
  }
  return {
    max: positiveInteger(cache.max ?? 10_000, 'cache.max'),
    maxBytes: positiveInteger(cache.maxBytes ?? 16_777_216, 'cache.maxBytes'),
    ttlMs: duration(cache.ttlMs ?? 300_000, 'cache.ttlMs'),
    key: oneOf(cache.key ?? 'token', ['token', 'sha256'], 'cache.key'),
  };
}

function stringList(value: unknown, option: string): string[] {
  if (!Array.isArray(value)) throw new InvalidOptionError(option, value, 'an array of strings');
  return value.map((item, i) => nonEmptyString(item, `${option}[${i}]`));
}
