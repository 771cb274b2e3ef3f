import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  compose,
  InvalidOptionError,
  isFunctionOption,
  PROBLEM_JSON,
  problemDetails,
  reportUnhandled,
  type GuardContext,
  type Guard,
  type Outcome,
  type Verdict,
} from '@portcullis/core';
import type { ForwardResult } from '../forward/exchange.js';
import { createForwarder, type Forwarder, type ForwarderOptions } from '../forward/forwarder.js';
import { writeProblem } from '../forward/problem-response.js';
import { compileRewrite, type CompiledRewrite, type PathRewrite } from '../forward/rewrite.js';
import type { EndpointPicker } from '../pool/lease.js';
import type { Route } from '../routes/route.js';
import type { KeyFunction } from '../split/key.js';
import { routerGuard, type RouterContext, type RouterGuardOptions } from './guard.js';
import { applyUpstreamHeaders, nodeGatewayRequest, sendVerdict, sendVerdictOnSocket } from './node-verdict.js';

/**
 * Where a route's requests go.
 *
 * @example
 * ```ts
 * import { fixedEndpoints, stickyKey, type ForwardTarget } from '@portcullis/router';
 *
 * const users: ForwardTarget = {
 *   endpoints: fixedEndpoints(['http://10.0.0.7:8080', 'http://10.0.0.8:8080']),
 *   rewrite: { stripPrefix: '/api' },
 *   key: stickyKey({ header: 'x-user-id' }),
 * };
 * ```
 */
export interface ForwardTarget {
  /** The upstream's endpoints: an upstream pool, or `fixedEndpoints([...])`. */
  readonly endpoints: EndpointPicker;
  /** How the canonical path becomes the upstream's; see {@link PathRewrite}. Default: unchanged. */
  readonly rewrite?: PathRewrite | undefined;
  /** The key the hashing balancers hash (e.g. `stickyKey({ user })`). Default: none. */
  readonly key?: KeyFunction | undefined;
  /**
   * `true` retries this route's non-idempotent methods too (when the request is safe to replay:
   * e.g. its handler deduplicates by an idempotency key); `false` never retries. Default: the
   * forwarder's `retryMethods`.
   */
  readonly retry?: boolean | undefined;
}

/**
 * The targets of {@link createForwardHandler}: by route name, or a function of the route (called
 * once per route of a table; a replaced table's routes are asked again).
 *
 * @example
 * ```ts
 * import { fixedEndpoints, type ForwardTargets } from '@portcullis/router';
 *
 * const users = fixedEndpoints(['http://127.0.0.1:3001']);
 * const byName: ForwardTargets = { user: { endpoints: users } };
 * const byMeta: ForwardTargets<{ upstream: string }> = (route) =>
 *   route.meta?.upstream === 'users' ? { endpoints: users } : undefined;
 * ```
 */
export type ForwardTargets<Meta = unknown> =
  Readonly<Record<string, ForwardTarget>> | ((route: Route<Meta>) => ForwardTarget | undefined);

/**
 * Options of {@link createForwardHandler}.
 *
 * @example
 * ```ts
 * import { createRouteTable, fixedEndpoints, type ForwardHandlerOptions } from '@portcullis/router';
 *
 * const options: ForwardHandlerOptions = {
 *   targets: { user: { endpoints: fixedEndpoints(['http://127.0.0.1:3001']) } },
 *   router: { table: createRouteTable([{ name: 'user', path: '/users/:id' }]) },
 *   forwarder: { trustedProxies: ['loopback'] },
 * };
 * ```
 */
export interface ForwardHandlerOptions<Meta = unknown> {
  /** Where each route's requests go; see {@link ForwardTargets}. */
  readonly targets: ForwardTargets<Meta>;
  /**
   * A forwarder to share (closed by its owner), or the options of one this handler creates and
   * closes. Default: `createForwarder()`.
   */
  readonly forwarder?: Forwarder | ForwarderOptions | undefined;
  /**
   * The router guard's options, for the requests this handler routes itself: `handle` (a plain
   * `node:http` server) and `upgrade` (WebSocket handshakes, which never pass through a
   * framework's middleware). Default: none (`handle` and `upgrade` then answer 404).
   */
  readonly router?: RouterGuardOptions<Meta> | undefined;
  /**
   * Guards run before routing in `handle` and `upgrade` (authentication, rate limits): what a
   * framework's middleware does for plain requests, for the requests it never sees. Default: none.
   */
  readonly guard?: Guard<object> | undefined;
}

