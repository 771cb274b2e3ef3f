/**
 * A gateway in front of an upstream pool, for the end-to-end tests that need the pool, discovery
 * and the forwarder together: a `node:http` server running `createForwardHandler` with one
 * catch-all route, upstreams from the testkit that say who answered, and clients that keep
 * requests in flight. Real sockets on loopback throughout.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHttpServer, type HttpServer } from '@portcullis/testkit';
import { Agent, request } from 'undici';
import { onTestFinished } from 'vitest';
import {
  createForwardHandler,
  createRouteTable,
  type AttemptEvent,
  type ForwarderOptions,
  type RouteOutcome,
  type UpstreamPool,
  type UpstreamPoolEvents,
} from '../src/index.js';

const table = createRouteTable([{ name: 'api', path: '/', prefix: true }]);

/** A gateway forwarding every path to `pool`, and what it saw. */
export interface PoolGateway {
  readonly url: string;
  /** Every attempt the forwarder made (one per lease), in order. */
  readonly attempts: AttemptEvent[];
  /** Every request's outcome, as the route's `onComplete` heard it. */
  readonly outcomes: RouteOutcome[];
}

export async function startGateway(pool: UpstreamPool, forwarder: ForwarderOptions = {}): Promise<PoolGateway> {
  const outcomes: RouteOutcome[] = [];
  const attempts: AttemptEvent[] = [];
  const handler = createForwardHandler({
    targets: { api: { endpoints: pool } },
    forwarder,
    router: { table, onComplete: (outcome) => outcomes.push(outcome) },
  });
  handler.forwarder.events.on('attempt', (event) => attempts.push(event));
  const server = createServer(handler.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    await handler.close();
    await pool.close();
  });
  return { url: `http://127.0.0.1:${String(port)}`, attempts, outcomes };
}

/** What an upstream does with a request (other than `/health`). */
export type UpstreamMode = 'ok' | 'reset' | 503 | 'hold';

/**
 * A testkit upstream that answers `{ id, method, bytes }` (its `host:port` and the body length it
 * read), `/health` with `health`, and can reset connections or hold requests unanswered.
 */
export interface Upstream {
  readonly server: HttpServer;
  readonly id: string;
  readonly port: number;
  mode: UpstreamMode;
  health: number;
  /** Requests held unanswered (mode `hold`) until the server closes, by method. */
  readonly held: Map<string, number>;
  /** Answers started and not yet flushed whole. */
  readonly answering: number;
  /** How long an answer takes between its first byte and its last (ms). */
  delayMs: () => number;
}

export async function startUpstream(options: { keepAlive?: boolean; delayMs?: () => number } = {}): Promise<Upstream> {
  const server = await startHttpServer();
  let answering = 0;
  const upstream: Upstream = {
    server,
    id: `127.0.0.1:${String(server.port)}`,
    port: server.port,
    mode: 'ok',
    health: 200,
    held: new Map(),
    delayMs: options.delayMs ?? (() => 0),
    get answering() {
      return answering;
    },
  };
  server.setHandler((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/health') {
      res.writeHead(upstream.health).end();
      return;
    }
    if (upstream.mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (upstream.mode === 'hold') {
      upstream.held.set(req.method ?? '', (upstream.held.get(req.method ?? '') ?? 0) + 1);
      return; // never answered: closing the server resets it
    }
    answering++;
    res.once('close', () => answering--);
    if (options.keepAlive === true) res.setHeader('connection', 'keep-alive');
    answer(req, res, upstream.id, upstream.mode === 503 ? 503 : 200, upstream.delayMs());
  });
  onTestFinished(() => server.close());
  return upstream;
}

/**
 * Reads the body, then answers `{ id, method, bytes }`: with `delayMs`, the headers and the first
 * bytes at once and the rest `delayMs` later, so an answer is in flight for a while after it started.
 */
export function answer(req: IncomingMessage, res: ServerResponse, id: string, status: number, delayMs = 0): void {
  let bytes = 0;
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    const body = JSON.stringify({ id, method: req.method, bytes });
    res.writeHead(status, { 'content-type': 'application/json' });
    if (delayMs === 0) {
      res.end(body);
      return;
    }
    res.write(body.slice(0, 1));
    setTimeout(() => res.end(body.slice(1)), delayMs);
  });
}

/** One client request's result: the status, and the upstream that answered (from its body). */
export interface ClientResult {
  readonly method: string;
  readonly status: number;
  /** The answering upstream's id, for a 2xx. */
  readonly id: string | undefined;
  /** Body bytes the upstream read (for a 2xx). */
  readonly bytes: number | undefined;
  /** A transport error on the client's side (none is expected: the gateway always answers). */
  readonly error?: string;
}

/** A client with its own keep-alive connections to the gateway. */
export function client(
  gateway: PoolGateway,
  connections = 16,
): (method?: string, body?: string) => Promise<ClientResult> {
  const agent = new Agent({ connections });
  onTestFinished(() => agent.close());
  return async function send(method = 'GET', body?: string): Promise<ClientResult> {
    try {
      const response = await request(`${gateway.url}/work`, {
        method: method as 'GET',
        dispatcher: agent,
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'text/plain' } }),
      });
      const text = await response.body.text();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        const parsed = JSON.parse(text) as { id: string; bytes: number };
        return { method, status: response.statusCode, id: parsed.id, bytes: parsed.bytes };
      }
      return { method, status: response.statusCode, id: undefined, bytes: undefined };
    } catch (error) {
      return { method, status: 0, id: undefined, bytes: undefined, error: String(error) };
    }
  };
}

/** Sends `count` requests one after another. */
export async function sendSequentially(
  send: ReturnType<typeof client>,
  count: number,
  method = 'GET',
): Promise<ClientResult[]> {
  const results: ClientResult[] = [];
  for (let i = 0; i < count; i++) results.push(await send(method));
  return results;
}

/** How many results each upstream id answered. */
export function servedBy(results: readonly ClientResult[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const result of results) if (result.id !== undefined) counts.set(result.id, (counts.get(result.id) ?? 0) + 1);
  return counts;
}

/** Resolves with the next `type` event of `pool` for which `accept` holds; rejects after `timeoutMs`. */
export function nextEvent<K extends keyof UpstreamPoolEvents>(
  pool: UpstreamPool,
  type: K,
  accept: (event: UpstreamPoolEvents[K]) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<UpstreamPoolEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pool.events.off(type, listener);
      reject(new Error(`no ${type} event in ${String(timeoutMs)} ms`));
    }, timeoutMs);
    const listener = (event: UpstreamPoolEvents[K]): void => {
      if (!accept(event)) return;
      clearTimeout(timer);
      pool.events.off(type, listener);
      resolve(event);
    };
    pool.events.on(type, listener);
  });
}

/** Every `type` event of `pool` from now on. */
export function record<K extends keyof UpstreamPoolEvents>(pool: UpstreamPool, type: K): UpstreamPoolEvents[K][] {
  const seen: UpstreamPoolEvents[K][] = [];
  pool.events.on(type, (event) => seen.push(event));
  return seen;
}

/** Waits (a turn of the event loop at a time, bounded) until `condition` holds; `what` names it in the failure. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not met in ${String(timeoutMs)} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Leases on endpoints that left the pool's set and are not completed yet. */
export function drainingLeases(pool: UpstreamPool): number {
  const snapshot = pool.snapshot();
  let current = 0;
  for (const endpoint of snapshot.endpoints) current += endpoint.inFlight;
  return snapshot.inFlight - current;
}

/** A `node:http` server on `host` (a loopback address other than 127.0.0.1 included) and `port`. */
export async function listenOn(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
