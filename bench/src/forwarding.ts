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
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { fixed, int, isMain, log, median, paired, quick, sectionMain, table, times, type Section } from './common.js';

/** The proxies measured, in the report's order. */
const SIDES = {
  oursFastify: 'ours: `forward()` in Fastify 5 (`router()` + `forward()` from `@portcullis/router/fastify`)',
  oursNode: 'ours: `createForwardHandler().handle` on `node:http`',
  fastifyHttpProxy: '@fastify/http-proxy 11 in Fastify 5',
  nginx: 'nginx (1 worker, keep-alive upstream)',
} as const;
type Side = keyof typeof SIDES;

/** What the upstream answers to every request: a small JSON body, as an API does. */
const BODY = JSON.stringify({ id: 7, name: 'Ada', roles: ['admin', 'ops'], pad: 'x'.repeat(900) });
const PATH = '/users/7?fields=name';
/** Connections autocannon keeps open: enough to saturate one proxy process, few enough for loopback. */
const CONNECTIONS = 64;
const ROUNDS = quick ? 2 : 10;
const SLICE_S = quick ? 1 : 3;

/** One autocannon slice's figures. */
interface Slice {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly bad: number;
}

/** The workspace packages the proxies of ours load, from their build (`dist/`), as users install them. */
const BUILT = ['core', 'circuit-breaker', 'router'] as const;
const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages');

/** The newest modification time of the files under `dir` (0 when there are none). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * Builds core, circuit-breaker and router when a build is missing or older than its sources. Ours
 * runs from the build: from source, tsx's `keepNames` adds a `__name(fn)` call to every closure made,
 * about 4 % of a proxy's CPU that users of the package never pay.
 */
function ensureBuilt(): void {
  const stale = BUILT.filter((name) => {
    const built = join(packagesDir, name, 'dist', 'index.js');
    return !existsSync(built) || statSync(built).mtimeMs < newest(join(packagesDir, name, 'src'));
  });
  if (stale.length === 0) return;
  log(`forwarding: building ${stale.join(', ')} (their dist/ is missing or older than src/)`);
  const build = spawnSync('npx', ['-y', 'pnpm@10', '--filter', '@portcullis/router...', 'build'], {
    cwd: join(packagesDir, '..'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0) throw new Error('building @portcullis/router and its dependencies failed');
}

/** Finds nginx, installing Debian's package when allowed; undefined (and why) when it cannot. */
function findNginx(): { bin: string } | { why: string } {
  const which = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' });
  const found = which.stdout.trim().split('\n')[0];
  if (which.status === 0 && found !== undefined && found !== '') return { bin: found };
  if (process.getuid?.() !== 0) return { why: 'nginx is not installed (and this is not root, so not installed here)' };
  log('forwarding: installing nginx-light from Debian');
  const install = spawnSync(
    'sh',
    [
      '-c',
      'apt-get install -y nginx-light || apt-get install -y nginx || (apt-get update && apt-get install -y nginx)',
    ],
    {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  );
  if (install.status !== 0) return { why: '`apt-get install -y nginx` failed' };
  return { bin: '/usr/sbin/nginx' };
}

/** A port free now (bound and released), for nginx's config. */
async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

/** Starts one nginx master with one worker on `conf` (the http block's body); resolves when it listens. */
async function startNginx(bin: string, dir: string, name: string, port: number, http: string): Promise<ChildProcess> {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    [
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(dir, `${name}.pid`)};`,
      `error_log ${join(dir, `${name}.error.log`)} warn;`,
      'events { worker_connections 4096; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};`,
      '  keepalive_requests 1000000;',
      http,
      '}',
    ].join('\n'),
  );
  const child = spawn(bin, ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  return child;
}

/** Polls until a GET on `port` answers (a server still starting refuses the connection). */
async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${String(port)}${PATH}`);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`nothing listens on port ${String(port)}`);
}

/** Starts `--serve <side> <upstream>` in a fresh node process; resolves with its port. */
async function startNodeProxy(side: Side, upstream: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@portcullis/source',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--serve',
      side,
      String(upstream),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const line = /^listening (\d+)$/m.exec(out);
      if (line !== null) resolve(Number(line[1]));
    });
    child.on('exit', (code) => {
      reject(new Error(`${side} exited with ${String(code)} before listening`));
    });
  });
  return { child, port };
}

/** One autocannon slice against `port`. */
async function slice(port: number, seconds: number): Promise<Slice> {
  const result = await autocannon({
    url: `http://127.0.0.1:${String(port)}${PATH}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
  });
  return {
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    bad: result.errors + result.timeouts + result.non2xx,
  };
}

