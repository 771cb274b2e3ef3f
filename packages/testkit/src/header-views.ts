import type { IncomingMessage } from 'node:http';
import { serveTestRoutes, type FrameworkName, type ObservedServer, type TestMounts } from './frameworks.js';

/**
 * Every view of the request headers a handler (or a forwarder built on it) can read, as
 * `[name, value]` pairs per view: the framework's own accessor, and Node's three views of the
 * underlying `IncomingMessage` (`headers`, `headersDistinct`, `rawHeaders`) — on Hono through
 * `c.env.incoming`, which `@hono/node-server` passes.
 */
export type HeaderViews = Record<string, [string, string][]>;

function nodeViews(prefix: string, message: IncomingMessage): HeaderViews {
  const raw: [string, string][] = [];
  for (let i = 0; i < message.rawHeaders.length; i += 2) {
    raw.push([message.rawHeaders[i] as string, message.rawHeaders[i + 1] as string]);
  }
  return {
    [`${prefix}.headers`]: entries(message.headers),
    [`${prefix}.headersDistinct`]: entries(message.headersDistinct),
    [`${prefix}.rawHeaders`]: raw,
  };
}

function entries(object: Record<string, string | string[] | undefined>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(object)) {
    for (const one of [value ?? []].flat()) pairs.push([name, one]);
  }
  return pairs;
}

/**
 * Serves the standard test routes plus `GET /views` (answering {@link HeaderViews}) behind the
 * middleware `mounts` install; with `preRead`, a middleware in front reads every Node view first
 * (so they are built before the guard runs, as another middleware may have done).
 */
export function serveViews(framework: FrameworkName, mounts: TestMounts, preRead = false): Promise<ObservedServer> {
  const touch = (message: IncomingMessage): void => {
    // Each read builds the view, as a middleware reading it would.
    if (preRead) Object.keys({ ...message.headers, ...message.headersDistinct, raw: message.rawHeaders });
  };
  return serveTestRoutes(framework, {
    express: (app) => {
      app.use((req, _res, next) => {
        touch(req);
        next();
      });
      mounts.express(app);
      app.get('/views', (req, res) => {
        res.json({
          'req.get': entries(Object.fromEntries(Object.keys(req.headers).map((n) => [n, req.get(n)]))),
          ...nodeViews('req', req),
        });
      });
    },
    fastify: async (app) => {
      app.addHook('onRequest', (request, _reply, next) => {
        touch(request.raw);
        next();
      });
      await mounts.fastify(app);
      app.get('/views', (request) => ({
        'request.headers': entries(request.headers),
        ...nodeViews('request.raw', request.raw),
      }));
    },
    hono: (app, options) => {
      const incoming = (env: unknown): IncomingMessage => (env as { incoming: IncomingMessage }).incoming;
      app.use(async (c, next) => {
        touch(incoming(c.env));
        await next();
      });
      mounts.hono(app, options);
      app.get('/views', (c) =>
        c.json({
          'c.req.header()': entries(c.req.header()),
          'c.req.raw.headers': [...c.req.raw.headers],
          ...nodeViews('c.env.incoming', incoming(c.env)),
        }),
      );
    },
  });
}
