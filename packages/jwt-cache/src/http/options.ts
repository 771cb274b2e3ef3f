import { InvalidOptionError, isFunctionOption, nonEmptyString, type GatewayRequest } from '@portcullis/core';
import type { JwtVerifier } from '../verifier.js';
import type { VerifiedJwt } from '../verified.js';
import { anyHeaderName, arraySeparator, headerName, type ClaimPath } from './forward.js';
import { tokenReader, type TokenLocation, type TokenReader } from './token-location.js';

/**
 * The identity the guard puts in the request context by default.
 *
 * @example
 * ```ts
 * import type { JwtIdentity } from '@portcullis/jwt-cache';
 *
 * const isAdmin = (identity: JwtIdentity): boolean => identity.scopes.includes('admin');
 * ```
 */
export interface JwtIdentity {
  /** The `sub` claim, when it is a string. */
  readonly subject: string | undefined;
  /** The issuer that verified the token. */
  readonly issuer: string;
  /** The granted scopes: `scope` (space-separated) or `scp` (array or string). */
  readonly scopes: readonly string[];
}

/**
 * Options of {@link jwtGuard} and of the framework `jwtAuth` middlewares.
 *
 * @example
 * ```ts
 * import { createJwtVerifier, type JwtGuardOptions } from '@portcullis/jwt-cache';
 *
 * const options: JwtGuardOptions = {
 *   verifier: createJwtVerifier({ issuers: { 'https://idp.example.com/': { jwks: 'https://idp.example.com/jwks' } } }),
 *   realm: 'orders',
 *   scopes: ['orders:read'],
 *   forwardClaims: { 'x-user-id': 'sub', 'x-tenant-id': 'org.id' },
 *   skip: (req) => req.path === '/health',
 * };
 * ```
 */
export interface JwtGuardOptions<Identity = JwtIdentity> {
  /** The verifier (`createJwtVerifier`). Required. */
  verifier: JwtVerifier;
  /** Where the token is read, first match wins. Default `'bearer'`. */
  token?: TokenLocation | readonly TokenLocation[] | undefined;
  /** The `realm` of the `WWW-Authenticate` challenge. Default: none. */
  realm?: string | undefined;
  /**
   * Scopes the token must all grant (`scope` or `scp` claim), or a function of the request giving
   * them per route; otherwise `403` with `error="insufficient_scope"`. Default: none.
   */
  scopes?: readonly string[] | ((req: GatewayRequest) => readonly string[] | undefined) | undefined;
  /** Any other check (roles, tenants): returning false answers `403 insufficient_scope`. Default: none. */
  authorize?: ((jwt: VerifiedJwt, req: GatewayRequest) => boolean) | undefined;
  /** Maps the verified token to the context's `identity`. Default: {@link JwtIdentity}. */
  identity?: ((jwt: VerifiedJwt) => Identity) | undefined;
  /**
   * Upstream header → claim to forward (see {@link ClaimPath}). Every incoming copy of these
   * headers is removed from every request, so a client cannot spoof them. Default: none.
   */
  forwardClaims?: Readonly<Record<string, ClaimPath>> | undefined;
  /** Upstream header for the whole payload, as the token's base64url payload segment. Default: none. */
  forwardPayload?: string | undefined;
  /** More request headers to remove from every request (e.g. identity headers of an older setup). Default: none. */
  stripHeaders?: readonly string[] | undefined;
  /**
   * Separator of forwarded array claims: one to eight visible ASCII characters that the value
   * encoding always escapes in elements (not letters, digits, `-`, `.`, `_`, `~` or `%`; no
   * spaces, which HTTP may trim), so splitting at it gives the elements back. Default `','`.
   */
  arraySeparator?: string | undefined;
  /**
   * Requests for which this returns true are not authenticated (public routes); forwarded identity
   * headers are still stripped from them. Default: none.
   */
  skip?: ((req: GatewayRequest) => boolean) | undefined;
}

