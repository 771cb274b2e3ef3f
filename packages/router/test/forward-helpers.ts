/**
 * Local upstreams and raw clients for the forwarding tests: real sockets on 127.0.0.1.
 */
import { once } from 'node:events';
import {
  createServer,
  request,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { EndpointLease, EndpointOutcome, EndpointPicker } from '../src/index.js';

/** An upstream: a keep-alive `node:http` server whose handler a test sets, and what it saw. */
export interface Upstream {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Requests whose handler ran. */
  readonly requests: IncomingMessage[];
  setHandler(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  close(): Promise<void>;
}

/** Answers JSON describing the request: method, url, headers, body length. */
export function echo(req: IncomingMessage, res: ServerResponse): void {
  let bytes = 0;
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bytes }));
  });
}

export async function startUpstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void = echo,
): Promise<Upstream> {
  let current = handler;
  const requests: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests.push(req);
    current(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    port,
    server,
    requests,
    setHandler: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A WebSocket echo server on an upstream's `node:http` server (prefixes each message with `echo:`). */
export function addWebSocketEcho(upstream: Upstream): WebSocketServer {
  const wss = new WebSocketServer({ server: upstream.server });
  wss.on('connection', (ws, req) => {
    ws.send(`hello ${req.url ?? ''}`);
    ws.on('message', (data: Buffer, binary) => {
      ws.send(binary ? data : `echo:${data.toString()}`);
    });
  });
  return wss;
}

/** A port nothing listens on (bound then closed). */
export async function deadOrigin(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return `http://127.0.0.1:${String(port)}`;
}

/** A fixed picker that records every lease it hands out and every outcome reported. */
export interface RecordingPicker extends EndpointPicker {
  readonly picked: string[];
  readonly outcomes: { endpoint: string; outcome: EndpointOutcome }[];
  readonly avoided: (readonly string[])[];
}

export function recordingPicker(origins: readonly string[]): RecordingPicker {
  const picked: string[] = [];
  const outcomes: { endpoint: string; outcome: EndpointOutcome }[] = [];
  const avoided: (readonly string[])[] = [];
  let next = 0;
  return {
    picked,
    outcomes,
    avoided,
    acquire(_key, avoid): EndpointLease | undefined {
      avoided.push([...(avoid ?? [])]);
      let origin = origins[next % origins.length]!;
      for (let tried = 0; tried < origins.length && avoid?.has(new URL(origin).host) === true; tried++) {
        next++;
        origin = origins[next % origins.length]!;
      }
      next++;
      const id = new URL(origin).host;
      picked.push(id);
      let completed = false;
      return {
        id,
        origin,
        complete(outcome) {
          // Recorded either way: the tests' exact lists of outcomes show a second completion.
          outcomes.push({ endpoint: id, outcome });
          if (completed) throw new Error(`lease of ${id} completed twice`);
          completed = true;
        },
      };
    },
  };
}

/** A response read with `node:http` (headers exactly as sent, body as text). */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function httpRequest(
  url: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends `text` on a fresh TCP connection and returns everything read until the server closes it. */
export function rawExchange(port: number, text: string, waitMs = 2_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

/** Resolves when `condition` holds, polling each 10 ms, or rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
