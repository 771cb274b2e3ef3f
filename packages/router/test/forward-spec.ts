/**
 * One forwarding spec, run by every adapter (`forward-adapters.test.ts`): each framework mounts the
 * router, a guard and the forwarder its own idiomatic way, and the same requests over real sockets
 * must give the same results.
 */
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { expect, onTestFinished, test } from 'vitest';
import { WebSocket } from 'ws';
import type { Guard } from '@portcullis/core';
import {
  createRouteTable,
  fixedEndpoints,
  type ForwardHandlerOptions,
  type RouteOutcome,
  type RouterGuardOptions,
} from '../src/index.js';
import {
  addWebSocketEcho,
  deadOrigin,
  echo,
  httpRequest,
  rawExchange,
  recordingPicker,
  startUpstream,
  until,
  type Upstream,
} from './forward-helpers.js';

/** A gateway a framework serves: router, then `guard`, then the forwarder; upgrades forwarded. */
export interface ServedGateway {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** How one framework serves the gateway. */
export type ServeGateway = (
  router: RouterGuardOptions,
  guard: Guard<object>,
  forward: ForwardHandlerOptions,
) => Promise<ServedGateway>;

/** Adds a response header and sets an upstream header (the client's copies must not pass). */
const identity: Guard<object> = () => ({
  action: 'continue',
  responseHeaders: new Headers({ 'x-guard': 'seen' }),
  upstreamHeaders: new Headers({ 'x-identity': 'alice' }),
});

const table = createRouteTable([
  { name: 'api', path: '/api', prefix: true },
  { name: 'file', path: '/files/:id' },
]);

export function forwardingSpec(serveGateway: ServeGateway): void {
  async function upstream(handler?: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
    const started = await startUpstream(handler);
    onTestFinished(() => started.close());
    return started;
  }

  async function gateway(
    forward: Omit<ForwardHandlerOptions, 'router'>,
  ): Promise<ServedGateway & { outcomes: RouteOutcome[] }> {
    const outcomes: RouteOutcome[] = [];
    const router: RouterGuardOptions = { table, onComplete: (o) => outcomes.push(o) };
    const served = await serveGateway(router, identity, { ...forward, router });
    onTestFinished(() => served.close());
    return { ...served, outcomes };
  }

  test('forwards the rewritten canonical path and query, with the guard’s headers, and reports the status', async () => {
    const up = await upstream((req, res) => {
      res.setHeader('x-upstream', 'yes');
      res.statusCode = 201;
      echo(req, res);
    });
    const endpoints = fixedEndpoints([up.url]);
    const gw = await gateway({
      targets: {
        api: { endpoints, rewrite: { stripPrefix: '/api' } },
        file: { endpoints, rewrite: { template: '/blobs/:id' } },
      },
    });
    const res = await httpRequest(`${gw.url}/api/a/./b?q=1`, {
      headers: { 'x-identity': 'mallory', x_identity: 'mallory' },
    });
    expect(res.status).toBe(201);
    const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/a/b?q=1');
    expect(seen.headers['x-identity']).toBe('alice');
    expect(seen.headers.x_identity).toBeUndefined();
    expect(res.headers['x-upstream']).toBe('yes');
    expect(res.headers['x-guard']).toBe('seen');
    const file = JSON.parse((await httpRequest(`${gw.url}/files/r%C3%A9sum%C3%A9`)).body) as { url: string };
    expect(file.url).toBe('/blobs/r%C3%A9sum%C3%A9');
    await until(() => gw.outcomes.length === 2);
    expect(gw.outcomes.map((o) => [o.route.name, o.outcome.status])).toEqual([
      ['api', 201],
      ['file', 201],
    ]);
  });

  test('streams a request body to the upstream and its answer back', async () => {
    const up = await upstream((req, res) => {
      res.setHeader('content-type', 'application/octet-stream');
      req.pipe(res);
    });
    const gw = await gateway({ targets: { api: { endpoints: fixedEndpoints([up.url]) } } });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const req = request(`${gw.url}/api/upload`, { method: 'PUT', agent: false });
    const response = once(req, 'response');
    for (let i = 0; i < 128; i++) if (!req.write(chunk)) await once(req, 'drain');
    req.end();
    const [res] = (await response) as [IncomingMessage];
    let bytes = 0;
    for await (const part of res as AsyncIterable<Buffer>) bytes += part.length;
    expect(res.statusCode).toBe(200);
    expect(bytes).toBe(128 * chunk.length);
  });

  test('drops hop-by-hop headers and replaces a spoofed X-Forwarded-For', async () => {
    const up = await upstream();
    const gw = await gateway({ targets: { api: { endpoints: fixedEndpoints([up.url]) } } });
    const res = await httpRequest(`${gw.url}/api/x`, {
      headers: { connection: 'keep-alive, x-hop', 'x-hop': '1', 'x-forwarded-for': '203.0.113.9', te: 'trailers' },
    });
    const seen = (JSON.parse(res.body) as { headers: Record<string, string> }).headers;
    expect(seen['x-hop']).toBeUndefined();
    expect(seen.te).toBeUndefined();
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.forwarded).toMatch(/^for=127\.0\.0\.1;host=".+";proto=http$/);
  });

