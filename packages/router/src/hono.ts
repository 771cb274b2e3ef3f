/**
 * Routing as Hono 4 middleware: `app.use(router({ table }))`. Handlers read the route as
 * `c.get('portcullis').route` and its params as `c.get('portcullis').params`;
 * `app.use(forward({ targets }))` forwards the routed requests upstream (on `@hono/node-server`).
 *
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError, type GuardContext } from '@portcullis/core';
import { portcullis, type HonoPortcullisOptions, type PortcullisEnv } from '@portcullis/core/hono';
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { ForwardResult } from './forward/exchange.js';
import { createForwardHandler, type ForwardHandler, type ForwardHandlerOptions } from './http/forward-handler.js';
import { routerGuard, type RouterContext, type RouterGuardOptions } from './http/guard.js';

/**
 * Hono 4 middleware that routes every request reaching it: {@link routerGuard} through the
 * `@portcullis/core/hono` adapter.
 *
 * @param options - See {@link RouterGuardOptions}.
 * @param adapterOptions - Options of the Hono adapter (`ip`).
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createRouteTable } from '@portcullis/router';
 * import { router } from '@portcullis/router/hono';
 *
 * const app = new Hono().use(router({ table: createRouteTable([{ name: 'user', path: '/users/:id' }]) }));
 * app.all('*', (c) => c.json({ route: c.get('portcullis').route?.name ?? null }));
 * ```
 */
export function router<Meta = unknown>(
  options: RouterGuardOptions<Meta>,
  adapterOptions?: HonoPortcullisOptions,
): MiddlewareHandler<PortcullisEnv<GuardContext & Partial<RouterContext>>> {
  return portcullis(routerGuard(options), adapterOptions);
}

/**
 * Hono 4 middleware, on Node through `@hono/node-server`, that forwards the requests a
 * {@link router} middleware matched (`c.get('portcullis').route`) to their route's target,
 * streaming Node's request and response (`c.env.incoming` / `c.env.outgoing`) both ways, with the
 * response headers earlier guards added; a request without a route goes to `next()`. The returned
 * response tells Hono the answer was sent, and carries the status the client got (for the
 * router's `onComplete`). WebSocket handshakes never reach Hono: pass `router` in the options and
 * listen with `server.on('upgrade', proxy.upgrade)`.
 *
 * @param options - See {@link ForwardHandlerOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { serve } from '@hono/node-server';
 * import { Hono } from 'hono';
 * import { createRouteTable, fixedEndpoints } from '@portcullis/router';
 * import { forward, router } from '@portcullis/router/hono';
 *
 * const table = createRouteTable([{ name: 'api', path: '/api', prefix: true }]);
 * const proxy = forward({
 *   targets: { api: { endpoints: fixedEndpoints(['http://127.0.0.1:3001']), rewrite: { stripPrefix: '/api' } } },
 *   router: { table },
 * });
 * const app = new Hono().use(router({ table })).use(proxy);
 * const server = serve({ fetch: app.fetch, port: 8080 });
 * server.on('upgrade', proxy.upgrade);
 * ```
 */
export function forward<Meta = unknown>(options: ForwardHandlerOptions<Meta>): HonoForwardMiddleware {
  const handler = createForwardHandler(options);
  async function forwardMiddleware(c: Context, next: Next): Promise<Response | undefined> {
    const context = (c.get('portcullis') as GuardContext | undefined) ?? undefined;
    if (context?.route === undefined) {
      await next();
      return undefined;
    }
    const env = c.env as Partial<NodeServerBindings> | undefined;
    const incoming = env?.incoming;
    const outgoing = env?.outgoing;
    if (incoming === undefined || outgoing === undefined) {
      throw new InvalidOptionError(
        'runtime',
        'no c.env.incoming',
        'Hono on @hono/node-server (forwarding streams Node requests)',
      );
    }
    // Headers guards added to the response (rate limits, CORS) live on `c.res` until Hono sends it.
    for (const [name, value] of c.res.headers) outgoing.appendHeader(name, value);
    const result = await new Promise<ForwardResult>((resolve) => {
      handler.forward(incoming, outgoing, context, resolve);
    });
    return new Response(null, { status: responseStatus(result.status), headers: ALREADY_SENT });
  }
  // The context type is declared by the router middleware; at run time it is a plain handler.
  return Object.assign(
    forwardMiddleware as unknown as MiddlewareHandler<PortcullisEnv<GuardContext & Partial<RouterContext>>>,
    {
      upgrade: handler.upgrade,
      handler,
      close: () => handler.close(),
    },
  );
}

/**
 * What {@link forward} returns: Hono middleware, with the handler's `upgrade` listener and `close`.
 *
 * @example
 * ```ts
 * import { forward, type HonoForwardMiddleware } from '@portcullis/router/hono';
 *
 * const proxy: HonoForwardMiddleware = forward({ targets: {} });
 * proxy.handler.forwarder.events.on('attempt', (event) => console.log(event.endpoint, event.outcome));
 * await proxy.close();
 * ```
 */
export type HonoForwardMiddleware = MiddlewareHandler<PortcullisEnv<GuardContext & Partial<RouterContext>>> & {
  /** A `node:http` `upgrade` listener: `server.on('upgrade', proxy.upgrade)`. */
  readonly upgrade: ForwardHandler['upgrade'];
  /** The framework-neutral handler underneath (its `forwarder.events` report every attempt). */
  readonly handler: ForwardHandler;
  /** Closes the forwarder if the handler created it. */
  close(): Promise<void>;
};

/** What `@hono/node-server` passes as `c.env`. */
interface NodeServerBindings {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
}

// `@hono/node-server` writes nothing for a response with this header (its RESPONSE_ALREADY_SENT).
const ALREADY_SENT: Readonly<Record<string, string>> = Object.freeze({ 'x-hono-already-sent': 'true' });

/** A Web `Response` takes statuses 200–599 only; the client's status is always one of them. */
function responseStatus(status: number): number {
  return status >= 200 && status <= 599 ? status : 502;
}
