import {
  InvalidOptionError,
  PROBLEM_JSON,
  problemDetails,
  type GatewayRequest,
  type Guard,
  type Outcome,
  type Verdict,
} from '@portcullis/core';
import type { Route } from '../routes/route.js';
import { RouteTableRef } from '../routes/table-ref.js';
import type { RouteTable } from '../routes/table.js';

/**
 * What the router guard adds to the request context: the matched route, its params and the
 * canonical path (the form to forward). `req.portcullis.route` on Express and Fastify,
 * `c.get('portcullis').route` on Hono, `req.context.route` for later guards.
 *
 * @example
 * ```ts
 * import type { Guard } from '@portcullis/core';
 *
 * const onlyUsers: Guard = (req) =>
 *   req.context.route?.name === 'user' ? { action: 'continue' } : { action: 'respond', status: 403 };
 * ```
 */
export interface RouterContext {
  /** The route the request matched. */
  readonly route: Route;
  /** Its params, percent-decoded (a wildcard's under `'*'`). */
  readonly params: Readonly<Record<string, string>>;
  /** The canonical path: what the forwarder sends upstream. */
  readonly canonicalPath: string;
  /** The variant the route's split assigned (absent when the route has no split). */
  readonly variant?: string | undefined;
}

declare module '@portcullis/core' {
  // Types `req.portcullis.route` (and `req.context.route`) for every app that imports this package.
  interface PortcullisContext {
    /** The matched route, set by `@portcullis/router`'s guard. */
    readonly route: Route;
    /** The matched route's params, set by `@portcullis/router`'s guard. */
    readonly params: Readonly<Record<string, string>>;
    /** The canonical request path, set by `@portcullis/router`'s guard. */
    readonly canonicalPath: string;
    /** The variant of the matched route's split, set by `@portcullis/router`'s guard. */
    readonly variant: string;
  }
}

/**
 * How a routed request ended: the route it matched (even if the table was replaced meanwhile)
 * and the outcome.
 *
 * @example
 * ```ts
 * import type { RouteOutcome } from '@portcullis/router';
 *
 * const log = ({ route, outcome }: RouteOutcome) => console.log(route.name, outcome.status, outcome.durationMs);
 * ```
 */
export interface RouteOutcome<Meta = unknown> {
  readonly route: Route<Meta>;
  readonly params: Readonly<Record<string, string>>;
  /** The variant the route's split assigned; `undefined` when the route has no split. */
  readonly variant: string | undefined;
  readonly outcome: Outcome;
}

/**
 * Options of {@link routerGuard}.
 *
 * @example
 * ```ts
 * import { createRouteTable, type RouterGuardOptions } from '@portcullis/router';
 *
 * const options: RouterGuardOptions = {
 *   table: createRouteTable([{ name: 'user', path: '/users/:id' }]),
 *   onComplete: ({ route, outcome }) => console.log(route.name, outcome.status),
 * };
 * ```
 */
export interface RouterGuardOptions<Meta = unknown> {
  /** The route table, or a {@link RouteTableRef} to replace it at runtime. */
  readonly table: RouteTable<Meta> | RouteTableRef<Meta>;
  /**
   * Told how every matched request ended (status, duration): the hook the canary analysis and
   * other outcome consumers attach to. Default: none.
   */
  readonly onComplete?: ((result: RouteOutcome<Meta>) => void) | undefined;
  /**
   * An upstream header that names the variant (e.g. `x-variant`), set on requests of routes with a
   * split. The client's own value under that name (any spelling) is stripped on every matched
   * route, so it cannot be spoofed. Default: none.
   */
  readonly variantHeader?: string | undefined;
}

