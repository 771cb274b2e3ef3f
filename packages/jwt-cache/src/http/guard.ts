import { PROBLEM_JSON, type GatewayRequest, type Guard, type Verdict } from '@portcullis/core';
import { isJwksUnavailableError, isJwtVerificationError } from '../errors.js';
import type { VerifiedJwt } from '../verified.js';
import { bearerChallenge, describeFailure } from './challenge.js';
import { claimAt, headerValue, UNFORWARDABLE } from './forward.js';
import { resolveGuardOptions, type JwtGuardOptions, type JwtIdentity, type ResolvedGuardOptions } from './options.js';
import { problem } from './problem.js';

/**
 * What the guard adds to the request context when it lets a request through
 * (`req.portcullis.jwt` / `.identity` on Express and Fastify, `c.get('portcullis')` on Hono,
 * `req.context` for later guards).
 *
 * @example
 * ```ts
 * import type { Guard } from '@portcullis/core';
 *
 * const tenantOnly: Guard = (req) => {
 *   const { jwt } = req.context; // typed by this package: a VerifiedJwt, or undefined before jwtGuard
 *   return jwt !== undefined && jwt.payload['tenant'] === req.header('x-tenant')
 *     ? { action: 'continue' }
 *     : { action: 'respond', status: 403 };
 * };
 * ```
 */
export interface JwtContext<Identity = JwtIdentity> {
  /** The verified token. */
  readonly jwt: VerifiedJwt;
  /** The identity mapped from it (see `identity` in {@link JwtGuardOptions}). */
  readonly identity: Identity;
}

/**
 * A framework-neutral guard that authenticates requests with a {@link JwtVerifier}; the entry
 * points `@portcullis/jwt-cache/express`, `/fastify` and `/hono` wrap it as middleware, and it
 * composes with other guards (`compose(jwtGuard(...), rateLimitGuard(...))`).
 *
 * - No token: `401` with `WWW-Authenticate: Bearer realm="…"` (no error code, RFC 6750 §3.1).
 * - A credential that is not one token (e.g. two `Authorization` headers): `400`,
 *   `error="invalid_request"`.
 * - A refused token: `401`, `error="invalid_token"` and a fixed `error_description` per reason;
 *   an expired token always says `The access token expired`, so clients know to refresh. The
 *   problem+json body carries the stable `code` (`ERR_JWT_CACHE_EXPIRED`, …).
 * - Missing scopes or a failed `authorize`: `403`, `error="insufficient_scope"` (with `scope`).
 * - The issuer's keys cannot be served (`jwks_unavailable`, fail closed): `503`; not the client's
 *   fault, so no challenge that would send it into a refresh loop.
 * - Let through: the context gets `{ jwt, identity }`; forwarded claims are set as upstream
 *   headers, percent-encoded (see `ClaimPath`), after every incoming copy of them was removed
 *   (on skipped routes too). A claim that cannot be forwarded unchanged (a lone surrogate): `401`
 *   with the code `ERR_JWT_CACHE_CLAIM`.
 *
 * A cached token is answered synchronously (no promise).
 *
 * @param options - See {@link JwtGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { compose } from '@portcullis/core';
 * import { portcullis } from '@portcullis/core/express';
 * import { createJwtVerifier, jwtGuard } from '@portcullis/jwt-cache';
 * import express from 'express';
 *
 * const verifier = createJwtVerifier({
 *   issuers: { 'https://idp.example.com/': { jwks: 'https://idp.example.com/.well-known/jwks.json', audience: 'api' } },
 * });
 *
 * const app = express();
 * app.use(portcullis(jwtGuard({ verifier, forwardClaims: { 'x-user-id': 'sub' } })));
 * ```
 */
export function jwtGuard<Identity = JwtIdentity>(options: JwtGuardOptions<Identity>): Guard<JwtContext<Identity>> {
  const settings = resolveGuardOptions(options);
  const { verifier, readToken, strip } = settings;
  const skipped: Verdict<JwtContext<Identity>> = Object.freeze({
    action: 'continue' as const,
    stripUpstreamHeaders: strip.length === 0 ? undefined : strip,
  });

  return function jwtAuth(req: GatewayRequest): Verdict<JwtContext<Identity>> | Promise<Verdict<JwtContext<Identity>>> {
    if (settings.skip?.(req) === true) return skipped;
    const found = readToken(req);
    if ('missing' in found) return unauthorized(settings, undefined, 'This request needs an access token');
    if ('invalid' in found) return invalidRequest(settings, found.invalid);
    const { token } = found;
    const hit = verifier.cached(token);
    if (hit !== undefined) return admit(settings, req, hit, token);
    return verifier.verify(token).then(
      (jwt) => admit(settings, req, jwt, token),
      (error: unknown) => refuse(settings, error),
    );
  };
}