/** Checks that a proxy answers the upstream's body, so no side is measured answering something else. */
async function checkProxies(ports: ReadonlyMap<Side, number>): Promise<void> {
  for (const [side, port] of ports) {
    const response = await fetch(`http://127.0.0.1:${String(port)}${PATH}`);
    const body = await response.text();
    if (response.status !== 200 || body !== BODY) {
      throw new Error(`${side} answered ${String(response.status)} with a different body: not a like-for-like run`);
    }
  }
}

async function runForwardingBench(): Promise<Section> {
  ensureBuilt();
  const nginx = findNginx();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-forwarding-'));
  const children: ChildProcess[] = [];
  try {
    // The upstream: nginx from memory when there is one, else a node:http server (noted in the report).
    const upstream = await freePort();
    if ('bin' in nginx) {
      const escaped = BODY.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
      children.push(
        await startNginx(
          nginx.bin,
          dir,
          'upstream',
          upstream,
          `  server { listen 127.0.0.1:${String(upstream)}; location / { default_type application/json; return 200 '${escaped}'; } }`,
        ),
      );
    } else {
      const server = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', 'upstream', String(upstream)],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      children.push(server);
      await waitForPort(upstream);
    }
    const ports = new Map<Side, number>();
    for (const side of ['oursFastify', 'oursNode', 'fastifyHttpProxy'] as const) {
      const proxy = await startNodeProxy(side, upstream);
      children.push(proxy.child);
      ports.set(side, proxy.port);
    }
    if ('bin' in nginx) {
      const port = await freePort();
      children.push(
        await startNginx(
          nginx.bin,
          dir,
          'proxy',
          port,
          [
            `  upstream app { server 127.0.0.1:${String(upstream)}; keepalive 128; }`,
            `  server { listen 127.0.0.1:${String(port)}; location / {`,
            '    proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";',
            '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme;',
            '    proxy_set_header X-Forwarded-Host $host;',
            '  } }',
          ].join('\n'),
        ),
      );
      ports.set('nginx', port);
    }
    await checkProxies(ports);
    const sides = [...ports.keys()];
    log(`forwarding: warming up ${sides.join(', ')}`);
    for (const side of sides) await slice(ports.get(side) as number, quick ? 1 : 2);

    const samples = new Map<Side, Slice[]>(sides.map((s) => [s, []]));
    const loads: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      loads.push(loadavg()[0] ?? Number.NaN);
      // Rotate the order so that no side always runs first (or right after the same neighbour).
      const order = sides.map((_, i) => sides[(i + round) % sides.length] as Side);
      for (const side of order) samples.get(side)?.push(await slice(ports.get(side) as number, SLICE_S));
      log(`forwarding: round ${String(round + 1)}/${String(ROUNDS)}`);
    }
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
  const rows = [...samples.keys()].map((side) => [
    SIDES[side],
    int(median(of(side, 'rps'))),
    `${int(Math.min(...of(side, 'rps')))}–${int(Math.max(...of(side, 'rps')))}`,
    fixed(median(of(side, 'p50')), 1),
    fixed(median(of(side, 'p99')), 1),
    int(of(side, 'bad').reduce((a, b) => a + b, 0)),
  ]);
  const ratioRows: string[][] = [];
  for (const ours of ['oursFastify', 'oursNode'] as const) {
    for (const theirs of ['fastifyHttpProxy', 'nginx'] as const) {
      if (!samples.has(theirs)) continue;
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
  // A normal exit on a signal, so that `--cpu-prof` (profiling one proxy by hand) writes its profile.
  process.once('SIGINT', () => process.exit(0));
  const announce = (port: number): void => {
    process.stdout.write(`listening ${String(port)}\n`);
  };
  if (side === 'upstream') {
    createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(BODY);
    }).listen(upstream, '127.0.0.1');
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
