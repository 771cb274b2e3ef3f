/**
 * Routing as Express 5 middleware: `app.use(router({ table }))`. Handlers read the route as
 * `req.portcullis.route` and its params as `req.portcullis.params`; `app.use(forward({ targets }))`
 * forwards the routed requests upstream.
 *
 * @packageDocumentation
 */
import { portcullis } from '@portcullis/core/express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createForwardHandler, type ForwardHandler, type ForwardHandlerOptions } from './http/forward-handler.js';
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

/**
 * Express 5 middleware that forwards the requests a {@link router} middleware before it matched
 * (`req.portcullis.route`) to their route's target, streaming both ways; a request without a route
 * goes to `next()`. Mount it before any body parser (the body must reach the upstream unread).
 * WebSocket handshakes never reach Express: pass `router` in the options and listen with
 * `server.on('upgrade', proxy.upgrade)`.
 *
 * @param options - See {@link ForwardHandlerOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import express from 'express';
 * import { createRouteTable, fixedEndpoints } from '@portcullis/router';
 * import { forward, router } from '@portcullis/router/express';
 *
 * const table = createRouteTable([{ name: 'api', path: '/api', prefix: true }]);
 * const proxy = forward({
 *   targets: { api: { endpoints: fixedEndpoints(['http://127.0.0.1:3001']), rewrite: { stripPrefix: '/api' } } },
 *   router: { table }, // for upgrades
 * });
 * const app = express();
 * app.use(router({ table }));
 * app.use(proxy);
 * const server = createServer(app).listen(8080);
 * server.on('upgrade', proxy.upgrade);
 * ```
 */
export function forward<Meta = unknown>(options: ForwardHandlerOptions<Meta>): ForwardMiddleware {
  const handler = createForwardHandler(options);
  const middleware = function forwardMiddleware(req: Request, res: Response, next: NextFunction): void {
    const context = req.portcullis;
    if (context?.route === undefined) {
      next();
      return;
    }
    handler.forward(req, res, context);
  };
  return Object.assign(middleware, { upgrade: handler.upgrade, handler, close: () => handler.close() });
}

/**
 * What {@link forward} returns: Express middleware, with the handler's `upgrade` listener and
 * `close`.
 *
 * @example
 * ```ts
 * import { forward, type ForwardMiddleware } from '@portcullis/router/express';
 *
 * const proxy: ForwardMiddleware = forward({ targets: {} });
 * proxy.handler.forwarder.events.on('attempt', (event) => console.log(event.endpoint, event.outcome));
 * await proxy.close();
 * ```
 */
export interface ForwardMiddleware extends RequestHandler {
  /** A `node:http` `upgrade` listener: `server.on('upgrade', proxy.upgrade)`. */
  readonly upgrade: ForwardHandler['upgrade'];
  /** The framework-neutral handler underneath (its `forwarder.events` report every attempt). */
  readonly handler: ForwardHandler;
  /** Closes the forwarder if the handler created it. */
  close(): Promise<void>;
}
