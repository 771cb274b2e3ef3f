/**
 * What the proxy benchmarks share (forwarding.ts, gateway-e2e.ts): one upstream (an nginx worker
 * answering from memory, or a node:http server when nginx is missing), nginx as a proxy, node
 * processes serving one side each, autocannon slices on loopback, and a check that every side
 * answers the upstream's body before anything is timed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { fixed, int, log, median, quantile } from './common.js';

/** What the upstream answers to every request: a small JSON body, as an API does. */
export const UPSTREAM_BODY: string = JSON.stringify({
  id: 7,
  name: 'Ada',
  roles: ['admin', 'ops'],
  pad: 'x'.repeat(900),
});
/** The path the peers are asked for (the gateway's is this under `/api`). */
export const UPSTREAM_PATH = '/users/7?fields=name';
/** Connections autocannon keeps open: enough to saturate one proxy process, few enough for loopback. */
export const CONNECTIONS = 64;

/** One autocannon slice's figures (latencies in ms). */
export interface Slice {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly bad: number;
}

/** A side's row of a report: its label, requests/s (median and range), p50, p99, errors + non-2xx. */
export function sideRow(label: string, slices: readonly Slice[]): string[] {
  const of = (key: keyof Slice): number[] => slices.map((s) => s[key]);
  return [
    label,
    int(median(of('rps'))),
    `${int(Math.min(...of('rps')))}–${int(Math.max(...of('rps')))}`,
    fixed(median(of('p50')), 1),
    fixed(median(of('p99')), 1),
    int(of('bad').reduce((a, b) => a + b, 0)),
  ];
}

const repoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The newest modification time of the files under `dir` (0 when there are none). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * Builds the named workspace packages (`router`, `ratelimit`, …) and what they depend on when a
 * build is missing or older than its sources. The sides of ours run from the build: from source,
 * tsx's `keepNames` adds a `__name(fn)` call to every closure made, about 4 % of a proxy's CPU that
 * users of the packages never pay.
 */