/** The options, validated and defaulted. */
export interface ResolvedGuardOptions<Identity> {
  readonly verifier: JwtVerifier;
  readonly readToken: TokenReader;
  readonly realm: string | undefined;
  readonly scopes: readonly string[] | ((req: GatewayRequest) => readonly string[] | undefined) | undefined;
  readonly authorize: ((jwt: VerifiedJwt, req: GatewayRequest) => boolean) | undefined;
  readonly identity: ((jwt: VerifiedJwt) => Identity) | undefined;
  readonly forward: readonly (readonly [string, ClaimPath])[];
  readonly forwardPayload: string | undefined;
  /** Every header removed from every request. */
  readonly strip: readonly string[];
  readonly separator: string;
  readonly skip: ((req: GatewayRequest) => boolean) | undefined;
}

export function resolveGuardOptions<Identity>(options: JwtGuardOptions<Identity>): ResolvedGuardOptions<Identity> {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const verifier = options.verifier as Partial<JwtVerifier> | undefined;
  if (typeof verifier?.verify !== 'function' || typeof verifier.cached !== 'function') {
    throw new InvalidOptionError('verifier', verifier, 'a JwtVerifier (createJwtVerifier)');
  }
  const locations = options.token === undefined ? ['bearer' as const] : [options.token].flat();
  if (locations.length === 0) throw new InvalidOptionError('token', options.token, 'at least one token location');
  for (const [i, location] of locations.entries()) checkLocation(location, `token[${i}]`);
  const forward = Object.entries(options.forwardClaims ?? {}).map(([name, path]) => {
    const header = headerName(name, `forwardClaims[${JSON.stringify(name)}]`);
    checkPath(path, `forwardClaims[${JSON.stringify(name)}]`);
    return [header, path] as const;
  });
  const forwardPayload =
    options.forwardPayload === undefined ? undefined : headerName(options.forwardPayload, 'forwardPayload');
  const extra = (options.stripHeaders ?? []).map((name, i) => headerName(name, `stripHeaders[${i}]`));
  const strip = [...new Set([...forward.map(([name]) => name), ...(forwardPayload ? [forwardPayload] : []), ...extra])];
  const scopes = options.scopes;
  if (scopes !== undefined && typeof scopes !== 'function') {
    if (!Array.isArray(scopes)) throw new InvalidOptionError('scopes', scopes, 'an array of scopes or a function');
    scopes.forEach((scope, i) => nonEmptyString(scope, `scopes[${i}]`));
  }
  return {
    verifier: verifier as JwtVerifier,
    readToken: tokenReader(locations),
    realm: options.realm === undefined ? undefined : nonEmptyString(options.realm, 'realm'),
    scopes,
    authorize: optionalFunction(options.authorize, 'authorize'),
    identity: optionalFunction(options.identity, 'identity'),
    forward,
    forwardPayload,
    strip: Object.freeze(strip),
    separator: arraySeparator(options.arraySeparator ?? ',', 'arraySeparator'),
    skip: optionalFunction(options.skip, 'skip'),
  };
}

function checkLocation(location: unknown, option: string): void {
  if (location === 'bearer' || typeof location === 'function') return;
  if (typeof location === 'object' && location !== null) {
    const { header, cookie, scheme } = location as { header?: unknown; cookie?: unknown; scheme?: unknown };
    if (cookie !== undefined && header === undefined) {
      nonEmptyString(cookie, `${option}.cookie`);
      return;
    }
    if (header !== undefined && cookie === undefined) {
      anyHeaderName(header, `${option}.header`);
      if (scheme !== undefined) nonEmptyString(scheme, `${option}.scheme`);
      return;
    }
  }
  throw new InvalidOptionError(option, location, "'bearer', { header, scheme? }, { cookie } or a function");
}

function checkPath(path: unknown, option: string): void {
  if (typeof path === 'function') return;
  if (typeof path === 'string' && path !== '') return;
  if (Array.isArray(path) && path.length > 0 && path.every((step) => typeof step === 'string')) return;
  throw new InvalidOptionError(option, path, 'a claim name, a path array or a function');
}

function optionalFunction<F extends (...args: never[]) => unknown>(
  value: F | undefined,
  option: string,
): F | undefined {
  return value === undefined ? undefined : isFunctionOption(value, option);
}
