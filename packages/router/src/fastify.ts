/**
 * Routing as a Fastify 5 plugin: `await app.register(router({ table }))`. Handlers read the route
 * as `request.portcullis.route` and its params as `request.portcullis.params`;
 * `await app.register(forward({ targets }))` forwards the routed requests upstream.
 *
 * @packageDocumentation
 */
import { portcullis, refusePluginForm } from '@portcullis/core/fastify';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { createForwardHandler, type ForwardHandlerOptions } from './http/forward-handler.js';
import { routerGuard, type RouterGuardOptions } from './http/guard.js';

/**
 * A Fastify 5 plugin that routes the requests of the scope registering it: {@link routerGuard}
 * through the `@portcullis/core/fastify` adapter, in an `onRequest` hook. Fastify's own router
 * runs first, so mount the handlers on a catch-all route (`app.all('/*', …)`) or on the same paths.
 *
 * @param options - See {@link RouterGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createRouteTable } from '@portcullis/router';
 * import { router } from '@portcullis/router/fastify';
 *
 * const app = Fastify();
 * await app.register(router({ table: createRouteTable([{ name: 'user', path: '/users/:id' }]) }));
 * app.all('/*', (request) => ({ route: request.portcullis?.route?.name }));
 * ```
 */
export function router<Meta = unknown>(options: RouterGuardOptions<Meta>): ReturnType<typeof portcullis> {
  const refusal = refusePluginForm(options, 'options', 'app.register(router({ table }))');
  if (refusal !== undefined) return refusal;
  return portcullis(routerGuard(options));
}

/**
 * A Fastify 5 plugin that forwards the requests a {@link router} plugin matched
 * (`request.portcullis.route`) to their route's target, streaming both ways. It registers
 * catch-all routes (`/*`, every method) in its own scope, with a content-type parser that leaves
 * bodies unread for the upstream (so no `bodyLimit` applies); a request without a route gets
 * Fastify's 404. Register it with a `prefix` to forward only below one. With `router` in the
 * options it also forwards WebSocket handshakes (`upgrade` events of `app.server`), running
 * `guard` and the router itself since Fastify's hooks never see them. The forwarder is closed
 * with the app.
 *
 * @param options - See {@link ForwardHandlerOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createRouteTable, fixedEndpoints } from '@portcullis/router';
 * import { forward, router } from '@portcullis/router/fastify';
 *
 * const table = createRouteTable([{ name: 'api', path: '/api', prefix: true }]);
 * const app = Fastify();
 * await app.register(router({ table }));
 * await app.register(
 *   forward({ targets: { api: { endpoints: fixedEndpoints(['http://127.0.0.1:3001']), rewrite: { stripPrefix: '/api' } } } }),
 * );
 * await app.listen({ port: 8080 });
 * ```
 */
export function forward<Meta = unknown>(options: ForwardHandlerOptions<Meta>): FastifyPluginCallback {
  const refusal = refusePluginForm(options, 'options', 'app.register(forward({ targets }))');
  if (refusal !== undefined) return refusal;
  const handler = createForwardHandler(options);
  const upgrades = options.router !== undefined;
  return function forwardPlugin(instance: FastifyInstance, _options: unknown, done: (error?: Error) => void): void {
    // In this plugin's scope only: bodies stay unread, whatever their type, for the upstream.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', function leaveUnread(_request, _payload, parsed) {
      parsed(null);
    });
    instance.all('/*', function forwardRoute(request: FastifyRequest, reply: FastifyReply): void {
      const context = request.portcullis;
      if (context?.route === undefined) {
        reply.callNotFound();
        return;
      }
      // The answer is streamed straight into Node's response: Fastify stops managing this reply,
      // so the headers earlier hooks set on it (rate limits, CORS) move to Node's response now.
      reply.hijack();
      const raw = reply.raw;
      const headers = reply.getHeaders();
      for (const name of Object.keys(headers)) {
        const value = headers[name];
        if (value !== undefined) raw.appendHeader(name, typeof value === 'number' ? String(value) : value);
      }
      handler.forward(request.raw, raw, context);
    });
    if (upgrades) {
      instance.server.on('upgrade', handler.upgrade);
      instance.addHook('onClose', function stopUpgrades(app, closed) {
        app.server.off('upgrade', handler.upgrade);
        closed();
      });
    }
    instance.addHook('onClose', async function closeForwarder() {
      await handler.close();
    });
    done();
  };
}
