/**
 * Forwarding: a reverse proxy in front of one upstream, ours vs @fastify/http-proxy vs nginx, with
 * autocannon on loopback. Every proxy runs in its own process; the upstream is an nginx worker that
 * answers from memory (cheap enough that the proxies, not the upstream, set the pace; with a Node
 * upstream every proxy measured the upstream). Rounds alternate the proxies in short slices (the
 * order rotated each round) and the ratios are paired by round: this 2-core machine drifts ±30 %
 * between runs, and a ratio of two figures taken seconds apart is steadier than either figure.
 *
 *     node --conditions=@portcullis/source --import tsx src/forwarding.ts
 *
 * nginx comes from Debian's package: when `nginx` is not on the PATH and this runs as root, the
 * script installs it (`apt-get install -y nginx-light`, or `nginx` where that package is gone); otherwise the nginx rows are skipped.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixed, isMain, paired, quick, sectionMain, table, times, type Section } from './common.js';
import {
  announce,
  checkAnswers,
  CONNECTIONS,
  ensureBuilt,
  findNginx,
  runRounds,
  serveUpstream,
  sideRow,
  startNginxProxy,
  startNodeSide,
  startUpstream,
  freePort,
  UPSTREAM_BODY as BODY,
  UPSTREAM_PATH as PATH,
  type Slice,
  type Target,
} from './loopback.js';

/** The proxies measured, in the report's order. */
const SIDES = {
  oursFastify: 'ours: `forward()` in Fastify 5 (`router()` + `forward()` from `@portcullis/router/fastify`)',
  oursNode: 'ours: `createForwardHandler().handle` on `node:http`',
  fastifyHttpProxy: '@fastify/http-proxy 11 in Fastify 5',
  bareNode: '(reference) the least a Node proxy does: `node:http` + an undici `Pool`, no header handling',
  nginx: 'nginx (1 worker, keep-alive upstream)',
} as const;
type Side = keyof typeof SIDES;

const ROUNDS = quick ? 2 : 10;
const SLICE_S = quick ? 1 : 3;
const script = fileURLToPath(import.meta.url);

