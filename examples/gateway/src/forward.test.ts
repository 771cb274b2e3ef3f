import type { IncomingMessage, ServerResponse } from 'node:http';
import { fixedEndpoints } from '@portcullis/router';
import { startHttpServer, type HttpServer } from '@portcullis/testkit';
import { afterEach, describe, expect, test } from 'vitest';
import { Cancellation, ClientGoneError } from './cancel.js';
import { resilientForwarder, type Forwarder } from './forward.js';

const BODY = JSON.stringify({ id: 7, name: 'Ada' });

let forwarder: Forwarder | undefined;
const servers: HttpServer[] = [];
afterEach(async () => {
  await forwarder?.close();
  forwarder = undefined;
  for (const server of servers.splice(0)) await server.close();
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<HttpServer> {
  const server = await startHttpServer(handler);
  servers.push(server);
  return server;
}

const read = (origins: string[], signal?: Cancellation) => ({
  endpoints: fixedEndpoints(origins),
  service: 'users',
  method: 'GET',
  path: '/users/7',
  headers: {},
  scope: 'alice',
  signal,
});

describe('the forwarder: deadlines and the client leaving', () => {
  test('an attempt whose answer stalls mid-body (a cacheable read) runs out of time and is retried elsewhere', async () => {
    let requests = 0;
    const handler = (_request: IncomingMessage, response: ServerResponse): void => {
      requests++;
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(BODY.length) });
      // The first request gets its headers and half its body, then nothing: only the attempt's
      // deadline ends it (undici's body timeout is minutes long).
      if (requests === 1) response.write(BODY.slice(0, 10));
      else response.end(BODY);
    };
    const [a, b] = [await serve(handler), await serve(handler)];
    forwarder = resilientForwarder();
    const answer = await forwarder.forward(read([a.url, b.url]));
    expect(answer.status).toBe(200);
    expect(Buffer.isBuffer(answer.body) ? answer.body.toString() : undefined).toBe(BODY);
    expect(forwarder.stats()['users']).toEqual({ attempts: 2, failures: 1 });
  }, 15_000);

  test('the client leaving cancels the upstream call at once: the forward rejects with its reason, no failure counted', async () => {
    let arrived: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let closed: () => void = () => undefined;
    const upstreamClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    // Never answers; tells when the request arrived and when its connection went away.
    const server = await serve((request) => {
      request.socket.once('close', closed);
      arrived();
    });
    forwarder = resilientForwarder();
    const gone = new Cancellation();
    const forwarded = forwarder.forward(read([server.url], gone));
    await reached;
    const reason = new ClientGoneError();
    gone.abort(reason);
    await expect(forwarded).rejects.toBe(reason);
    await upstreamClosed;
    expect(forwarder.stats()['users']).toEqual({ attempts: 1, failures: 0 });
  }, 15_000);
});
