import type { Guard } from '../src/guard.js';
import { portcullis as expressPortcullis } from '../src/express/index.js';
import { portcullis as fastifyPortcullis } from '../src/fastify/index.js';
import { portcullis as honoPortcullis } from '../src/hono/index.js';
import {
  serveTestRoutes,
  type FrameworkName,
  type ObservedServer,
  type TestServerOptions,
} from '@portcullis/testkit/frameworks';

/** A server running the standard test routes behind Portcullis middleware, and what it observed. */
export type Served = ObservedServer;

export type ServeOptions = Pick<TestServerOptions, 'defaultErrorHandling'>;

/** One framework, driven through its Portcullis adapter. */
export interface Harness {
  readonly name: FrameworkName;
  /** Whether `onComplete` is told the handler's error (Express does not tell earlier middleware). */
  readonly seesHandlerErrors: boolean;
  /** Serves the standard routes behind one adapter middleware per guard, in order. */
  serve(guards: readonly Guard[], options?: ServeOptions): Promise<Served>;
}

function harness(name: FrameworkName, seesHandlerErrors: boolean): Harness {
  return {
    name,
    seesHandlerErrors,
    serve: (guards, options) =>
      serveTestRoutes(
        name,
        {
          express: (app) => {
            for (const guard of guards) app.use(expressPortcullis(guard));
          },
          fastify: async (app) => {
            for (const guard of guards) await app.register(fastifyPortcullis(guard));
          },
          hono: (app) => {
            for (const guard of guards) app.use(honoPortcullis(guard));
          },
        },
        options,
      ),
  };
}

export const HARNESSES: readonly Harness[] = [
  harness('express', false),
  harness('fastify', true),
  harness('hono', true),
];
