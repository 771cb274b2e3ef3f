import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { expect, onTestFinished, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createForwardHandler, createRouteTable, fixedEndpoints } from '../src/index.js';

const cert = readFileSync(new URL('./fixtures/localhost-cert.pem', import.meta.url));
const key = readFileSync(new URL('./fixtures/localhost-key.pem', import.meta.url));

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });
  return (server.address() as AddressInfo).port;
}

test('forwards over TLS both sides (https and wss endpoints, with the endpoint’s CA), and says proto=https', async () => {
  const upstream = createHttpsServer({ cert, key }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  const wss = new WebSocketServer({ server: upstream });
  wss.on('connection', (ws) =>
    ws.on('message', (data: Buffer) => {
      ws.send(`tls:${data.toString()}`);
    }),
  );
  onTestFinished(() => {
    wss.close();
  });
  const upstreamPort = await listen(upstream);

  const handler = createForwardHandler({
    targets: { all: { endpoints: fixedEndpoints([`https://127.0.0.1:${String(upstreamPort)}`]) } },
    router: { table: createRouteTable([{ name: 'all', path: '/', prefix: true }]) },
    forwarder: { connect: { ca: cert } },
  });
  onTestFinished(() => handler.close());
  const gateway = createHttpsServer({ cert, key }, handler.handle);
  gateway.on('upgrade', handler.upgrade);
  const port = await listen(gateway);

  const answer = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/secure?x=1', ca: cert, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve(body);
      });
    });
    req.on('error', reject);
    req.end();
  });
  const seen = JSON.parse(answer) as { url: string; headers: Record<string, string> };
  expect(seen.url).toBe('/secure?x=1');
  expect(seen.headers['x-forwarded-proto']).toBe('https');
  expect(seen.headers.forwarded).toMatch(/;proto=https$/);

  const ws = new WebSocket(`wss://127.0.0.1:${String(port)}/socket`, { ca: cert });
  await once(ws, 'open');
  ws.send('hello');
  const [reply] = (await once(ws, 'message')) as [Buffer];
  expect(reply.toString()).toBe('tls:hello');
  ws.close();
});