export function ensureBuilt(names: readonly string[]): void {
  const stale = names.filter((name) => {
    const dir = join(repoDir, 'packages', name);
    const built = join(dir, 'dist', 'index.js');
    return !existsSync(built) || statSync(built).mtimeMs < newest(join(dir, 'src'));
  });
  if (stale.length === 0) return;
  log(`building ${stale.join(', ')} (their dist/ is missing or older than src/)`);
  const filters = stale.flatMap((name) => ['--filter', `@portcullis/${name}...`]);
  const build = spawnSync('npx', ['-y', 'pnpm@10', ...filters, 'build'], {
    cwd: repoDir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0) throw new Error(`building ${stale.join(', ')} and their dependencies failed`);
}

/** Finds nginx, installing Debian's package when allowed; why not when it cannot. */
export function findNginx(): { bin: string } | { why: string } {
  const which = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' });
  const found = which.stdout.trim().split('\n')[0];
  if (which.status === 0 && found !== undefined && found !== '') return { bin: found };
  if (process.getuid?.() !== 0) return { why: 'nginx is not installed (and this is not root, so not installed here)' };
  log('installing nginx-light from Debian');
  const install = spawnSync(
    'sh',
    [
      '-c',
      'apt-get install -y nginx-light || apt-get install -y nginx || (apt-get update && apt-get install -y nginx)',
    ],
    { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
  );
  if (install.status !== 0) return { why: '`apt-get install -y nginx` failed' };
  return { bin: '/usr/sbin/nginx' };
}

/** nginx's version line (`nginx/1.22.1`), or `unknown`. */
export function nginxVersion(bin: string): string {
  const run = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  return /nginx\/\S+/.exec(`${run.stderr}${run.stdout}`)?.[0] ?? 'unknown';
}

/** A port free now (bound and released), for nginx's config. */
export async function freePort(): Promise<number> {
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

/** Polls until a GET of `path` on `port` answers (a server still starting refuses the connection). */
export async function waitForPort(port: number, path: string = UPSTREAM_PATH): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${String(port)}${path}`);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`nothing listens on port ${String(port)}`);
}

/** Starts one nginx master with one worker on `http` (the http block's body); resolves when it listens. */
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

/**
 * Starts the upstream on `port`: an nginx worker answering {@link UPSTREAM_BODY} from memory to
 * every path, or, without nginx, `script --serve upstream <port>` (which calls {@link serveUpstream}).
 */
export async function startUpstream(
  nginx: { bin: string } | { why: string },
  dir: string,
  port: number,
  script: string,
): Promise<ChildProcess> {
  if ('bin' in nginx) {
    const escaped = UPSTREAM_BODY.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
    return startNginx(
      nginx.bin,
      dir,
      'upstream',
      port,
      `  server { listen 127.0.0.1:${String(port)}; location / { default_type application/json; return 200 '${escaped}'; } }`,
    );
  }
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--serve', 'upstream', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port);
  return child;
}

/** The fallback upstream (no nginx): a node:http server answering {@link UPSTREAM_BODY}. */
export function serveUpstream(port: number): void {
  createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(UPSTREAM_BODY);
  }).listen(port, '127.0.0.1');
}

/** Starts nginx as a reverse proxy (one worker, 128 keep-alive connections) to `upstream` on a free port. */
export async function startNginxProxy(
  bin: string,
  dir: string,
  upstream: number,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = await startNginx(
    bin,
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
  );
  return { child, port };
}

/**
 * Starts `script --serve <side> <upstreamPort>` in a fresh node process and resolves with the port
 * it announces (`listening <port>` on stdout). The process runs without the `@portcullis/source`
 * condition: tsx compiles the script (and the example's files), the packages load from `dist/`.
 */
export async function startNodeSide(
  script: string,
  side: string,
  upstream: number,
  nodeFlags: readonly string[] = [],
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, '--serve', side, String(upstream)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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

/** Announces a side's port to {@link startNodeSide}, and exits normally on SIGINT (so `--cpu-prof` writes). */
export function announce(port: number): void {
  process.once('SIGINT', () => process.exit(0));
  process.stdout.write(`listening ${String(port)}\n`);
}

/** Where and how one side is asked: its port, the path (the gateway's is under `/api`) and headers. */
export interface Target {
  readonly port: number;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** One autocannon slice against `target`; with `rate`, at that many requests/s in all (`overallRate`). */
export async function slice(target: Target, seconds: number, rate?: number): Promise<Slice> {
  const result = await autocannon({
    url: `http://127.0.0.1:${String(target.port)}${target.path}`,
    headers: { ...target.headers },
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    ...(rate === undefined ? {} : { overallRate: rate }),
  });
  return {
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    bad: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * Checks that every side answers 200 with the upstream's body, so that no side is measured
 * answering something else; `extra` may check more of a side's answer (throwing when wrong).
 */
export async function checkAnswers<S extends string>(
  targets: ReadonlyMap<S, Target>,
  extra?: (side: S, response: Response) => void,
): Promise<void> {
  for (const [side, target] of targets) {
    const response = await fetch(`http://127.0.0.1:${String(target.port)}${target.path}`, {
      headers: { ...target.headers },
    });
    const body = await response.text();
    if (response.status !== 200 || body !== UPSTREAM_BODY) {
      throw new Error(`${side} answered ${String(response.status)} with a different body: not a like-for-like run`);
    }
    extra?.(side, response);
  }
}

/**
 * A warm-up slice per side, then `rounds` rounds of one `seconds` slice per side, the order rotated
 * each round so that no side always runs first (or right after the same neighbour). Returns each
 * side's slices (index = round, for ratios paired by round) and the 1-minute load average at the
 * start of each round.
 */
export async function runRounds<S extends string>(
  targets: ReadonlyMap<S, Target>,
  options: { rounds: number; seconds: number; warmupSeconds: number; label: string },
): Promise<{ samples: Map<S, Slice[]>; loads: number[] }> {
  const sides = [...targets.keys()];
  log(`${options.label}: warming up ${sides.join(', ')}`);
  for (const side of sides) await slice(targets.get(side) as Target, options.warmupSeconds);
  const samples = new Map<S, Slice[]>(sides.map((s) => [s, []]));
  const loads: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    loads.push(loadavg()[0] ?? Number.NaN);
    const order = sides.map((_, i) => sides[(i + round) % sides.length] as S);
    for (const side of order) samples.get(side)?.push(await slice(targets.get(side) as Target, options.seconds));
    log(`${options.label}: round ${String(round + 1)}/${String(options.rounds)}`);
  }
  return { samples, loads };
}

/**
 * One slice at a fixed rate, open loop (as wrk2 does): request `i` is due at `i / rate` s from the
 * start and is sent then whether or not earlier ones have been answered, over a keep-alive agent of
 * {@link CONNECTIONS} sockets (requests wait in the agent when every socket is busy); latency runs
 * from when the request was due, so a stall counts against every request it delays. autocannon's
 * `overallRate` is no substitute: each connection sends back to back until it has spent its share
 * of the second, then waits for the next second (bursts at every second's start), and with a rate
 * it adds coordinated-omission samples at a 1 ms expected interval.
 */
export async function pacedSlice(target: Target, seconds: number, rate: number): Promise<Slice> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies = new Float64Array(total);
  let sent = 0;
  let done = 0;
  let bad = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const finish = (intended: number, ok: boolean): void => {
      latencies[done] = performance.now() - intended;
      if (!ok) bad++;
      if (++done === total) resolve();
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const intended = t0 + (sent * 1000) / rate;
        let settled = false;
        const settle = (ok: boolean): void => {
          if (settled) return;
          settled = true;
          finish(intended, ok);
        };
        const req = request(
          { host: '127.0.0.1', port: target.port, path: target.path, headers: { ...target.headers }, agent },
          (res) => {
            res.resume();
            res.once('end', () => {
              settle(res.statusCode === 200);
            });
          },
        );
        req.setTimeout(10_000, () => req.destroy());
        req.once('error', () => {
          settle(false);
        });
        req.end();
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort();
  return { rps: total / elapsed, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), bad };
}
