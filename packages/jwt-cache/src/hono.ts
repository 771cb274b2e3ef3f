/**
 * JWT authentication as Hono 4 middleware: `app.use(jwtAuth({ verifier }))`. Handlers read the
 * verified token and identity as `c.get('portcullis').jwt` and `.identity`.
 *
 * @packageDocumentation
 */
import type { GuardContext } from '@portcullis/core';
import { portcullis, type HonoPortcullisOptions, type PortcullisEnv } from '@portcullis/core/hono';
import type { MiddlewareHandler } from 'hono';
import { jwtGuard, type JwtContext } from './http/guard.js';
import type { JwtGuardOptions, JwtIdentity } from './http/options.js';

/**
 * Hono 4 middleware that authenticates every request reaching it: {@link jwtGuard} through the
 * `@portcullis/core/hono` adapter. Forwarded identity headers are set on the request after every
 * client-sent copy was removed (on a copy of the request where the runtime's headers are immutable).
 *
 * @param options - See {@link JwtGuardOptions}.
 * @param adapterOptions - Options of the Hono adapter (`ip`).
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createJwtVerifier } from '@portcullis/jwt-cache';
 * import { jwtAuth } from '@portcullis/jwt-cache/hono';
 *
 * const verifier = createJwtVerifier({
 *   issuers: { 'https://idp.example.com/': { jwks: 'https://idp.example.com/.well-known/jwks.json' } },
 * });
 *
 * const app = new Hono().use(jwtAuth({ verifier }));
 * app.get('/me', (c) => c.json({ user: c.get('portcullis').identity?.subject ?? null }));
 * ```
 */
export function jwtAuth<Identity = JwtIdentity>(
  options: JwtGuardOptions<Identity>,
  adapterOptions?: HonoPortcullisOptions,
): MiddlewareHandler<PortcullisEnv<GuardContext & Partial<JwtContext<Identity>>>> {
  return portcullis(jwtGuard(options), adapterOptions);
}