/**
 * A framework-neutral guard that routes requests with a route table: a match continues with
 * `route`, `params` and `canonicalPath` in the context; no route answers `404`, a route for other
 * methods only `405` with `Allow`, a path that breaks the canonical-path rules `400`, all as
 * problem details (`application/problem+json`). A route with a `split` gets its request's
 * `variant` in the context (and upstream under `variantHeader`), and each outcome (status,
 * duration) goes to the route's `canary` as `record(variant, outcome)`. The verdict is synchronous
 * except on routes whose split asks an asynchronous flag source (`openFeatureFlags`): there the
 * guard awaits `split.assignAsync(req)`, which waits at most the split's `flagTimeoutMs` and never
 * rejects.
 *
 * @param options - See {@link RouterGuardOptions}.
 * @throws InvalidOptionError when `table` is not a route table or `variantHeader` not a header name.
 *
 * @example
 * ```ts
 * import { portcullis } from '@portcullis/core/express';
 * import { createRouteTable, routerGuard } from '@portcullis/router';
 * import express from 'express';
 *
 * const table = createRouteTable([{ name: 'user', path: '/users/:id', methods: ['GET'] }]);
 * const app = express();
 * app.use(portcullis(routerGuard({ table })));
 * app.get('/users/:id', (req, res) => res.json({ route: req.portcullis?.route?.name }));
 * ```
 */
export function routerGuard<Meta = unknown>(options: RouterGuardOptions<Meta>): Guard<RouterContext> {
  const ref = options.table instanceof RouteTableRef ? options.table : new RouteTableRef(options.table);
  const report = options.onComplete;
  const variantHeader = headerName(options.variantHeader, 'variantHeader');
  // Frozen once: every verdict of a route without a split shares it.
  const strip = variantHeader === undefined ? undefined : Object.freeze([variantHeader]);

  function splitVerdict(
    route: Route<Meta>,
    params: Readonly<Record<string, string>>,
    canonicalPath: string,
    variant: string,
  ): Verdict<RouterContext> {
    const { canary } = route;
    return {
      action: 'continue',
      context: { route, params, canonicalPath, variant },
      // upstreamHeaders replace the client's value under every spelling of the name.
      upstreamHeaders: variantHeader === undefined ? undefined : new Headers([[variantHeader, variant]]),
      onComplete:
        report === undefined && canary === undefined
          ? undefined
          : function routed(outcome: Outcome): void {
              // Each is told even if the other throws (the adapter reports what was thrown).
              try {
                canary?.record(variant, { status: outcome.status, durationMs: outcome.durationMs });
              } finally {
                report?.({ route, params, variant, outcome });
              }
            },
    };
  }

  return function router(req: GatewayRequest): Verdict<RouterContext> | Promise<Verdict<RouterContext>> {
    const result = ref.current.match(req);
    switch (result.kind) {
      case 'matched': {
        const { route, params } = result;
        const { split } = route;
        if (split === undefined) {
          return {
            action: 'continue',
            context: { route, params, canonicalPath: result.path },
            stripUpstreamHeaders: strip,
            onComplete:
              report === undefined
                ? undefined
                : function routed(outcome: Outcome): void {
                    report({ route, params, variant: undefined, outcome });
                  },
          };
        }
        // The split reads the context earlier guards set (user id, segments) and the override.
        // Only a split with an asynchronous flag source makes the verdict wait (bounded by its
        // flagTimeoutMs; assignAsync never rejects).
        if (split.asyncFlags) {
          return split.assignAsync(req).then(({ variant }) => splitVerdict(route, params, result.path, variant));
        }
        return splitVerdict(route, params, result.path, split.assign(req).variant);
      }
      case 'method-not-allowed': {
        const headers = new Headers({ 'content-type': PROBLEM_JSON, allow: result.allow.join(', ') });
        // core's problemDetails has no title for 405; RFC 9457 wants the status phrase.
        const body = {
          ...problemDetails(405, `This route does not answer ${safeMethod(req.method)}.`),
          title: 'Method Not Allowed',
        };
        return { action: 'respond', status: 405, headers, body };
      }
      case 'not-found':
        return problem(404, 'No route matches this request.');
      case 'invalid-path':
        return problem(400, `The request path is refused: ${result.reason}.`);
    }
  };
}

function problem(status: number, detail: string): Verdict<RouterContext> {
  return {
    action: 'respond',
    status,
    headers: new Headers({ 'content-type': PROBLEM_JSON }),
    body: problemDetails(status, detail),
  };
}

// RFC 9110 token characters; lower-cased as Headers iterate them.
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]{1,256}$/;

function headerName(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  const name = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (name === undefined || !TOKEN.test(name)) throw new InvalidOptionError(option, value, 'a header name');
  return name;
}

// The method is client input: echo it only when it is a plain token.
function safeMethod(method: string): string {
  return /^[A-Z-]{1,20}$/.test(method) ? method : 'this method';
}
