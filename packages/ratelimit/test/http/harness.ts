import type { Guard } from '@portcullis/core';
import { portcullis as expressPortcullis } from '@portcullis/core/express';
import { portcullis as fastifyPortcullis } from '@portcullis/core/fastify';
import { portcullis as honoPortcullis } from '@portcullis/core/hono';
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
import { rateLimit as expressRateLimit } from '../../src/express.js';
import { rateLimit as fastifyRateLimit } from '../../src/fastify.js';
import { rateLimit as honoRateLimit } from '../../src/hono.js';
import type { RateLimitGuardOptions } from '../../src/index.js';

/**
 * One middleware in front of the test routes: a guard through core's adapter, or the package's
 * own `rateLimit` entry point for the framework.
 */
export type Layer = { readonly guard: Guard } | { readonly rateLimit: RateLimitGuardOptions };

export interface ServeOptions {
  /**
   * Take the client address from `X-Forwarded-For` (Express `trust proxy`, Fastify `trustProxy`,
   * the Hono adapter's `ip` option), so a test on 127.0.0.1 can play any client.
   */
  trustProxy?: boolean;
}

/** The standard test routes behind the layers, and what the server observed. */
export interface Served extends RunningServer {
  /** The routes whose handler ran, in order. */
  readonly handled: string[];
  /** What reached the framework's error handler (`GET /throw` puts its error here and answers 500). */
  readonly errors: unknown[];
}

export interface Harness {
  readonly name: FrameworkName;
  serve(layers: readonly Layer[], options?: ServeOptions): Promise<Served>;
}

function observe(): { hooks: TestRouteHooks; seen: Pick<Served, 'handled' | 'errors'> } {
  const seen = { handled: [] as string[], errors: [] as unknown[] };
  return {
    seen,
    hooks: { handled: (route) => seen.handled.push(route), error: (error) => seen.errors.push(error) },
  };
}

const express: Harness = {
  name: 'express',
  async serve(layers, options = {}) {
    const { hooks, seen } = observe();
    const server = await serveExpress((app) => {
      if (options.trustProxy === true) app.set('trust proxy', true);
      for (const layer of layers) {
        app.use('guard' in layer ? expressPortcullis(layer.guard) : expressRateLimit(layer.rateLimit));
      }
      expressTestRoutes(app, hooks);
    });
    return { ...server, ...seen };
  },
};

const fastify: Harness = {
  name: 'fastify',
  async serve(layers, options = {}) {
    const { hooks, seen } = observe();
    const server = await serveFastify(
      async (app) => {
        for (const layer of layers) {
          await app.register('guard' in layer ? fastifyPortcullis(layer.guard) : fastifyRateLimit(layer.rateLimit));
        }
        fastifyTestRoutes(app, hooks);
      },
      { trustProxy: options.trustProxy === true },
    );
    return { ...server, ...seen };
  },
};

const hono: Harness = {
  name: 'hono',
  async serve(layers, options = {}) {
    const { hooks, seen } = observe();
    const adapterOptions =
      options.trustProxy === true
        ? { ip: (c: { req: { header(name: string): string | undefined } }) => c.req.header('x-forwarded-for') }
        : {};
    const server = await serveHono((app) => {
      for (const layer of layers) {
        app.use(
          'guard' in layer
            ? honoPortcullis(layer.guard, adapterOptions)
            : honoRateLimit(layer.rateLimit, adapterOptions),
        );
      }
      honoTestRoutes(app, hooks);
    });
    return { ...server, ...seen };
  },
};

export const HARNESSES: readonly Harness[] = [express, fastify, hono];
