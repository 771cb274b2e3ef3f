/**
 * Real Express, Fastify and Hono apps on 127.0.0.1 (an ephemeral port), and one standard set of
 * test routes each framework mounts the same way, so every Portcullis package can run one
 * behavioural spec against all three adapters over real sockets.
 *
 * @example
 * ```ts
 * import { portcullis } from '@portcullis/core/express';
 * import { expressTestRoutes, serveExpress } from '@portcullis/testkit/frameworks';
 *
 * const server = await serveExpress((app) => {
 *   app.use(portcullis(myGuard));
 *   expressTestRoutes(app);
 * });
 * const response = await fetch(`${server.url}/ok`);
 * await server.close();
 * ```
 * @module
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { GuardContext } from '@portcullis/core';
// Type-only imports that bring the adapters' `req.portcullis` / `request.portcullis` typings in.
import type {} from '@portcullis/core/express';
import type {} from '@portcullis/core/fastify';
import type { PortcullisEnv } from '@portcullis/core/hono';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { fastify, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Hono, type Context } from 'hono';

/** A server listening on 127.0.0.1. */
export interface RunningServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Stops listening and drops every open connection, including ones mid-request. */
  close(): Promise<void>;
}

/** The frameworks the helpers cover. */
export type FrameworkName = 'express' | 'fastify' | 'hono';

/** The frameworks, for `describe.each(FRAMEWORKS)`. */
export const FRAMEWORKS: readonly FrameworkName[] = Object.freeze(['express', 'fastify', 'hono']);

/** How long `GET /slow` waits for the client to go away before answering anyway. */
export const SLOW_ROUTE_TIMEOUT_MS = 5_000;

/** The message of the error `GET /throw` throws. */
export const ROUTE_THROW_MESSAGE = 'test route threw';

/** The message of the error `GET /throw-async` rejects with. */
export const ROUTE_REJECT_MESSAGE = 'test route rejected';

/**
 * Observers for the standard test routes. Every one is optional.
 *
 * @example
 * ```ts
 * const handled: string[] = [];
 * expressTestRoutes(app, { handled: (route) => handled.push(route) });
 * ```
 */
export interface TestRouteHooks {
  /** Called when a route's handler starts, with the route's path (`'/ok'`, `'/slow'`, …). */
  handled?: ((route: string) => void) | undefined;
  /** Called when `GET /slow` stops waiting: `clientGone` is true when the client disconnected. */
  slowEnded?: ((clientGone: boolean) => void) | undefined;
  /**
   * When given, an error handler is installed that passes each error here and answers
   * `500 Internal Server Error` as text. Without it the framework's default error handling stays.
   */
  error?: ((error: unknown) => void) | undefined;
}

/**
 * The standard routes, identical on every framework:
 *
 * - `GET /ok` → `200 ok` (text)
 * - `GET /context` → `{ "context": <the framework's Portcullis context, or null> }`
 * - `GET /headers` → the request headers as the handler reads them (lower-case names, repeated
 *   values joined with `", "`)
 * - `GET /throw` → the handler throws `Error(ROUTE_THROW_MESSAGE)`
 * - `GET /throw-async` → the handler rejects with `Error(ROUTE_REJECT_MESSAGE)`
 * - `GET /slow` → waits until the client disconnects (or {@link SLOW_ROUTE_TIMEOUT_MS}), then
 *   tries to answer `200 slow` anyway, as a real handler would
 */
export const TEST_ROUTES: readonly string[] = Object.freeze([
  '/ok',
  '/context',
  '/headers',
  '/throw',
  '/throw-async',
  '/slow',
]);

const INTERNAL_ERROR = 'Internal Server Error';

/**
 * Starts an Express 5 app; `setup` installs middleware and routes before it listens.
 *
 * @example
 * ```ts
 * const server = await serveExpress((app) => expressTestRoutes(app));
 * ```
 */
export async function serveExpress(setup: (app: Express) => void): Promise<RunningServer> {
  const app = express();
  setup(app);
  return listening(createServer(app).listen(0, '127.0.0.1'));
}

/**
 * Starts a Fastify 5 app; `setup` registers plugins and routes before it listens. Connections are
 * force-closed on `close()` so a test never waits for a hanging request.
 *
 * @example
 * ```ts
 * const server = await serveFastify(async (app) => {
 *   await app.register(somePlugin);
 *   fastifyTestRoutes(app);
 * });
 * ```
 */
