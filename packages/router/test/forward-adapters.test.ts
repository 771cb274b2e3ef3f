import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { portcullis as expressPortcullis } from '@portcullis/core/express';
import { portcullis as fastifyPortcullis } from '@portcullis/core/fastify';
import { portcullis as honoPortcullis } from '@portcullis/core/hono';
import express from 'express';
import { fastify } from 'fastify';
import { Hono } from 'hono';
import { describe } from 'vitest';
import { forward as expressForward, router as expressRouter } from '../src/express.js';
import { forward as fastifyForward, router as fastifyRouter } from '../src/fastify.js';
import { forward as honoForward, router as honoRouter } from '../src/hono.js';
import { forwardingSpec, type ServedGateway } from './forward-spec.js';

async function listening(server: Server, close: () => Promise<void>): Promise<ServedGateway> {
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${String(port)}`, port, close };
}

function closer(server: Server, then: () => Promise<void>): () => Promise<void> {
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    await then();
  };
}

describe('forwarding on express', () => {
  forwardingSpec(async (router, guard, options) => {
    const proxy = expressForward(options);
    const app = express();
    app.use(expressRouter(router));
    app.use(expressPortcullis(guard));
    app.use(proxy);
    const server = createServer(app).listen(0, '127.0.0.1');
    server.on('upgrade', proxy.upgrade);
    return listening(
      server,
      closer(server, () => proxy.close()),
    );
  });
});

describe('forwarding on fastify', () => {
  forwardingSpec(async (router, guard, options) => {
    const app = fastify({ forceCloseConnections: true });
    await app.register(fastifyRouter(router));
    await app.register(fastifyPortcullis(guard));
    await app.register(fastifyForward(options));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${String(port)}`, port, close: () => app.close() };
  });
});

describe('forwarding on hono', () => {
  forwardingSpec(async (router, guard, options) => {
    const proxy = honoForward(options);
    const app = new Hono();
    app.use(honoRouter(router));
    app.use(honoPortcullis(guard));
    app.use(proxy);
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    server.on('upgrade', proxy.upgrade);
    return listening(
      server,
      closer(server, () => proxy.close()),
    );
  });
});
