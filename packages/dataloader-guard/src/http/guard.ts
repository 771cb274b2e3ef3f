import type { GatewayRequest, Guard, GuardContext, Verdict } from '@portcullis/core';
import { hasBrand, InvalidOptionError, isFunctionOption } from '@portcullis/core';
import type { AnyLoaderSpec, LoaderFactory, LoadersOf } from '../loader-factory.js';

/**
 * What the loaders guard adds to the request context: the request's loaders, as `loaders`
 * (`req.portcullis.loaders` on Express and Fastify, `c.get('portcullis').loaders` on Hono,
 * `req.context.loaders` for later guards; `factory.of(context)` reads them typed).
 */
export type LoadersContext<Specs> = { readonly loaders: LoadersOf<Specs> };

/**
 * Options of {@link loadersGuard} (and of `dataLoaders` in `/express`, `/fastify`, `/hono`).
 *
 * @example
 * ```ts
 * import type { LoadersGuardOptions } from '@portcullis/dataloader-guard';
 *
 * const options: LoadersGuardOptions = { deadlineMs: 500, context: (req) => ({ token: req.header('authorization') }) };
 * ```
 */
export interface LoadersGuardOptions<Ctx = GuardContext> {
  /** Each request's deadline in ms, instead of the factory's `deadlineMs`. Default: the factory's. */
  deadlineMs?: number | undefined;
  /**
   * What the batch functions get as `info.context`, from the request. Default: the context earlier
   * guards put on the request (`req.context`: a verified identity, say).
   */
  context?: ((req: GatewayRequest) => Ctx) | undefined;
}

/** The reason a request's loaders are given up when its response is over (one, shared: it is only read). */
const REQUEST_ENDED = new Error('the request ended');

/**
 * A guard that gives each request its own loaders from `factory` (`factory.forRequest`) and puts
 * them in the context as `loaders`. They follow the request: when the client goes away, or when
 * the response is over, whatever they still have waiting, queued or running is given up
 * (`LoaderAbortedError`, batch signals aborted), so a finished request leaves no work behind.
 * The framework entry points (`dataLoaders` from `/express`, `/fastify`, `/hono`) mount it; it also
 * composes (`compose(authenticate, loadersGuard(loaders))`: the batch functions then see the
 * identity in `info.context`).
 *
 * @param factory - From `createLoaderFactory`.
 * @param options - See {@link LoadersGuardOptions}.
 * @throws InvalidOptionError when `factory` is not a loader factory or an option is invalid.
 *
 * @example
 * ```ts
 * import { compose } from '@portcullis/core';
 * import { portcullis } from '@portcullis/core/express';
 * import { createLoaderFactory, loadersGuard } from '@portcullis/dataloader-guard';
 *
 * const loaders = createLoaderFactory({ users: { batchFn: fetchUsers } });
 * app.use(portcullis(compose(authenticate, loadersGuard(loaders, { deadlineMs: 500 }))));
 * app.get('/users/:id', async (req, res) => {
 *   res.json(await loaders.of(req.portcullis).users.load(req.params.id));
 * });
 * ```
 */
export function loadersGuard<Specs extends Record<string, AnyLoaderSpec<Ctx>>, Ctx = GuardContext>(
  factory: LoaderFactory<Specs, Ctx>,
  options: LoadersGuardOptions<Ctx> = {},
): Guard<LoadersContext<Specs>> {
  if (!hasBrand(factory, 'isLoaderFactory')) {
    throw new InvalidOptionError('factory', factory, 'a LoaderFactory from createLoaderFactory()');
  }
  const contextOf = options.context === undefined ? undefined : isFunctionOption(options.context, 'context');
  const deadlineMs = options.deadlineMs;
  // Validated once, here, by building (and dropping) one request's loaders.
  factory.forRequest({ deadlineMs });
  return function loaders(req: GatewayRequest): Verdict<LoadersContext<Specs>> {
    const controller = new AbortController();
    const clientSignal = req.signal;
    if (clientSignal !== undefined) {
      if (clientSignal.aborted) controller.abort(clientSignal.reason);
      else
        clientSignal.addEventListener(
          'abort',
          () => {
            controller.abort(clientSignal.reason);
          },
          { once: true, signal: controller.signal },
        );
    }
    const set = factory.forRequest({
      signal: controller.signal,
      context: contextOf === undefined ? (req.context as Ctx) : contextOf(req),
      deadlineMs,
    });
    return {
      action: 'continue',
      context: { loaders: set },
      onComplete: function releaseLoaders(): void {
        controller.abort(REQUEST_ENDED);
      },
    };
  };
}