/**
 * Forwards routed requests; see {@link createForwardHandler}.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createForwardHandler, createRouteTable, fixedEndpoints, type ForwardHandler } from '@portcullis/router';
 *
 * const table = createRouteTable([{ name: 'all', path: '/', prefix: true }]);
 * const handler: ForwardHandler = createForwardHandler({
 *   targets: { all: { endpoints: fixedEndpoints(['http://127.0.0.1:3001']) } },
 *   router: { table },
 * });
 * createServer(handler.handle).on('upgrade', handler.upgrade).listen(8080);
 * ```
 */
export interface ForwardHandler {
  /**
   * Forwards a request a router guard already matched: `context` is the context the adapter
   * keeps (`req.portcullis`, `c.get('portcullis')`), with `route`, `params` and `canonicalPath`.
   * A route without a target is answered 502 (a configuration error, reported).
   */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    context: GuardContext,
    done?: (result: ForwardResult) => void,
  ): void;
  /**
   * A `node:http` request listener: runs `guard` and the router guard, answers their `respond`
   * verdicts, forwards the rest, and tells each verdict's `onComplete` how the request ended.
   */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** A `node:http` `upgrade` listener: the same, for WebSocket handshakes. */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** The forwarder in use (its `events` report every attempt). */
  readonly forwarder: Forwarder;
  /** Closes the forwarder if this handler created it. */
  close(): Promise<void>;
}

interface ResolvedTarget {
  readonly endpoints: EndpointPicker;
  readonly rewrite: CompiledRewrite | undefined;
  readonly key: KeyFunction | undefined;
  readonly retry: boolean | undefined;
}

/**
 * A framework-neutral forward handler over Node's `IncomingMessage` / `ServerResponse` (streaming
 * needs the raw streams): each routed request goes to its route's target, on the path the route
 * guard made canonical (never the raw one), rewritten as the target says, with the query string
 * as sent. The `/express`, `/fastify` and `/hono` subpaths mount it; on a plain `node:http`
 * server, use `handle` and `upgrade`.
 *
 * @param options - See {@link ForwardHandlerOptions}.
 * @throws InvalidOptionError when an option (a target's rewrite, a forwarder option) is invalid.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createForwardHandler, createRouteTable, fixedEndpoints } from '@portcullis/router';
 *
 * const table = createRouteTable([{ name: 'api', path: '/api', prefix: true }]);
 * const handler = createForwardHandler({
 *   targets: { api: { endpoints: fixedEndpoints(['http://127.0.0.1:3001']), rewrite: { stripPrefix: '/api' } } },
 *   router: { table },
 * });
 * const server = createServer(handler.handle);
 * server.on('upgrade', handler.upgrade);
 * server.listen(8080);
 * ```
 */
