/**
 * Per-request loaders as Hono 4 middleware: `app.use(dataLoaders(loaders))`. Handlers read them as
 * `c.get('portcullis').loaders` (typed) or `loaders.of(c.get('portcullis'))`.
 *
 * @packageDocumentation
 */
import type { GuardContext } from '@portcullis/core';
import { portcullis, type HonoPortcullisOptions, type PortcullisEnv } from '@portcullis/core/hono';
import type { MiddlewareHandler } from 'hono';
import { loadersGuard, type LoadersContext, type LoadersGuardOptions } from './http/guard.js';
import type { AnyLoaderSpec, LoaderFactory } from './loader-factory.js';

/**
 * Hono 4 middleware that gives every request its own loaders: {@link loadersGuard} through the
 * `@portcullis/core/hono` adapter. They are given up when the client disconnects (where the runtime
 * tells) or the response ends.
 *
 * @param factory - From `createLoaderFactory`.
 * @param options - See {@link LoadersGuardOptions}.
 * @param adapterOptions - Options of the Hono adapter (`ip`).
 * @throws InvalidOptionError when `factory` or an option is invalid.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createLoaderFactory } from '@portcullis/dataloader-guard';
 * import { dataLoaders } from '@portcullis/dataloader-guard/hono';
 *
 * const loaders = createLoaderFactory({ users: { batchFn: fetchUsers, maxKeys: 100 } });
 * const app = new Hono().use(dataLoaders(loaders));
 * app.get('/users/:id', async (c) => c.json(await loaders.of(c.get('portcullis')).users.load(c.req.param('id'))));
 * ```
 */
export function dataLoaders<Specs extends Record<string, AnyLoaderSpec<Ctx>>, Ctx = GuardContext>(
  factory: LoaderFactory<Specs, Ctx>,
  options?: LoadersGuardOptions<Ctx>,
  adapterOptions?: HonoPortcullisOptions,
): MiddlewareHandler<PortcullisEnv<GuardContext & Partial<LoadersContext<Specs>>>> {
  return portcullis(loadersGuard(factory, options), adapterOptions);
}
