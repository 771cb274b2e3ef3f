import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { serveExpress, serveFastify, serveHono, type RunningServer } from '@portcullis/testkit/frameworks';
import { healthEndpoints as expressHealth } from '../src/express.js';
import { healthEndpoints as fastifyHealth } from '../src/fastify.js';
import { healthEndpoints as honoHealth } from '../src/hono.js';
import { healthListener, type Health, type HealthEndpointOptions } from '../src/index.js';

/** The ways the endpoints are served: plain node:http and the three adapters. */
export type Mount = 'node' | 'express' | 'fastify' | 'hono';
export const MOUNTS: readonly Mount[] = ['node', 'express', 'fastify', 'hono'];

/** What the application behind the endpoints answers for `GET /other`. */
export const APP_ANSWER = 'the app';

/**
 * Serves `health` on 127.0.0.1 through `mount`, in front of an application route `GET /other`
 * (and, on the frameworks, their own 404 for anything else).
 */
export async function serveHealth(
  mount: Mount,
  health: Health,
  options?: HealthEndpointOptions,
): Promise<RunningServer> {
  switch (mount) {
    case 'node': {
      const listener = healthListener(health, options);
      const server = createServer((req, res) => {
        listener(req, res, () => {
          res.writeHead(req.url === '/other' ? 200 : 404, { 'content-type': 'text/plain' }).end(APP_ANSWER);
        });
      });
      return listen(server);
    }
    case 'express':
      return serveExpress((app) => {
        app.use(expressHealth(health, options));
        app.get('/other', (_req, res) => {
          res.type('text/plain').send(APP_ANSWER);
        });
      });
    case 'fastify':
      return serveFastify(async (app) => {
        await app.register(fastifyHealth(health, options));
        app.get('/other', async (_request, reply) => reply.type('text/plain').send(APP_ANSWER));
      });
    case 'hono':
      return serveHono((app) => {
        app.use(honoHealth(health, options));
        app.get('/other', (c) => c.text(APP_ANSWER));
      });
  }
}

async function listen(server: Server): Promise<RunningServer> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** A response read off the wire: status, headers (lower-case; repeated ones joined), body. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Sends `head` (request line and headers, without the final blank line) as written, on a fresh
 * connection with `Connection: close`, and reads the answer: for what `fetch` would not send
 * (repeated headers, unnormalised paths).
 */
export async function rawRequest(baseUrl: string, head: string): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.end(`${head}\r\nhost: ${hostname}:${port}\r\nconnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