function admit<Identity>(
  settings: ResolvedGuardOptions<Identity>,
  req: GatewayRequest,
  jwt: VerifiedJwt,
  token: string,
): Verdict<JwtContext<Identity>> {
  const required = typeof settings.scopes === 'function' ? settings.scopes(req) : settings.scopes;
  if (required !== undefined && required.length > 0) {
    const granted = scopesOf(jwt);
    const missing = required.filter((scope) => !granted.includes(scope));
    if (missing.length > 0)
      return forbidden(settings, required, `The access token lacks the scope ${missing.join(' ')}`);
  }
  if (settings.authorize !== undefined && !settings.authorize(jwt, req)) {
    return forbidden(settings, undefined, 'The access token does not grant access to this resource');
  }
  let upstream: Headers | undefined;
  for (const [name, path] of settings.forward) {
    const value = headerValue(claimAt(jwt, path), settings.separator);
    if (value === UNFORWARDABLE) return unforwardable(settings);
    if (value !== undefined) (upstream ??= new Headers()).set(name, value);
  }
  if (settings.forwardPayload !== undefined) {
    const first = token.indexOf('.');
    (upstream ??= new Headers()).set(settings.forwardPayload, token.slice(first + 1, token.indexOf('.', first + 1)));
  }
  const identity = settings.identity === undefined ? (defaultIdentity(jwt) as Identity) : settings.identity(jwt);
  return {
    action: 'continue',
    context: { jwt, identity },
    upstreamHeaders: upstream,
    stripUpstreamHeaders: settings.strip.length === 0 ? undefined : settings.strip,
  };
}

function refuse<Identity>(settings: ResolvedGuardOptions<Identity>, error: unknown): Verdict<JwtContext<Identity>> {
  if (isJwksUnavailableError(error)) {
    return {
      action: 'respond',
      status: 503,
      headers: new Headers({ 'content-type': PROBLEM_JSON }),
      body: problem(503, 'The access token cannot be verified now; try again later.', error.code),
    };
  }
  if (!isJwtVerificationError(error)) throw error;
  return unauthorized(settings, error.code, describeFailure(error.reason, error.claim));
}

/**
 * A validly signed token with a claim that cannot travel unchanged (a lone surrogate, which has no
 * UTF-8 form): the identity cannot be forwarded as signed, so the token is refused (with the code
 * of a failed claim check) rather than forwarded altered, and never with a 500.
 */
function unforwardable<Identity>(settings: ResolvedGuardOptions<Identity>): Verdict<JwtContext<Identity>> {
  return unauthorized(settings, 'ERR_JWT_CACHE_CLAIM', 'The access token has a claim that cannot be forwarded');
}

function unauthorized<Identity>(
  settings: ResolvedGuardOptions<Identity>,
  code: string | undefined,
  detail: string,
): Verdict<JwtContext<Identity>> {
  const challenge =
    code === undefined ? bearerChallenge(settings.realm) : bearerChallenge(settings.realm, 'invalid_token', detail);
  return {
    action: 'respond',
    status: 401,
    headers: new Headers({ 'www-authenticate': challenge, 'content-type': PROBLEM_JSON }),
    body: problem(401, detail, code),
  };
}

function invalidRequest<Identity>(
  settings: ResolvedGuardOptions<Identity>,
  detail: string,
): Verdict<JwtContext<Identity>> {
  return {
    action: 'respond',
    status: 400,
    headers: new Headers({
      'www-authenticate': bearerChallenge(settings.realm, 'invalid_request', detail),
      'content-type': PROBLEM_JSON,
    }),
    body: problem(400, detail),
  };
}

function forbidden<Identity>(
  settings: ResolvedGuardOptions<Identity>,
  scope: readonly string[] | undefined,
  detail: string,
): Verdict<JwtContext<Identity>> {
  return {
    action: 'respond',
    status: 403,
    headers: new Headers({
      'www-authenticate': bearerChallenge(settings.realm, 'insufficient_scope', detail, scope),
      'content-type': PROBLEM_JSON,
    }),
    body: problem(403, detail),
  };
}

/** The granted scopes: `scope` (space-separated, RFC 8693/9068) or `scp` (array or string). */
export function scopesOf(jwt: VerifiedJwt): readonly string[] {
  const { scope, scp } = jwt.payload as { scope?: unknown; scp?: unknown };
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s !== '');
  if (Array.isArray(scp)) return scp.filter((s): s is string => typeof s === 'string');
  if (typeof scp === 'string') return scp.split(' ').filter((s) => s !== '');
  return [];
}

function defaultIdentity(jwt: VerifiedJwt): JwtIdentity {
  const sub = jwt.payload.sub;
  return { subject: typeof sub === 'string' ? sub : undefined, issuer: jwt.issuer, scopes: scopesOf(jwt) };
}
