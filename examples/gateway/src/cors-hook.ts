import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { corsPolicy, isPreflight, type CorsOptions } from './cors.js';

/**
 * Adds `Origin` to the answer's `Vary` as `@fastify/cors` 11 does (its `vary.js`): set when there is
 * none, left alone when it is `*` or names `Origin` already, `*` when it lists `*`, else appended.
 */
function varyOnOrigin(reply: FastifyReply): void {
  const current = reply.getHeader('vary');
  if (current === undefined || current === '' || current === 0) {
    reply.header('vary', 'Origin');
    return;
  }
  if (current === '*') return;
  const header = Array.isArray(current) ? current.join(', ') : String(current);
  const names = header
    .toLowerCase()
    .split(',')
    .map((name) => name.trim());
  if (names.includes('*')) reply.header('vary', '*');
  else if (!names.includes('origin')) reply.header('vary', `${header}, Origin`);
}

/**
 * The gateway's CORS, answered in a root `onRequest` hook of its own: what `@fastify/cors` 11 did
 * with {@link corsOptions} (same headers, same preflight answer, same `OPTIONS *` route), without
 * re-normalising its options on every request. Every header value is built once here; per request
 * it is one origin comparison and three header writes. Add it to the root instance before any
 * guard, so that preflights are answered without credentials (a browser sends none with them) and
 * every answer, refusals and 429s included, carries the headers a page needs to read it. An
 * OPTIONS request that is not a preflight goes on to the route like any other request.
 *
 * @throws InvalidOptionError when an origin is not a bare `scheme://host[:port]`.
 * @example
 * ```ts
 * gatewayCors(app, { origins: ['https://app.example.com'] });
 * ```
 */
export function gatewayCors(app: FastifyInstance, options: CorsOptions): void {
  const policy = corsPolicy(options);
  const anyOrigin = policy.origins === '*';
  const allowed: ReadonlySet<string> = new Set(anyOrigin ? [] : policy.origins);
  const exposed = policy.exposedHeaders.join(', ');
  const methods = policy.methods.join(', ');
  const allowedHeaders = policy.allowedHeaders.join(', ');
  const maxAge = String(policy.maxAge);

  app.addHook(
    'onRequest',
    function gatewayCorsHook(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
      varyOnOrigin(reply);
      if (anyOrigin) reply.header('access-control-allow-origin', '*');
      else {
        const origin = request.headers.origin;
        if (origin !== undefined && allowed.has(origin)) reply.header('access-control-allow-origin', origin);
      }
      reply.header('access-control-expose-headers', exposed);
      if (!isPreflight(request)) {
        done();
        return;
      }
      // Answered here, before any guard and without reaching a route.
      reply
        .header('access-control-allow-methods', methods)
        .header('access-control-allow-headers', allowedHeaders)
        .header('access-control-max-age', maxAge)
        .code(204)
        .header('content-length', '0')
        .send();
    },
  );
  // As @fastify/cors: an OPTIONS route for every path, so that a preflight to a path no route serves
  // is routed at all; a preflight never reaches it (answered in the hook), anything else is a 404.
  app.options('*', function notAPreflight(_request, reply) {
    reply.callNotFound();
  });
}
