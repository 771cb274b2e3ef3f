/**
 * A `/health` answer with 50 cached checks: @portcullis/health against @godaddy/terminus'
 * equivalent (its health check function returning the cached results of 50 checks, each with its
 * own TTL, the way terminus leaves caching to you).
 *
 * Two measures, each paired by round (both sides run in every round, the order flipped every
 * round, the median of the per-round ratios reported with its spread):
 *
 * - **the handler**: each side's own `node:http` request listener called with the same in-memory
 *   request and response objects (no socket): the library's cost per answer;
 * - **over a socket**: HTTP/1.1 keep-alive requests on 127.0.0.1 to a real server per side,
 *   32 in flight: the answer as a probe sees it.
 *
 * Cases: the public answer (ours `{"status":"pass"}`; terminus `{"status":"ok"}`) and the detailed
 * one (ours for a caller with the token: every check's status, observed value and time; terminus
 * `{ status, info, details }` with the same per-check objects).
 */
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTerminus } from '@godaddy/terminus';
import { bearerToken, createHealth, createShutdown, healthListener } from '@portcullis/health';
import {
  fixed,
  int,
  isMain,
  log,
  median,
  paired,
  quick,
  sectionMain,
  settle,
  table,
  times,
  type Section,
} from './common.js';

const CHECKS = 50;
const TOKEN = 'bench-health-token-0123456789';
const TTL_MS = 3_600_000;
const ROUNDS = quick ? 6 : 41;
const HANDLER_CALLS = quick ? 2_000 : 20_000;
const SOCKET_MS = quick ? 150 : 600;
const IN_FLIGHT = 32;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Our side: 50 checks, results cached for an hour (warmed before measuring), on a server with the
 * graceful shutdown's request tracking installed (as terminus installs stoppable's).
 */
async function oursServer(): Promise<{ server: Server; dispose(): void }> {
  const health = createHealth({
    checks: Array.from({ length: CHECKS }, (_, i) => ({
      name: `dep-${String(i)}`,
      ttlMs: TTL_MS,
      critical: i % 5 !== 0,
      check: () => ({ status: 'pass' as const, observedValue: i, observedUnit: 'ms' }),
    })),
  });
  await health.run();
  const server = createServer(healthListener(health, { details: bearerToken(TOKEN) }));
  const shutdown = createShutdown({ health, servers: [server], signals: [], exit: false });
  return {
    server,
    dispose: () => {
      shutdown.dispose();
      health.dispose();
    },
  };
}

/** Terminus' side: the same 50 results, cached by hand (what a terminus user writes). */
function terminusServer(detailed: boolean): Server {
  const cache = Array.from({ length: CHECKS }, (_, i) => ({
    at: Date.now(),
    result: { status: 'pass', observedValue: i },
  }));
  const server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  createTerminus(server, {
    healthChecks: {
      '/health': () => {
        const now = Date.now();
        const details: Record<string, unknown> = {};
        for (let i = 0; i < CHECKS; i++) {
          const entry = cache[i] as (typeof cache)[number];
          if (now - entry.at >= TTL_MS) entry.at = now; // would rerun the check
          if (detailed) details[`dep-${String(i)}`] = entry.result;
        }
        return Promise.resolve(detailed ? details : undefined);
      },
    },
    signals: [],
  });
  return server;
}

/** What the server does with a request: every `request` listener, in order (as `emit` would). */
function listenerOf(server: Server): Listener {
  const listeners = server.listeners('request') as Listener[];
  return function everyListener(req, res) {
    for (const listener of listeners) listener(req, res);
  };
}

/** One connection's socket, shared by every in-memory request (stoppable counts requests per socket). */
const SOCKET = { remoteAddress: '127.0.0.1', end: () => undefined };

/** An in-memory request and response that the listeners accept; `done` resolves on `end()`. */
function fakeExchange(detailed: boolean): { req: IncomingMessage; res: ServerResponse; done: Promise<number> } {
  let finish: (bytes: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const headers: Record<string, string> = detailed ? { authorization: `Bearer ${TOKEN}` } : {};
  const ended: (() => void)[] = [];
  const req = {
    method: 'GET',
    url: '/health',
    headers,
    headersDistinct: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    rawHeaders: Object.entries(headers).flat(),
    socket: SOCKET,
  } as unknown as IncomingMessage;
  const res = {
    statusCode: 200,
    headersSent: false,
    destroyed: false,
    setHeader() {
      return this;
    },
    writeHead() {
      return this;
    },
    once(event: string, listener: () => void) {
      if (event === 'finish' || event === 'close') ended.push(listener);
      return this;
    },
    end(body?: string) {
      for (const listener of ended.splice(0)) listener();
      finish(body === undefined ? 0 : body.length);
      return this;
    },
  } as unknown as ServerResponse;
  return { req, res, done };
}

/** ns per answer: `calls` answers, one at a time (each awaited). */
async function timeHandler(listener: Listener, detailed: boolean, calls: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const { req, res, done } = fakeExchange(detailed);
    listener(req, res);
    await done;
  }
  return Number(process.hrtime.bigint() - start) / calls;
}