export async function serveFastify(
  setup: (app: FastifyInstance) => void | Promise<void>,
  options: FastifyServerOptions = {},
): Promise<RunningServer> {
  const app = fastify({ forceCloseConnections: true, ...options });
  try {
    await setup(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    await app.close();
    throw error;
  }
  return {
    url: baseUrl(app.server.address() as AddressInfo),
    close: async function close(): Promise<void> {
      await app.close();
    },
  };
}

/**
 * Starts a Hono 4 app on `@hono/node-server`; `setup` installs middleware and routes.
 *
 * @example
 * ```ts
 * const server = await serveHono((app) => honoTestRoutes(app));
 * ```
 */
export async function serveHono(setup: (app: Hono<PortcullisEnv>) => void): Promise<RunningServer> {
  const app = new Hono<PortcullisEnv>();
  setup(app);
  // Without HTTP/2 options `serve` creates a plain `node:http` server, already listening.
  return listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server);
}

/**
 * Mounts {@link TEST_ROUTES} on an Express app (after any middleware already installed).
 *
 * @example
 * ```ts
 * const server = await serveExpress((app) => {
 *   app.use(myMiddleware);
 *   expressTestRoutes(app, { handled: (route) => console.log(route) });
 * });
 * ```
 */
export function expressTestRoutes(app: Express, hooks: TestRouteHooks = {}): void {
  app.get('/ok', (_req, res) => {
    hooks.handled?.('/ok');
    res.type('text/plain').send('ok');
  });
  app.get('/context', (req, res) => {
    hooks.handled?.('/context');
    res.json({ context: req.portcullis ?? null });
  });
  app.get('/headers', (req, res) => {
    hooks.handled?.('/headers');
    // Through `req.get`, Express's own accessor, to show it agrees with `req.headers`.
    const seen: Record<string, string> = {};
    for (const name of Object.keys(req.headers)) seen[name] = joined(req.get(name));
    res.json(seen);
  });
  app.get('/throw', () => {
    hooks.handled?.('/throw');
    throw new Error(ROUTE_THROW_MESSAGE);
  });
  app.get('/throw-async', async () => {
    hooks.handled?.('/throw-async');
    await Promise.resolve();
    throw new Error(ROUTE_REJECT_MESSAGE);
  });
  app.get('/slow', async (_req, res) => {
    hooks.handled?.('/slow');
    const gone = await disconnected(res);
    hooks.slowEnded?.(gone);
    res.type('text/plain').send('slow');
  });
  const { error } = hooks;
  if (error !== undefined) {
    const recordError: ErrorRequestHandler = (err: unknown, _req, res, next) => {
      error(err);
      if (res.headersSent) {
        next(err);
        return;
      }
      res.status(500).type('text/plain').send(INTERNAL_ERROR);
    };
    app.use(recordError);
  }
}

/**
 * Mounts {@link TEST_ROUTES} on a Fastify instance (in its scope).
 *
 * @example
 * ```ts
 * const server = await serveFastify((app) => fastifyTestRoutes(app));
 * ```
 */
export function fastifyTestRoutes(app: FastifyInstance, hooks: TestRouteHooks = {}): void {
  app.get('/ok', async (_request, reply) => {
    hooks.handled?.('/ok');
    return reply.type('text/plain').send('ok');
  });
  app.get('/context', (request) => {
    hooks.handled?.('/context');
    return { context: request.portcullis };
  });
  app.get('/headers', (request) => {
    hooks.handled?.('/headers');
    return joinAll(request.headers);
  });
  app.get('/throw', () => {
    hooks.handled?.('/throw');
    throw new Error(ROUTE_THROW_MESSAGE);
  });
  app.get('/throw-async', async () => {
    hooks.handled?.('/throw-async');
    await Promise.resolve();
    throw new Error(ROUTE_REJECT_MESSAGE);
  });
  app.get('/slow', async (_request, reply) => {
    hooks.handled?.('/slow');
    const gone = await disconnected(reply.raw);
    hooks.slowEnded?.(gone);
    return reply.type('text/plain').send('slow');
  });
  const { error } = hooks;
  if (error !== undefined) {
    app.setErrorHandler(async (err, _request, reply) => {
      error(err);
      return reply.code(500).type('text/plain').send(INTERNAL_ERROR);
    });
  }
}

/**
 * Mounts {@link TEST_ROUTES} on a Hono app.
 *
 * @example
 * ```ts
 * const server = await serveHono((app) => honoTestRoutes(app));
 * ```
 */
export function honoTestRoutes(app: Hono<PortcullisEnv>, hooks: TestRouteHooks = {}): void {
  app.get('/ok', (c) => {
    hooks.handled?.('/ok');
    return c.text('ok');
  });
  app.get('/context', (c) => {
    hooks.handled?.('/context');
    // Unset when no guard let the request through, whatever the environment type promises.
    const context = c.get('portcullis') as GuardContext | undefined;
    return c.json({ context: context ?? null });
  });
  app.get('/headers', (c) => {
    hooks.handled?.('/headers');
    return c.json(c.req.header());
  });
  app.get('/throw', () => {
    hooks.handled?.('/throw');
    throw new Error(ROUTE_THROW_MESSAGE);
  });
  app.get('/throw-async', async () => {
    hooks.handled?.('/throw-async');
    await Promise.resolve();
    throw new Error(ROUTE_REJECT_MESSAGE);
  });
  app.get('/slow', async (c) => {
    hooks.handled?.('/slow');
    const gone = await aborted(c.req.raw.signal);
    hooks.slowEnded?.(gone);
    return c.text('slow');
  });
  const { error } = hooks;
  if (error !== undefined) {
    app.onError((err, c) => {
      error(err);
      return c.text(INTERNAL_ERROR, 500);
    });
  }
}