export function createForwardHandler<Meta = unknown>(options: ForwardHandlerOptions<Meta>): ForwardHandler {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const targetOf = targetsOption(options.targets);
  const owned = !isForwarder(options.forwarder);
  const forwarder = isForwarder(options.forwarder) ? options.forwarder : createForwarder(options.forwarder);
  const extra = options.guard === undefined ? undefined : isFunctionOption(options.guard, 'guard');
  const route = options.router === undefined ? undefined : (routerGuard(options.router) as Guard<object>);
  const guard = route === undefined ? undefined : extra === undefined ? route : compose(extra, route);
  // Per route object, once: a replaced table brings new route objects, asked afresh.
  // `null`: the route has no target.
  const resolved = new WeakMap<Route, ResolvedTarget | Error | null>();

  function resolve(routeOf: Route<Meta>): ResolvedTarget | Error | undefined {
    let target = resolved.get(routeOf);
    if (target === undefined) {
      try {
        target = resolveTarget(routeOf, targetOf(routeOf)) ?? null;
      } catch (error) {
        target = error instanceof Error ? error : new Error(String(error));
        // Reported once per route, not per request: every request of the route is answered 502.
        reportUnhandled(target, 'forward target');
      }
      resolved.set(routeOf, target);
    }
    return target ?? undefined;
  }

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    context: GuardContext,
    done?: (result: ForwardResult) => void,
  ): void {
    const routed = context as Partial<RouterContext>;
    const target = routed.route === undefined ? undefined : resolve(routed.route as Route<Meta>);
    if (target === undefined || target instanceof Error) {
      misconfigured(res, routed.route?.name, target, done);
      return;
    }
    forwarder.forward(req, res, callFor(req, routed as RouterContext, context, target), done);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    runGuard(
      guard,
      req,
      function onVerdict(verdict) {
        if (verdict.action === 'respond') {
          trackResponse(res, verdict.onComplete);
          sendVerdict(res, verdict);
          return;
        }
        applyUpstreamHeaders(req.headers, verdict.stripUpstreamHeaders, verdict.upstreamHeaders);
        const onComplete = verdict.onComplete;
        forward(
          req,
          res,
          verdict.context ?? {},
          onComplete === undefined
            ? undefined
            : (result) => {
                tell(onComplete, result);
              },
        );
      },
      function onError(error) {
        reportUnhandled(error, 'forward handler guard');
        writeProblem(res, 500, 'The gateway failed to handle the request.', !req.complete);
      },
    );
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignore);
    runGuard(
      guard,
      req,
      function onVerdict(verdict) {
        if (verdict.action === 'respond') {
          sendVerdictOnSocket(socket, verdict);
          if (verdict.onComplete !== undefined) tell(verdict.onComplete, { status: verdict.status, durationMs: 0 });
          return;
        }
        applyUpstreamHeaders(req.headers, verdict.stripUpstreamHeaders, verdict.upstreamHeaders);
        const context = verdict.context ?? {};
        const routed = context as Partial<RouterContext>;
        const target = routed.route === undefined ? undefined : resolve(routed.route as Route<Meta>);
        const onComplete = verdict.onComplete;
        if (target === undefined || target instanceof Error) {
          sendVerdictOnSocket(socket, {
            action: 'respond',
            status: 502,
            body: 'No upstream is configured for this route.',
          });
          if (onComplete !== undefined) tell(onComplete, { status: 502, durationMs: 0 });
          return;
        }
        const call = callFor(req, routed as RouterContext, context, target);
        forwarder.upgrade(
          req,
          socket,
          head,
          call,
          onComplete === undefined
            ? undefined
            : (result) => {
                tell(onComplete, result);
              },
        );
      },
      function onError(error) {
        reportUnhandled(error, 'forward handler guard');
        sendVerdictOnSocket(socket, {
          action: 'respond',
          status: 500,
          body: 'The gateway failed to handle the request.',
        });
      },
    );
  }

  return {
    forward,
    handle,
    upgrade,
    forwarder,
    close: function close(): Promise<void> {
      return owned ? forwarder.close() : Promise.resolve();
    },
  };
}

/** The forwarder's per-request options for a routed request. */
function callFor(req: IncomingMessage, routed: RouterContext, context: GuardContext, target: ResolvedTarget) {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path =
    target.rewrite === undefined ? routed.canonicalPath : target.rewrite.rewrite(routed.canonicalPath, routed.params);
  return {
    endpoints: target.endpoints,
    path: q === -1 ? path : path + url.slice(q),
    key: target.key?.(nodeGatewayRequest(req, context)),
    retry: target.retry,
  };
}

function resolveTarget<Meta>(route: Route<Meta>, target: ForwardTarget | undefined): ResolvedTarget | undefined {
  if (target === undefined) return undefined;
  const option = `targets.${route.name}`;
  if (typeof target !== 'object' || typeof (target as Partial<ForwardTarget>).endpoints?.acquire !== 'function') {
    throw new InvalidOptionError(option, target, '{ endpoints: an EndpointPicker, rewrite?, key?, retry? }');
  }
  const rewrite = target.rewrite === undefined ? undefined : compileRewrite(target.rewrite, `${option}.rewrite`);
  if (rewrite !== undefined) {
    const available = routeParams(route);
    const missing = rewrite.params.filter((name) => !available.has(name));
    if (missing.length > 0) {
      throw new InvalidOptionError(
        `${option}.rewrite`,
        target.rewrite,
        `params the route has (it lacks ${missing.join(', ')})`,
      );
    }
  }
  const key = target.key === undefined ? undefined : isFunctionOption(target.key, `${option}.key`);
  if (target.retry !== undefined && typeof target.retry !== 'boolean') {
    throw new InvalidOptionError(`${option}.retry`, target.retry, 'a boolean');
  }
  return { endpoints: target.endpoints, rewrite, key, retry: target.retry };
}

