/**
 * JWT authentication as a Fastify 5 plugin: `await app.register(jwtAuth({ verifier }))`. Handlers
 * read the verified token and identity as `request.portcullis.jwt` and `.identity`.
 *
 * @packageDocumentation
 */
import { portcullis, refusePluginForm } from '@portcullis/core/fastify';
import { jwtGuard } from './http/guard.js';
import type { JwtGuardOptions, JwtIdentity } from './http/options.js';

/**
 * A Fastify 5 plugin that authenticates the requests of the scope registering it (the root
 * instance: every route): {@link jwtGuard} through the `@portcullis/core/fastify` adapter, in an
 * `onRequest` hook. Forwarded identity headers are set on `request.headers` after every
 * client-sent copy was removed.
 *
 * @param options - See {@link JwtGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createJwtVerifier } from '@portcullis/jwt-cache';
 * import { jwtAuth } from '@portcullis/jwt-cache/fastify';
 *
 * const verifier = createJwtVerifier({
 *   issuers: { 'https://idp.example.com/': { jwks: 'https://idp.example.com/.well-known/jwks.json' } },
 * });
 *
 * const app = Fastify();
 * await app.register(jwtAuth({ verifier, scopes: ['orders:read'] }));
 * app.get('/me', (request) => ({ subject: request.portcullis?.jwt?.payload.sub })); // typed, no cast
 * ```
 */
export function jwtAuth<Identity = JwtIdentity>(options: JwtGuardOptions<Identity>): ReturnType<typeof portcullis> {
  const refusal = refusePluginForm(options, 'options', 'app.register(jwtAuth({ verifier }))');
  if (refusal !== undefined) return refusal;
  // Typed through the adapter (a `FastifyPluginCallback`) so that the declarations import it, and
  // with it its typing of `request.portcullis`, for code that imports only this entry point.
  return portcullis(jwtGuard(options));
}
