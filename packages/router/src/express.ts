/**
 * Routing as Express 5 middleware: `app.use(router({ table }))`. Handlers read the route as
 * `req.portcullis.route` and its params as `req.portcullis.params`.
 *
 * @packageDocumentation
 */
import { portcullis } from '@portcullis/core/express';
import { routerGuard, type RouterGuardOptions } from './http/guard.js';

/**
 * Express 5 middleware that routes every request reaching it: {@link routerGuard} through the
 * `@portcullis/core/express` adapter (404, 405 with `Allow`, 400 for unsafe paths).
 *
 * @param options - See {@link RouterGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createRouteTable } from '@portcullis/router';
 * import { router } from '@portcullis/router/express';
 *
 * const app = express();
 * app.use(router({ table: createRouteTable([{ name: 'user', path: '/users/:id' }]) }));
 * app.use((req, res) => res.json({ route: req.portcullis?.route?.name, params: req.portcullis?.params }));
 * ```
 */
export function router<Meta = unknown>(options: RouterGuardOptions<Meta>): ReturnType<typeof portcullis> {
  return portcullis(routerGuard(options));
}
