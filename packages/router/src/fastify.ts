/**
 * Routing as a Fastify 5 plugin: `await app.register(router({ table }))`. Handlers read the route
 * as `request.portcullis.route` and its params as `request.portcullis.params`.
 *
 * @packageDocumentation
 */
import { portcullis, refusePluginForm } from '@portcullis/core/fastify';
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