  test('answers 502 when the endpoint refuses, 504 when it hangs, and the route hears it', async () => {
    const dead = await deadOrigin();
    const hanging = await upstream(() => undefined);
    const gw = await gateway({
      targets: { api: { endpoints: fixedEndpoints([dead]) }, file: { endpoints: fixedEndpoints([hanging.url]) } },
      forwarder: { headersTimeoutMs: 300, retry: false },
    });
    const refused = await httpRequest(`${gw.url}/api/x`);
    expect(refused.status).toBe(502);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    const hung = await httpRequest(`${gw.url}/files/1`);
    expect(hung.status).toBe(504);
    await until(() => gw.outcomes.length === 2);
    expect(gw.outcomes.map((o) => o.outcome.status)).toEqual([502, 504]);
  });

  test('a client that goes away aborts the upstream request', async () => {
    let upstreamSawClose = false;
    const up = await upstream((_req, res) => {
      res.on('close', () => (upstreamSawClose = true));
    });
    const picker = recordingPicker([up.url]);
    const gw = await gateway({ targets: { api: { endpoints: picker } } });
    const req = request(`${gw.url}/api/slow`, { agent: false });
    req.on('error', () => undefined);
    req.end();
    await until(() => up.requests.length === 1);
    req.destroy();
    await until(() => upstreamSawClose);
    await until(() => picker.outcomes.length === 1);
    expect(picker.outcomes[0]?.outcome.failure).toBe('aborted');
    await until(() => gw.outcomes.length === 1);
    expect(gw.outcomes[0]?.outcome).toMatchObject({ status: 499, aborted: true });
  });

  test('retries a GET on another endpoint, never a POST', async () => {
    const dead = await deadOrigin();
    const alive = await upstream();
    const get = recordingPicker([dead, alive.url]);
    const gw = await gateway({ targets: { api: { endpoints: get } } });
    expect((await httpRequest(`${gw.url}/api/x`)).status).toBe(200);
    expect(get.outcomes.map((o) => o.outcome.failure ?? o.outcome.status)).toEqual(['refused', 200]);
    const post = recordingPicker([dead, alive.url]);
    const gw2 = await gateway({ targets: { api: { endpoints: post } } });
    expect((await httpRequest(`${gw2.url}/api/x`, { method: 'POST', body: 'x' })).status).toBe(502);
    expect(post.outcomes.map((o) => o.outcome.failure)).toEqual(['refused']);
    expect(alive.requests).toHaveLength(1);
  });

  test('proxies a WebSocket echo', async () => {
    const up = await upstream();
    const wss = addWebSocketEcho(up);
    onTestFinished(() => {
      wss.close();
    });
    const gw = await gateway({
      targets: { api: { endpoints: fixedEndpoints([up.url]), rewrite: { stripPrefix: '/api' } } },
    });
    const ws = new WebSocket(`ws://127.0.0.1:${String(gw.port)}/api/socket`);
    const messages: string[] = [];
    ws.on('message', (data: Buffer) => messages.push(data.toString()));
    await once(ws, 'open');
    ws.send('ping');
    await until(() => messages.length === 2);
    expect(messages).toEqual(['hello /socket', 'echo:ping']);
    ws.close();
    await once(ws, 'close');
  });

  test('a smuggling attempt is answered 400 and never reaches the upstream', async () => {
    const up = await upstream();
    const gw = await gateway({ targets: { api: { endpoints: fixedEndpoints([up.url]) } } });
    const answer = await rawExchange(
      gw.port,
      'POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(up.requests).toHaveLength(0);
  });
}