/** The params a route's matches carry: its `:name` segments, and `*` for a wildcard or prefix. */
function routeParams(route: Route): ReadonlySet<string> {
  const names = new Set<string>();
  for (const segment of route.definition.path.split('/')) {
    if (segment.startsWith(':')) names.add(segment.slice(1));
    else if (segment === '*') names.add('*');
  }
  if (route.definition.prefix === true) names.add('*');
  return names;
}

function targetsOption<Meta>(value: ForwardTargets<Meta>): (route: Route<Meta>) => ForwardTarget | undefined {
  if (typeof value === 'function') return value;
  if (typeof value !== 'object' || (value as unknown) === null) {
    throw new InvalidOptionError('targets', value, 'an object of targets by route name, or a function of the route');
  }
  const byName = new Map(Object.entries(value));
  return function targetByName(route: Route<Meta>): ForwardTarget | undefined {
    return byName.get(route.name);
  };
}

function isForwarder(value: unknown): value is Forwarder {
  return typeof (value as Partial<Forwarder> | undefined)?.forward === 'function';
}

function misconfigured(
  res: ServerResponse,
  route: string | undefined,
  error: Error | undefined,
  done: ((result: ForwardResult) => void) | undefined,
): void {
  const detail =
    route === undefined
      ? 'The request was not routed before being forwarded.'
      : 'No upstream is configured for this route.';
  writeProblem(res, 502, detail, false);
  done?.({ status: 502, durationMs: 0, attempts: 0, error: error ?? new Error(detail) });
}

/** Runs the handler's guard (or lets everything through without one), sync or async. */
function runGuard(
  guard: Guard<object> | undefined,
  req: IncomingMessage,
  onVerdict: (verdict: Verdict) => void,
  onError: (error: unknown) => void,
): void {
  if (guard === undefined) {
    onVerdict(NOT_ROUTED);
    return;
  }
  let verdict: Verdict | PromiseLike<Verdict>;
  try {
    verdict = guard(nodeGatewayRequest(req, undefined)) as Verdict | PromiseLike<Verdict>;
  } catch (error) {
    onError(error);
    return;
  }
  if (typeof (verdict as PromiseLike<Verdict>).then === 'function') {
    Promise.resolve(verdict).then(onVerdict, onError).catch(onError);
    return;
  }
  onVerdict(verdict as Verdict);
}

/** Without `router`, `handle` and `upgrade` have no route to forward to. */
const NOT_ROUTED: Verdict = Object.freeze({
  action: 'respond',
  status: 404,
  headers: new Headers({ 'content-type': PROBLEM_JSON }),
  body: problemDetails(404, 'No route matches this request.'),
});

/** Tells `onComplete` once the response closes (finished, or 499 when the client left first). */
function trackResponse(res: ServerResponse, onComplete: ((outcome: Outcome) => void) | undefined): void {
  if (onComplete === undefined) return;
  const startedAt = performance.now();
  res.once('close', () => {
    const durationMs = Math.max(0, performance.now() - startedAt);
    tell(
      onComplete,
      res.writableFinished ? { status: res.statusCode, durationMs } : { status: 499, durationMs, aborted: true },
    );
  });
}

function tell(onComplete: (outcome: Outcome) => void, result: Outcome): void {
  const outcome: Outcome = { status: result.status, durationMs: result.durationMs };
  if (result.error !== undefined) outcome.error = result.error;
  if (result.aborted === true) outcome.aborted = true;
  try {
    onComplete(outcome);
  } catch (error) {
    reportUnhandled(error, 'onComplete');
  }
}

function ignore(): void {
  // Socket errors end in 'close'; nothing else is owed.
}
