import type { Guard } from '../src/guard.js';
import { portcullis as expressPortcullis } from '../src/express/index.js';
import { portcullis as fastifyPortcullis } from '../src/fastify/index.js';
import { portcullis as honoPortcullis } from '../src/hono/index.js';
import {
  expressTestRoutes,
  fastifyTestRoutes,
  honoTestRoutes,
  serveExpress,
  serveFastify,
  serveHono,
  type FrameworkName,
  type RunningServer,
  type TestRouteHooks,
} from '@portcullis/testkit/frameworks';

/** A server running the standard test routes behind Portcullis middleware, and what it observed. */
export interface Served extends RunningServer {
  /** The routes whose handler ran, in order. */
  readonly handled: string[];
  /** What reached the framework's error handler (empty with `defaultErrorHandling`). */
  readonly errors: unknown[];
  /** One entry per `GET /slow` that stopped waiting: true when the client had gone. */
  readonly slowEnded: boolean[];
}

export interface ServeOptions {
  /** Keep the framework's own error handling instead of the recording one. */
  defaultErrorHandling?: boolean;
}

/** One framework, driven through its Portcullis adapter. */
export interface Harness {
  readonly name: FrameworkName;
  /** Whether `onComplete` is told the handler's error (Express does not tell earlier middleware). */
  readonly seesHandlerErrors: boolean;
  /** Serves the standard routes behind one adapter middleware per guard, in order. */
  serve(guards: readonly Guard[], options?: ServeOptions): Promise<Served>;
}

function observe(options: ServeOptions): {
  hooks: TestRouteHooks;
  seen: Pick<Served, 'handled' | 'errors' | 'slowEnded'>;
} {
  const seen = { handled: [] as string[], errors: [] as unknown[], slowEnded: [] as boolean[] };
  const hooks: TestRouteHooks = {
    handled: (route) => seen.handled.push(route),
    slowEnded: (gone) => seen.slowEnded.push(gone),
  };
  if (options.defaultErrorHandling !== true) hooks.error = (error) => seen.errors.push(error);
  return { hooks, seen };
}

const express: Harness = {
  name: 'express',
  seesHandlerErrors: false,
  async serve(guards, options = {}) {
    const { hooks, seen } = observe(options);
    const server = await serveExpress((app) => {
      for (const guard of guards) app.use(expressPortcullis(guard));
      expressTestRoutes(app, hooks);
    });
    return { ...server, ...seen };
  },
};

const fastify: Harness = {
  name: 'fastify',
  seesHandlerErrors: true,
  async serve(guards, options = {}) {
    const { hooks, seen } = observe(options);
    const server = await serveFastify(async (app) => {
      for (const guard of guards) await app.register(fastifyPortcullis(guard));
      fastifyTestRoutes(app, hooks);
    });
    return { ...server, ...seen };
  },
};

const hono: Harness = {
  name: 'hono',
  seesHandlerErrors: true,
  async serve(guards, options = {}) {
    const { hooks, seen } = observe(options);
    const server = await serveHono((app) => {
      for (const guard of guards) app.use(honoPortcullis(guard));
      honoTestRoutes(app, hooks);
    });
    return { ...server, ...seen };
  },
};

export const HARNESSES: readonly Harness[] = [express, fastify, hono];
