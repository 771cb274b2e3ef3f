import {
  compose,
  CONTINUE,
  withContext,
  type GatewayRequest,
  type Guard,
  type GuardContext,
  type Outcome,
  type Verdict,
} from '@portcullis/core';

/**
 * The route a request matched, as telemetry labels it: the route's `name` (a Prometheus label)
 * and its path template (OpenTelemetry's `http.route`), both from the route table, never from the
 * request.
 *
 * @example
 * ```ts
 * import type { RouteInfo } from '@portcullis/telemetry';
 *
 * const users: RouteInfo = { name: 'users', template: '/users/:id' };
 * ```
 */
export interface RouteInfo {
  readonly name: string;
  /** The path template (`/users/:id`; `/api/*` for a prefix route). */
  readonly template?: string | undefined;
  /** The canonical path the router forwards (no query): the only path telemetry records. */
  readonly canonicalPath?: string | undefined;
  /** The variant the route's split assigned, when it has one. */
  readonly variant?: string | undefined;
}

/**
 * Finds the route of a request: from the context the guard added, else from the context earlier
 * guards added (`req.context`). The default reads what `@portcullis/router`'s guard adds.
 *
 * @example
 * ```ts
 * import type { RouteOf } from '@portcullis/telemetry';
 *
 * // Routes named by a guard of your own that puts `api` in the context.
 * const byApi: RouteOf = (req, context) => {
 *   const api = context?.['api'] ?? req.context['api'];
 *   return typeof api === 'string' ? { name: api } : undefined;
 * };
 * ```
 */
export type RouteOf = (req: GatewayRequest, context: GuardContext | undefined) => RouteInfo | undefined;

interface RouteLike {
  readonly name?: unknown;
  readonly definition?: { readonly path?: unknown; readonly prefix?: unknown };
}

/** Reads the `route`, `canonicalPath` and `variant` that `@portcullis/router`'s guard adds to the context. */
export const routerRoute: RouteOf = function routerRoute(req, context) {
  return readRoute(context) ?? readRoute(req.context);
};

function readRoute(context: GuardContext | undefined): RouteInfo | undefined {
  const route = context?.['route'] as RouteLike | undefined;
  if (typeof route?.name !== 'string') return undefined;
  const path = route.definition?.path;
  const template =
    typeof path !== 'string' ? undefined : route.definition?.prefix === true ? `${path.replace(/\/$/, '')}/*` : path;
  const canonicalPath = context?.['canonicalPath'];
  const variant = context?.['variant'];
  return {
    name: route.name,
    template,
    canonicalPath: typeof canonicalPath === 'string' ? canonicalPath : undefined,
    variant: typeof variant === 'string' ? variant : undefined,
  };
}

/** What a backend does for one request a watched guard sees. */
export interface RequestWatch {
  /** The guard decided: returns the verdict to pass on (the same, or with headers added). */
  verdict(verdict: Verdict, route: RouteInfo | undefined): Verdict;
  /** The request ended (the adapter's outcome). */
  end(outcome: Outcome): void;
  /** The guard threw or rejected: the framework's error path answers. */
  fail(error: unknown): void;
}

/** Where the probes of a watched chain leave the route for the request's watch. */
const ROUTE_SLOT = '@portcullis/telemetry:route';

/** Per request: the route the chain had matched when it was last seen to continue. */
interface RouteSlot {
  route: RouteInfo | undefined;
}

/**
 * Wraps a guard, or a chain given as a list (composed as `compose` does), so that `start` learns of
 * every request it sees, its verdict and its end. The verdict passed on gets an `onComplete` that
 * calls the guard's own first (when it has one), then `watch.end`. A synchronous guard stays
 * synchronous.
 *
 * A chain given as a list has a probe after each guard, which notes the route once one is in the
 * context: so an answer from a guard after the router (a 429) keeps its route, though the composed
 * `respond` verdict carries no context. The probes find the request's slot in its context, under a
 * name no handler sees (compose passes on only the context its guards add).
 */
export function watchGuard(
  guard: Guard<object> | readonly Guard<object>[],
  start: (req: GatewayRequest) => RequestWatch,
  routeOf: RouteOf,
): Guard<object> {
  const chain = Array.isArray(guard) ? (guard as readonly Guard<object>[]) : undefined;
  const inner = chain === undefined ? (guard as Guard<object>) : probed(chain, routeOf);
  return function watched(req: GatewayRequest) {
    const watch = start(req);
    const slot: RouteSlot | undefined = chain === undefined ? undefined : { route: undefined };
    let verdict: Verdict | PromiseLike<Verdict>;
    try {
      // A context type is any object; at run time it is read as a property bag (as the adapters do).
      verdict = inner(slot === undefined ? req : withContext(req, { ...req.context, [ROUTE_SLOT]: slot })) as
        Verdict | PromiseLike<Verdict>;
    } catch (error) {
      watch.fail(error);
      throw error;
    }
    if (!isPromiseLike(verdict)) return passOn(verdict, req, watch, routeOf, slot);
    return Promise.resolve(verdict).then(
      (resolved) => passOn(resolved, req, watch, routeOf, slot),
      (error: unknown) => {
        watch.fail(error);
        throw error;
      },
    );
  };
}

function probed(chain: readonly Guard<object>[], routeOf: RouteOf): Guard<object> {
  const probe: Guard = function routeProbe(req) {
    const slot = req.context[ROUTE_SLOT] as RouteSlot | undefined;
    if (slot !== undefined && slot.route === undefined) slot.route = routeOf(req, undefined);
    return CONTINUE;
  };
  return compose(...chain.flatMap((g) => [g, probe]));
}

function passOn(
  verdict: Verdict,
  req: GatewayRequest,
  watch: RequestWatch,
  routeOf: RouteOf,
  slot: RouteSlot | undefined,
): Verdict {
  const context = verdict.action === 'continue' ? verdict.context : undefined;
  const next = watch.verdict(verdict, routeOf(req, context) ?? slot?.route);
  const own = next.onComplete;
  return {
    ...next,
    onComplete: function watchedComplete(outcome: Outcome): void {
      try {
        own?.(outcome);
      } finally {
        watch.end(outcome);
      }
    },
  };
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