async function runForwardingBench(): Promise<Section> {
  ensureBuilt(['router']);
  const nginx = findNginx();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-forwarding-'));
  const children: ChildProcess[] = [];
  try {
    // The upstream: nginx from memory when there is one, else a node:http server (noted in the report).
    const upstream = await freePort();
    children.push(await startUpstream(nginx, dir, upstream, script));
    const targets = new Map<Side, Target>();
    for (const side of ['oursFastify', 'oursNode', 'fastifyHttpProxy', 'bareNode'] as const) {
      const proxy = await startNodeSide(script, side, upstream);
      children.push(proxy.child);
      targets.set(side, { port: proxy.port, path: PATH });
    }
    if ('bin' in nginx) {
      const proxy = await startNginxProxy(nginx.bin, dir, upstream);
      children.push(proxy.child);
      targets.set('nginx', { port: proxy.port, path: PATH });
    }
    await checkAnswers(targets);
    const { samples, loads } = await runRounds(targets, {
      rounds: ROUNDS,
      seconds: SLICE_S,
      warmupSeconds: quick ? 1 : 2,
      label: 'forwarding',
    });
    return report(samples, loads, 'bin' in nginx ? undefined : nginx.why);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(samples: Map<Side, Slice[]>, loads: readonly number[], noNginx: string | undefined): Section {
  const of = (side: Side, key: keyof Slice): number[] => (samples.get(side) ?? []).map((s) => s[key]);
  const rps = new Map<Side, number[]>([...samples.keys()].map((s) => [s, of(s, 'rps')]));
  const p99 = new Map<Side, number[]>([...samples.keys()].map((s) => [s, of(s, 'p99')]));
  const rows = [...samples.keys()].map((side) => sideRow(SIDES[side], samples.get(side) ?? []));
  const ratioRows: string[][] = [];
  for (const ours of ['oursFastify', 'oursNode', 'bareNode'] as const) {
    for (const theirs of ['fastifyHttpProxy', 'nginx', 'bareNode'] as const) {
      if (!samples.has(theirs) || ours === theirs || (ours === 'bareNode' && theirs !== 'nginx')) continue;
      const r = paired(rps, ours, theirs);
      const l = paired(p99, ours, theirs);
      ratioRows.push([SIDES[ours], SIDES[theirs], times(r.median), r.spread, times(l.median)]);
    }
  }
  return {
    title: 'Forwarding: requests per second through one proxy',
    markdown: [
      `GET \`${PATH}\` answered ${String(BODY.length)} bytes of JSON by the upstream (${
        noNginx === undefined ? 'an nginx worker answering from memory' : 'a node:http server'
      }), through each proxy in its own process; autocannon 8 in the bench process, ${String(CONNECTIONS)} ` +
        `connections, no pipelining, ${String(ROUNDS)} rounds of a ${String(SLICE_S)} s slice per proxy (order ` +
        'rotated each round) after a warm-up slice each. Every proxy keeps up to 128 keep-alive connections ' +
        'to the upstream (undici `Pool` defaults of ours and of @fastify/reply-from; nginx `keepalive 128`). ' +
        'Ours runs from its build (`dist/`, as installed; the bench builds it when it is missing or stale) with its defaults (hop-by-hop headers stripped, `X-Forwarded-*` and `Forwarded` set, the ' +
        "route guard's canonical path); nginx sets `X-Forwarded-For/Proto/Host`. Load average (1 min) while " +
        `measuring: ${fixed(Math.min(...loads), 2)}–${fixed(Math.max(...loads), 2)}` +
        (Math.max(...loads) > 1.5
          ? ' — **the machine was busy: the load generator and the proxies shared it with other work**.'
          : '.'),
      ...(noNginx === undefined ? [] : ['', `nginx rows skipped: ${noNginx}.`]),
      '',
      table(['proxy', 'requests/s (median)', 'range', 'p50 ms', 'p99 ms', 'errors + non-2xx'], rows),
      '',
      'Ratios paired by round (ours ÷ theirs; requests/s above 1 means ours serves more; p99 below 1 means ours is quicker):',
      '',
      table(['ours', 'theirs', 'requests/s ratio (median)', 'IQR (all)', 'p99 ratio (median)'], ratioRows),
    ].join('\n'),
  };
}

/** `--serve <side> <upstreamPort>`: one proxy (or the fallback upstream) in this process, until killed. */
async function serve(side: Side | 'upstream', upstream: number): Promise<void> {
  const origin = `http://127.0.0.1:${String(upstream)}`;
  if (side === 'upstream') {
    serveUpstream(upstream);
    return;
  }
  if (side === 'oursNode') {
    const { createForwardHandler, createRouteTable, fixedEndpoints } = await import('@portcullis/router');
    const table = createRouteTable([{ name: 'all', path: '/', prefix: true }]);
    const handler = createForwardHandler({
      targets: { all: { endpoints: fixedEndpoints([origin]) } },
      router: { table },
    });
    const server = createServer(handler.handle).listen(0, '127.0.0.1', () => {
      announce((server.address() as AddressInfo).port);
    });
    return;
  }
  if (side === 'bareNode') {
    // A reference, not a product: what Node's HTTP server and undici cost a proxy with nothing else
    // (no routing, no X-Forwarded-*, hop-by-hop headers only dropped), so that the gap to nginx
    // can be split into what any Node proxy pays and what ours adds.
    const { Pool } = await import('undici');
    const pool = new Pool(origin, { connections: 128 });
    const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
    const server = createServer((req, res) => {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers))
        if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
      pool.request({ method: 'GET', path: req.url ?? '/', headers }).then(
        (answer) => {
          const out: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(answer.headers))
            if (value !== undefined && !hopByHop.has(name)) out[name] = value;
          res.writeHead(answer.statusCode, out);
          answer.body.pipe(res);
        },
        () => {
          res.writeHead(502).end();
        },
      );
    }).listen(0, '127.0.0.1', () => {
      announce((server.address() as AddressInfo).port);
    });
    return;
  }
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  if (side === 'oursFastify') {
    const { createRouteTable, fixedEndpoints } = await import('@portcullis/router');
    const { forward, router } = await import('@portcullis/router/fastify');
    const table = createRouteTable([{ name: 'all', path: '/', prefix: true }]);
    await app.register(router({ table }));
    await app.register(forward({ targets: { all: { endpoints: fixedEndpoints([origin]) } } }));
  } else if (side === 'fastifyHttpProxy') {
    const { default: proxy } = await import('@fastify/http-proxy');
    await app.register(proxy, { upstream: origin });
  } else {
    throw new Error(`--serve: no such side ${side as string}`);
  }
  announce(Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port));
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt !== -1) {
  await serve(process.argv[serveAt + 1] as Side | 'upstream', Number(process.argv[serveAt + 2]));
} else if (isMain(import.meta.url)) {
  await sectionMain(runForwardingBench);
}
