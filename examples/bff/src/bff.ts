import { serve } from '@hono/node-server';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import type { Clock } from '@portcullis/core';
import type { PortcullisEnv } from '@portcullis/core/hono';
import { dataLoaders } from '@portcullis/dataloader-guard/hono';
import { createYoga } from 'graphql-yoga';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBffLoaders } from './loaders.js';
import { bffSchema, type BffContext } from './schema.js';
import type { ServiceName } from './services.js';

/** Options of {@link startBff}. */
export interface BffOptions {
  /** The services' base URLs. */
  readonly urls: Readonly<Record<ServiceName, string>>;
  /** Port on 127.0.0.1; 0 for any free one. Default 0. */
  readonly port?: number | undefined;
  /** Each query's deadline: fields not fetched by then are null, with an error each. Default is 500 ms. */
  readonly deadlineMs?: number | undefined;
  /** Queries deeper than this are refused before they run. Default is 5. */
  readonly maxDepth?: number | undefined;
  /** Where cache ages come from. Default: the system clock. */
  readonly clock?: Clock | undefined;
  /** One call per key, no cache (see `createBffLoaders`). */
  readonly naive?: boolean | undefined;
}

/** A running BFF. */
export interface RunningBff {
  /** `http://127.0.0.1:<port>/graphql`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The GraphQL BFF: graphql-yoga on Hono, the request's loaders from `dataLoaders` (one set per
 * request, with the query deadline, given up when the request ends), a depth limit
 * (graphql-armor's max-depth, checked before anything runs).
 */
export async function startBff(options: BffOptions): Promise<RunningBff> {
  const loaders = createBffLoaders(options.urls, { clock: options.clock, naive: options.naive });
  const yoga = createYoga<BffContext>({
    schema: bffSchema(),
    graphqlEndpoint: '/graphql',
    logging: false,
    plugins: [maxDepthPlugin({ n: options.maxDepth ?? 5, exposeLimits: true })],
  });
  const app = new Hono<PortcullisEnv>();
  app.use('/graphql', dataLoaders(loaders, { deadlineMs: options.deadlineMs ?? 500 }));
  app.on(['GET', 'POST'], '/graphql', (c) => yoga.fetch(c.req.raw, { loaders: loaders.of(c.get('portcullis')) }));
  const server = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    server.once('listening', () => {
      resolve();
    });
    server.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
