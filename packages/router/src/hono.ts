/**
 * Routing as Hono 4 middleware: `app.use(router({ table }))`. Handlers read the route as
 * `c.get('portcullis').route` and its params as `c.get('portcullis').params`.
 *
 * @packageDocumentation
 */
import type { GuardContext } from '@portcullis/core';
import { portcullis, type HonoPortcullisOptions, type PortcullisEnv } from '@portcullis/core/hono';
import type { MiddlewareHandler } from 'hono';
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
