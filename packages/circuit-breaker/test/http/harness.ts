import type { Guard } from '@portcullis/core';
import { portcullis as expressPortcullis } from '@portcullis/core/express';
import { portcullis as fastifyPortcullis } from '@portcullis/core/fastify';
import { portcullis as honoPortcullis } from '@portcullis/core/hono';
import { serveTestRoutes, type FrameworkName, type ObservedServer } from '@portcullis/testkit/frameworks';
import { circuitBreaker as expressCircuitBreaker } from '../../src/express.js';
import { circuitBreaker as fastifyCircuitBreaker } from '../../src/fastify.js';
import { circuitBreaker as honoCircuitBreaker } from '../../src/hono.js';
import type { CircuitBreakerGuardOptions } from '../../src/index.js';

/**
 * One middleware in front of the test routes: a guard through core's adapter, or the package's
 * own `circuitBreaker` entry point for the framework.
 */
export type Layer = { readonly guard: Guard } | { readonly circuitBreaker: CircuitBreakerGuardOptions };

/** The standard test routes behind the layers, and what the server observed. */
export type Served = ObservedServer;

export interface Harness {
  readonly name: FrameworkName;
  serve(layers: readonly Layer[]): Promise<Served>;
}

function harness(name: FrameworkName): Harness {
  return {
    name,
    serve: (layers) =>
      serveTestRoutes(name, {
        express: (app) => {
          for (const layer of layers) {
            app.use('guard' in layer ? expressPortcullis(layer.guard) : expressCircuitBreaker(layer.circuitBreaker));
          }
        },
        fastify: async (app) => {
          for (const layer of layers) {
            await app.register(
              'guard' in layer ? fastifyPortcullis(layer.guard) : fastifyCircuitBreaker(layer.circuitBreaker),
            );
          }
        },
        hono: (app, ipOption) => {
          for (const layer of layers) {
            app.use(
              'guard' in layer
                ? honoPortcullis(layer.guard, ipOption)
                : honoCircuitBreaker(layer.circuitBreaker, ipOption),
            );
          }
        },
      }),
  };
}

export const HARNESSES: readonly Harness[] = [harness('express'), harness('fastify'), harness('hono')];
