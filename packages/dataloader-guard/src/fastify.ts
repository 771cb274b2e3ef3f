/**
 * Per-request loaders as a Fastify 5 plugin: `await app.register(dataLoaders(loaders))`. Handlers
 * read them as `loaders.of(request.portcullis)` (typed) or `request.portcullis?.loaders`.
 *
 * @packageDocumentation
 */
import type { GuardContext } from '@portcullis/core';
import { portcullis, refusePluginForm } from '@portcullis/core/fastify';
import { loadersGuard, type LoadersGuardOptions } from './http/guard.js';
import type { AnyLoaderSpec, LoaderFactory } from './loader-factory.js';

/**
 * A Fastify 5 plugin that gives every request of the registering scope its own loaders:
 * {@link loadersGuard} through the `@portcullis/core/fastify` adapter, in an `onRequest` hook.
 * They are given up when the client disconnects or the response ends.
 *
 * @param factory - From `createLoaderFactory`.
 * @param options - See {@link LoadersGuardOptions}.
 * @throws InvalidOptionError when `factory` or an option is invalid.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createLoaderFactory } from '@portcullis/dataloader-guard';
 * import { dataLoaders } from '@portcullis/dataloader-guard/fastify';
 *
 * const loaders = createLoaderFactory({ users: { batchFn: fetchUsers, maxKeys: 100 } });
 * const app = Fastify();
 * await app.register(dataLoaders(loaders));
 * app.get('/users/:id', (request) => loaders.of(request.portcullis).users.load((request.params as { id: string }).id));
 * ```
 */
export function dataLoaders<Specs extends Record<string, AnyLoaderSpec<Ctx>>, Ctx = GuardContext>(
  factory: LoaderFactory<Specs, Ctx>,
  options?: LoadersGuardOptions<Ctx>,
): ReturnType<typeof portcullis> {
  const refusal = refusePluginForm(factory, 'factory', 'app.register(dataLoaders(loaders))');
  if (refusal !== undefined) return refusal;
  // Typed through the adapter so that the declarations import its typing of `request.portcullis`.
  return portcullis(loadersGuard(factory, options));
}
