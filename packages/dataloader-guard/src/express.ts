/**
 * Per-request loaders as Express 5 middleware: `app.use(dataLoaders(loaders))`. Handlers read them
 * as `loaders.of(req.portcullis)` (typed) or `req.portcullis?.loaders`.
 *
 * @packageDocumentation
 */
import type { GuardContext } from '@portcullis/core';
import { portcullis } from '@portcullis/core/express';
import { loadersGuard, type LoadersGuardOptions } from './http/guard.js';
import type { AnyLoaderSpec, LoaderFactory } from './loader-factory.js';

/**
 * Express 5 middleware that gives every request its own loaders: {@link loadersGuard} through the
 * `@portcullis/core/express` adapter. They are given up when the client disconnects or the response
 * ends.
 *
 * @param factory - From `createLoaderFactory`.
 * @param options - See {@link LoadersGuardOptions}.
 * @throws InvalidOptionError when `factory` or an option is invalid.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createLoaderFactory } from '@portcullis/dataloader-guard';
 * import { dataLoaders } from '@portcullis/dataloader-guard/express';
 *
 * const loaders = createLoaderFactory({ users: { batchFn: fetchUsers, maxKeys: 100 } });
 * const app = express();
 * app.use(dataLoaders(loaders));
 * app.get('/users', async (req, res) => {
 *   const ids = String(req.query['ids'] ?? '').split(',');
 *   res.json(await loaders.of(req.portcullis).users.loadMany(ids));
 * });
 * ```
 */
export function dataLoaders<Specs extends Record<string, AnyLoaderSpec<Ctx>>, Ctx = GuardContext>(
  factory: LoaderFactory<Specs, Ctx>,
  options?: LoadersGuardOptions<Ctx>,
): ReturnType<typeof portcullis> {
  // Typed through the adapter (a `RequestHandler`) so that the declarations import it, and with it
  // its typing of `req.portcullis`, for code that imports only this entry point.
  return portcullis(loadersGuard(factory, options));
}
