import type { Guard } from '@portcullis/core';
import { portcullis as expressPortcullis } from '@portcullis/core/express';
import { portcullis as fastifyPortcullis } from '@portcullis/core/fastify';
import { portcullis as honoPortcullis } from '@portcullis/core/hono';
import {
  serveTestRoutes,
  type FrameworkName,
  type ObservedServer,
  type TestServerOptions,
} from '@portcullis/testkit/frameworks';
import { rateLimit as expressRateLimit } from '../../src/express.js';
import { rateLimit as fastifyRateLimit } from '../../src/fastify.js';
import { rateLimit as honoRateLimit } from '../../src/hono.js';
import type { RateLimitGuardOptions } from '../../src/index.js';

/**
 * One middleware in front of the test routes: a guard through core's adapter, or the package's
 * own `rateLimit` entry point for the framework.
 */
export type Layer = { readonly guard: Guard } | { readonly rateLimit: RateLimitGuardOptions };

export type ServeOptions = Pick<TestServerOptions, 'trustProxy'>;

/** The standard test routes behind the layers, and what the server observed. */
export type Served = ObservedServer;

export interface Harness {
  readonly name: FrameworkName;
  serve(layers: readonly Layer[], options?: ServeOptions): Promise<Served>;
}

function harness(name: FrameworkName): Harness {
  return {
    name,
    serve: (layers, options) =>
      serveTestRoutes(
        name,
        {
          express: (app) => {
            for (const layer of layers) {
              app.use('guard' in layer ? expressPortcullis(layer.guard) : expressRateLimit(layer.rateLimit));
            }
          },
          fastify: async (app) => {
            for (const layer of layers) {
              await app.register('guard' in layer ? fastifyPortcullis(layer.guard) : fastifyRateLimit(layer.rateLimit));
            }
          },
          hono: (app, ipOption) => {
            for (const layer of layers) {
              app.use(
                'guard' in layer ? honoPortcullis(layer.guard, ipOption) : honoRateLimit(layer.rateLimit, ipOption),
              );
            }
          },
        },
        options,
      ),
  };
}

export const HARNESSES: readonly Harness[] = [harness('express'), harness('fastify'), harness('hono')];