/** Answers per second over a socket for about `SOCKET_MS`, `IN_FLIGHT` at a time. */
async function timeSocket(port: number, detailed: boolean, agent: Agent): Promise<number> {
  const headers: Record<string, string> = detailed ? { authorization: `Bearer ${TOKEN}` } : {};
  let done = 0;
  const started = performance.now();
  const deadline = started + SOCKET_MS;
  async function loop(): Promise<void> {
    while (performance.now() < deadline) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/health', agent, headers }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`status ${String(res.statusCode)}`));
            else resolve();
          });
        });
        req.on('error', reject);
        req.end();
      });
      done++;
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  return done / ((performance.now() - started) / 1000);
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Checks that both sides answer what they are supposed to, once, before timing. */
async function sanity(listener: Listener, detailed: boolean): Promise<number> {
  const { req, res, done } = fakeExchange(detailed);
  listener(req, res);
  return done;
}

export async function runHealthBench(): Promise<Section> {
  const mine = await oursServer();
  const ourListener = listenerOf(mine.server);
  const rows: string[][] = [];
  const socketRows: string[][] = [];
  for (const detailed of [false, true]) {
    const label = detailed ? 'detailed (50 checks in the body)' : 'public (status only)';
    const theirsServer = terminusServer(detailed);
    const theirs = listenerOf(theirsServer);
    const oursBytes = await sanity(ourListener, detailed);
    const theirsBytes = await sanity(theirs, detailed);
    log(`${label}: body ${String(oursBytes)} vs ${String(theirsBytes)} characters`);

    // The handler, paired by round.
    const handler = new Map<string, number[]>([
      ['ours', []],
      ['terminus', []],
    ]);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['ours', 'terminus'] as const) : (['terminus', 'ours'] as const);
      for (const side of order) {
        const ns = await timeHandler(side === 'ours' ? ourListener : theirs, detailed, HANDLER_CALLS);
        if (round > 0) handler.get(side)?.push(ns); // round 0 warms up
      }
    }
    const h = paired(handler, 'terminus', 'ours');
    rows.push([
      label,
      fixed(median(handler.get('ours') ?? []) / 1000, 2),
      fixed(median(handler.get('terminus') ?? []) / 1000, 2),
      times(h.median),
      h.spread,
      `${int(oursBytes)} / ${int(theirsBytes)}`,
    ]);
    log(`${label}: handler done`);

    // Over a socket, paired by round.
    const ourPort = await listen(mine.server);
    const theirPort = await listen(theirsServer);
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const socket = new Map<string, number[]>([
      ['ours', []],
      ['terminus', []],
    ]);
    const socketRounds = Math.max(4, Math.floor(ROUNDS / 4));
    for (let round = 0; round < socketRounds; round++) {
      const order = round % 2 === 0 ? (['ours', 'terminus'] as const) : (['terminus', 'ours'] as const);
      for (const side of order) {
        const rate = await timeSocket(side === 'ours' ? ourPort : theirPort, detailed, agent);
        if (round > 0) socket.get(side)?.push(rate);
        await settle(20);
      }
    }
    const s = paired(socket, 'ours', 'terminus');
    socketRows.push([
      label,
      int(median(socket.get('ours') ?? [])),
      int(median(socket.get('terminus') ?? [])),
      times(s.median),
      s.spread,
    ]);
    agent.destroy();
    await new Promise<void>((resolve) => {
      mine.server.close(() => {
        resolve();
      });
      mine.server.closeAllConnections();
    });
    await new Promise<void>((resolve) => {
      theirsServer.close(() => {
        resolve();
      });
      theirsServer.closeAllConnections();
    });
    log(`${label}: socket done`);
  }
  mine.dispose();
  return {
    title: `A /health answer with ${String(CHECKS)} cached checks: ours vs @godaddy/terminus`,
    markdown: [
      `${String(CHECKS)} checks, every result cached (ours: \`ttlMs\` of an hour, warmed; terminus: the same ` +
        'results in an array with a TTL test per check, in its health check function). ' +
        `The handler: each side's request listener called with the same in-memory request and response, ` +
        `${int(HANDLER_CALLS)} answers per sample, ${String(ROUNDS - 1)} rounds after one warm-up round, the order flipped every round. ` +
        `Over a socket: keep-alive HTTP/1.1 on 127.0.0.1, ${String(IN_FLIGHT)} requests in flight, ${String(SOCKET_MS)} ms per sample, client and servers in one process.`,
      '',
      '### The handler (µs per answer)',
      '',
      table(
        [
          'Answer',
          'ours µs',
          'terminus µs',
          'terminus ÷ ours, paired',
          'IQR (range)',
          'body characters (ours / terminus)',
        ],
        rows,
      ),
      '',
      '### Over a socket (answers per second)',
      '',
      table(['Answer', 'ours / s', 'terminus / s', 'ours ÷ terminus, paired', 'IQR (range)'], socketRows),
      '',
      'Ratios above 1 mean ours is faster. Ours does more per answer than the terminus function: ' +
        'the path match (groups, per-check paths), the admission predicate (a SHA-256 of the header for the detailed case), ' +
        'the aggregate by criticality, and an `application/health+json` body with a timestamp per check.',
    ].join('\n'),
  };
}

if (isMain(import.meta.url)) await sectionMain(runHealthBench);