/** Waits until `server` (on which `listen` was called) is listening. */
async function listening(server: Server): Promise<RunningServer> {
  if (!server.listening) await once(server, 'listening');
  return {
    url: baseUrl(server.address() as AddressInfo),
    close: function close(): Promise<void> {
      return new Promise((resolve, reject) => {
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
        server.closeAllConnections();
      });
    },
  };
}

function baseUrl(address: AddressInfo): string {
  return `http://127.0.0.1:${String(address.port)}`;
}

/** Resolves true when the client disconnects before `res` finished, false after the timeout. */
function disconnected(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, SLOW_ROUTE_TIMEOUT_MS);
    res.once('close', () => {
      clearTimeout(timer);
      resolve(!res.writableFinished);
    });
  });
}

/** Resolves true when `signal` aborts, false after the timeout. */
function aborted(signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, SLOW_ROUTE_TIMEOUT_MS);
    function onAbort(): void {
      clearTimeout(timer);
      resolve(true);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function joined(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function joinAll(headers: IncomingHttpHeaders): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) seen[name] = joined(value);
  return seen;
}

/** What a server started by {@link serveTestRoutes} observed. */
export interface ObservedServer extends RunningServer {
  /** The routes whose handler ran, in order. */
  readonly handled: string[];
  /** What reached the framework's error handler (empty with `defaultErrorHandling`). */
  readonly errors: unknown[];
  /** One entry per `GET /slow` that stopped waiting: true when the client had gone. */
  readonly slowEnded: boolean[];
}

/** Options of {@link serveTestRoutes}. */
export interface TestServerOptions {
  /**
   * Take the client address from `X-Forwarded-For` (Express `trust proxy`, Fastify `trustProxy`,
   * and an `ip` option handed to the Hono mount), so a test on 127.0.0.1 can play any client.
   */
  trustProxy?: boolean;
  /** Keep the framework's own error handling instead of the recording one. */
  defaultErrorHandling?: boolean;
}

/** Options a Hono adapter takes for the client address (`@portcullis/core/hono`'s `ip`). */
export interface HonoIpOption {
  ip?: (c: Context) => string | undefined;
}

/** How a package installs its middleware on each framework, in front of the test routes. */
export interface TestMounts {
  express(app: Express): void;
  fastify(app: FastifyInstance): Promise<void>;
  hono(app: Hono<PortcullisEnv>, options: HonoIpOption): void;
}

/**
 * Starts `framework` with the package's middleware (`mounts`) in front of {@link TEST_ROUTES} and
 * records what the server saw: the shared part of every package's adapter spec.
 *
 * @example
 * ```ts
 * const server = await serveTestRoutes('express', {
 *   express: (app) => app.use(portcullis(guard)),
 *   fastify: (app) => app.register(portcullis(guard)),
 *   hono: (app, options) => app.use(honoPortcullis(guard, options)),
 * });
 * ```
 */
export async function serveTestRoutes(
  framework: FrameworkName,
  mounts: TestMounts,
  options: TestServerOptions = {},
): Promise<ObservedServer> {
  const seen = { handled: [] as string[], errors: [] as unknown[], slowEnded: [] as boolean[] };
  const hooks: TestRouteHooks = {
    handled: (route) => seen.handled.push(route),
    slowEnded: (gone) => seen.slowEnded.push(gone),
  };
  if (options.defaultErrorHandling !== true) hooks.error = (error) => seen.errors.push(error);
  const trustProxy = options.trustProxy === true;
  let server: RunningServer;
  switch (framework) {
    case 'express':
      server = await serveExpress((app) => {
        if (trustProxy) app.set('trust proxy', true);
        mounts.express(app);
        expressTestRoutes(app, hooks);
      });
      break;
    case 'fastify':
      server = await serveFastify(
        async (app) => {
          await mounts.fastify(app);
          fastifyTestRoutes(app, hooks);
        },
        { trustProxy },
      );
      break;
    case 'hono':
      server = await serveHono((app) => {
        mounts.hono(app, trustProxy ? { ip: (c) => c.req.header('x-forwarded-for') } : {});
        honoTestRoutes(app, hooks);
      });
      break;
  }
  return { ...server, ...seen };
}

export { serveViews } from './header-views.js';
export type { HeaderViews } from './header-views.js';
