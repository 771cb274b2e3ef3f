import type { IncomingMessage } from 'node:http';
import {
  serveTestRoutes,
  type FrameworkName,
  type ObservedServer,
  type TestMounts,
} from '@portcullis/testkit/frameworks';

/**
 * Every view of the request headers a handler (or a forwarder built on it) can read, as
 * `[name, value]` pairs per view: the framework's own accessor, and Node's three views of the
 * underlying `IncomingMessage` (`headers`, `headersDistinct`, `rawHeaders`) — on Hono through
 * `c.env.incoming`, which `@hono/node-server` passes. (Core's adapter tests have the same route.)
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

/** Serves the standard test routes plus `GET /views` (answering {@link HeaderViews}) behind `mounts`. */
export function serveViews(framework: FrameworkName, mounts: TestMounts): Promise<ObservedServer> {
  return serveTestRoutes(framework, {
    express: (app) => {
      mounts.express(app);
      app.get('/views', (req, res) => {
        const viaGet = Object.fromEntries(Object.keys(req.headers).map((name) => [name, req.get(name)]));
        res.json({ 'req.get': entries(viaGet), ...nodeViews('req', req) });
      });
    },
    fastify: async (app) => {
      await mounts.fastify(app);
      app.get('/views', (request) => ({
        'request.headers': entries(request.headers),
        ...nodeViews('request.raw', request.raw),
      }));
    },
    hono: (app, options) => {
      mounts.hono(app, options);
      app.get('/views', (c) =>
        c.json({
          'c.req.header()': entries(c.req.header()),
          'c.req.raw.headers': [...c.req.raw.headers],
          ...nodeViews('c.env.incoming', (c.env as { incoming: IncomingMessage }).incoming),
        }),
      );
    },
  });
}
