import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpRequest, startUpstream, type Upstream } from './forward-helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/forward-proxy.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const GIB = 1024 ** 3;
const CHUNK = Buffer.alloc(256 * 1024, 'x');
const MAX_GROWTH = 64 * 1024 ** 2;
/** Where the slow side stops reading for a while: without backpressure, the gateway would buffer. */
const STALLS = [256 * 1024 ** 2, 640 * 1024 ** 2];
const STALL_MS = 300;

let upstream: Upstream;
let proxy: ChildProcess;
let proxyUrl: string;

/** Resident memory of the gateway process, asked over IPC. */
function proxyRss(): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (message: { rss?: number }): void => {
      if (message.rss === undefined) return;
      proxy.off('message', onMessage);
      resolve(message.rss);
    };
    proxy.on('message', onMessage);
    proxy.send('rss');
  });
}

/** Samples the gateway's RSS every 25 ms while `work` runs; returns the highest sample. */
async function peakRssDuring(work: () => Promise<void>): Promise<number> {
  let peak = 0;
  const state = { running: true };
  const sampling = (async () => {
    while (state.running) {
      peak = Math.max(peak, await proxyRss());
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  try {
    await work();
  } finally {
    state.running = false;
    await sampling;
  }
  return Math.max(peak, await proxyRss());
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `res` to its end, stopping for STALL_MS at each STALLS offset; returns the byte count. */
async function readWithStalls(res: IncomingMessage): Promise<number> {
  let bytes = 0;
  let stall = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (stall < STALLS.length && bytes >= (STALLS[stall] as number)) {
      stall++;
      await sleep(STALL_MS);
    }
  }
  return bytes;
}

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.method === 'POST') {
      void readWithStalls(req).then((bytes) => res.end(String(bytes)));
      return;
    }
    // GET: a 1 GiB answer, generated as the client reads it.
    res.writeHead(200, { 'content-length': String(GIB) });
    let sent = 0;
    const pump = (): void => {
      while (sent < GIB) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  proxy = fork(FIXTURE, [], {
    execArgv: ['--conditions=@portcullis/source', '--import', TSX],
    env: { ...process.env, UPSTREAM: upstream.url },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await once(proxy, 'message')) as [{ ready: string }];
  proxyUrl = message.ready;
  // Warm up: the first requests load code and open the pool.
  for (let i = 0; i < 20; i++) {
    await httpRequest(`${proxyUrl}/warm`, { method: 'POST', body: CHUNK });
  }
});

afterAll(async () => {
  if (proxy.exitCode === null) {
    const exited = once(proxy, 'exit');
    proxy.send('stop');
    await exited;
  }
  await upstream.close();
});

describe('streaming through the gateway', () => {
  test('a 1 GiB upload streams to the upstream with the gateway RSS growing by less than 64 MiB', async () => {
    const baseline = await proxyRss();
    let answer = '';
    const peak = await peakRssDuring(async () => {
      const req = request(`${proxyUrl}/upload`, {
        method: 'POST',
        headers: { 'content-length': String(GIB) },
        agent: false,
      });
      const response = once(req, 'response') as Promise<[IncomingMessage]>;
      for (let sent = 0; sent < GIB; sent += CHUNK.length) {
        if (!req.write(CHUNK)) await once(req, 'drain');
      }
      req.end();
      const [res] = await response;
      res.setEncoding('utf8');
      for await (const chunk of res as AsyncIterable<string>) answer += chunk;
    });
    expect(answer).toBe(String(GIB));
    expect(peak - baseline, `peak ${String(peak)} over baseline ${String(baseline)}`).toBeLessThan(MAX_GROWTH);
  }, 120_000);

  test('a 1 GiB download streams to the client with the gateway RSS growing by less than 64 MiB', async () => {
    const baseline = await proxyRss();
    let bytes = 0;
    const peak = await peakRssDuring(async () => {
      const req = request(`${proxyUrl}/download`, { agent: false });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      bytes = await readWithStalls(res);
    });
    expect(bytes).toBe(GIB);
    expect(peak - baseline, `peak ${String(peak)} over baseline ${String(baseline)}`).toBeLessThan(MAX_GROWTH);
  }, 120_000);
});
