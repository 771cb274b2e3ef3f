/**
 * JWT authentication as Express 5 middleware: `app.use(jwtAuth({ verifier }))`. Handlers read the
 * verified token and identity as `req.portcullis.jwt` and `req.portcullis.identity`.
 *
 * @packageDocumentation
 */
import { portcullis } from '@portcullis/core/express';
import { jwtGuard } from './http/guard.js';
import type { JwtGuardOptions, JwtIdentity } from './http/options.js';

/**
 * Express 5 middleware that authenticates every request reaching it: {@link jwtGuard} through the
 * `@portcullis/core/express` adapter. Forwarded identity headers are set on `req.headers` after
 * every client-sent copy was removed.
 *
 * @param options - See {@link JwtGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createJwtVerifier } from '@portcullis/jwt-cache';
 * import { jwtAuth } from '@portcullis/jwt-cache/express';
 *
 * const verifier = createJwtVerifier({
 *   issuers: { 'https://idp.example.com/': { jwks: 'https://idp.example.com/.well-known/jwks.json' } },
 * });
 *
 * const app = express();
 * app.use(jwtAuth({ verifier, forwardClaims: { 'x-user-id': 'sub' }, skip: (req) => req.path === '/health' }));
 * app.get('/me', (req, res) => {
 *   res.json({ user: req.get('x-user-id') });
 * });
 * ```
 */
export function jwtAuth<Identity = JwtIdentity>(options: JwtGuardOptions<Identity>): ReturnType<typeof portcullis> {
  // Typed through the adapter (a `RequestHandler`) so that the declarations import it, and
  // with it its typing of `req.portcullis`, for code that imports only this entry point.
  return portcullis(jwtGuard(options));
}
