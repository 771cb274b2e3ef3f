/**
 * End-to-end load: the example gateway (examples/gateway's `buildGateway`: API-key authentication,
 * per-tier rate limit and day/month quotas in memory, route match, forward through its upstream
 * pool with retry, timeout and fallback cache) against @fastify/http-proxy 11 and nginx, which
 * only forward, all three in front of one upstream (an nginx worker answering from memory), with
 * autocannon on loopback. Each side runs in its own process. Phase 1: rounds of one slice per side
 * (order rotated), requests/s and latency at the peak, ratios paired by round. Phase 2: every side
 * at half the gateway's measured peak rate, open loop (`pacedSlice`), p50 and p99.
 *
 *     node --conditions=@portcullis/source --import tsx src/gateway-e2e.ts            # the section
 *     node --import tsx src/gateway-e2e.ts --profile     # the gateway under --cpu-prof: its top costs
 *     PROF_KEEP=1 node --import tsx src/gateway-e2e.ts --profile   # and keep the .cpuprofile
 *
 * Both Node sides (the gateway and @fastify/http-proxy) run with {@link NODE_SIDE_FLAGS}, a young
 * generation of 32 MB semi-spaces (larger than V8 picks by itself); `--node-defaults` runs them
 * without.
 *
 * `BENCH_LOOP_DELAY=1` in the environment makes the gateway process report its event-loop delay, GC
 * pauses, heap and CPU share of every second on stderr (to tell a stall of its own from a preemption).
 *
 * The gateway process runs `node --import tsx` on this file without the `@portcullis/source`
 * condition: the packages load from their build (`dist/`, built here when missing or stale), the
 * example's own files (it has no build) are compiled by tsx.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { argv } from 'node:process';
import { fileURLToPath } from 'node:url';
import { fixed, int, isMain, log, median, paired, quick, sectionMain, table, times, type Section } from './common.js';
import {
  announce,
  checkAnswers,
  CONNECTIONS,
  ensureBuilt,
  findNginx,
  freePort,
  nginxVersion,
  pacedSlice,
  runRounds,
  sideRow,
  serveUpstream,
  slice,
  startNginxProxy,
  startNodeSide,
  startUpstream,
  UPSTREAM_BODY,
  UPSTREAM_PATH,
  type Slice,
  type Target,
} from './loopback.js';

/** The sides measured, in the report's order. */
const SIDES = {
  gateway: 'example gateway (auth + rate limit and quotas + route + forward)',
  fastifyHttpProxy: '@fastify/http-proxy 11 in Fastify 5 (forward only)',
  nginx: 'nginx (1 worker, keep-alive upstream; forward only)',
} as const;
type Side = keyof typeof SIDES;

/** The packages the example gateway imports, run from their build. */
const PACKAGES = ['core', 'ratelimit', 'circuit-breaker', 'router', 'health', 'jwt-cache', 'telemetry'] as const;
/** The demo's enterprise key (examples/gateway/src/plans.ts); every side is sent it. */
const HEADERS = { 'x-api-key': 'demo-enterprise' } as const;
/** The gateway's bench plan: the enterprise tier's shape, a per-second bucket that load does not empty. */
const BENCH_BUCKET = { capacity: 100_000, refillPerSecond: 100_000 } as const;
const ROUNDS = quick ? 2 : 8;
const SLICE_S = quick ? 1 : 3;
/** Phase 2: rounds of one slice per side at half the gateway's peak rate. */
const HALF_ROUNDS = quick ? 1 : 3;
const HALF_S = quick ? 2 : 5;
const PROFILE_S = 10;
const script = fileURLToPath(import.meta.url);
const forwardingScript = fileURLToPath(new URL('./forwarding.ts', import.meta.url));

/** The three sides, started; `close` stops them and removes the temporary directory. */
interface Started {
  readonly targets: Map<Side, Target>;
  readonly gateway: ChildProcess;
  readonly nginx: string | undefined;
  readonly noNginx: string | undefined;
  close(): Promise<void>;
}

/**
 * V8 flags of both Node sides: semi-spaces of 32 MB. A proxy allocates per request and keeps little,
 * so a larger young generation means fewer scavenges, each as short (it copies the survivors only):
 * the usual tuning of a Node server under load, given to both Node sides alike. Idle runs of
 * 2026-12-02 without → with: the gateway 8,861 → 12,931 requests/s, @fastify/http-proxy 14,490 →
 * 17,519 (bench/results and docs/example-gateway.md).
 */
const NODE_SIDE_FLAGS: readonly string[] = argv.includes('--node-defaults') ? [] : ['--max-semi-space-size=32'];

async function startSides(gatewayFlags: readonly string[] = []): Promise<Started> {
  ensureBuilt(PACKAGES);
  const nginx = findNginx();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-gateway-e2e-'));
  const children: ChildProcess[] = [];
  const close = async (): Promise<void> => {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const upstream = await freePort();
    children.push(await startUpstream(nginx, dir, upstream, script));
    const gateway = await startNodeSide(script, 'gateway', upstream, [...NODE_SIDE_FLAGS, ...gatewayFlags]);
    children.push(gateway.child);
    const targets = new Map<Side, Target>([
      ['gateway', { port: gateway.port, path: `/api${UPSTREAM_PATH}`, headers: HEADERS }],
    ]);
    // @fastify/http-proxy as the forwarding report runs it (its `--serve fastifyHttpProxy`).
    const fhp = await startNodeSide(forwardingScript, 'fastifyHttpProxy', upstream, NODE_SIDE_FLAGS);
    children.push(fhp.child);
    targets.set('fastifyHttpProxy', { port: fhp.port, path: UPSTREAM_PATH, headers: HEADERS });
    if ('bin' in nginx) {
      const proxy = await startNginxProxy(nginx.bin, dir, upstream);
      children.push(proxy.child);
      targets.set('nginx', { port: proxy.port, path: UPSTREAM_PATH, headers: HEADERS });
    }
    await checkSides(targets);
    return {
      targets,
      gateway: gateway.child,
      nginx: 'bin' in nginx ? nginxVersion(nginx.bin) : undefined,
      noNginx: 'bin' in nginx ? undefined : nginx.why,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Every side answers the upstream's body with 200; the gateway's answer carries its rate-limit
 * headers (the limiter decided) and, without the key, the gateway refuses with 401 (auth is on).
 */
async function checkSides(targets: ReadonlyMap<Side, Target>): Promise<void> {
  await checkAnswers(targets, (side, response) => {
    if (side === 'gateway' && response.headers.get('x-ratelimit-remaining') === null) {
      throw new Error('the gateway answered without x-ratelimit-remaining: its limiter did not run');
    }
  });
  const gateway = targets.get('gateway') as Target;
  const anonymous = await fetch(`http://127.0.0.1:${String(gateway.port)}${gateway.path}`);
  await anonymous.arrayBuffer();
  if (anonymous.status !== 401) {
    throw new Error(`the gateway answered ${String(anonymous.status)} without an API key: authentication is off`);
  }
}

async function runGatewayBench(): Promise<Section> {
  const started = await startSides();
  try {
    const { samples, loads } = await runRounds(started.targets, {
      rounds: ROUNDS,
      seconds: SLICE_S,
      warmupSeconds: quick ? 1 : 2,
      label: 'gateway',
    });
    const peak = median((samples.get('gateway') ?? []).map((s) => s.rps));
    const rate = Math.max(1, Math.floor(peak / 2));
    // Phase 2: every side at that fixed rate (open loop), in rotated order.
    const half = new Map<Side, Slice[]>([...started.targets.keys()].map((side) => [side, []]));
    const sides = [...half.keys()];
    for (let round = 0; round < HALF_ROUNDS; round++) {
      loads.push(loadavg()[0] ?? Number.NaN);
      for (const side of sides.map((_, i) => sides[(i + round) % sides.length] as Side)) {
        half.get(side)?.push(await pacedSlice(started.targets.get(side) as Target, HALF_S, rate));
      }
      log(`gateway: round ${String(round + 1)}/${String(HALF_ROUNDS)} at ${String(rate)} requests/s`);
    }
    return report({ samples, half, rate, loads, nginx: started.nginx, noNginx: started.noNginx });
  } finally {
    await started.close();
  }
}

interface Results {
  readonly samples: Map<Side, Slice[]>;
  readonly half: Map<Side, Slice[]>;
  readonly rate: number;
  readonly loads: readonly number[];
  readonly nginx: string | undefined;
  readonly noNginx: string | undefined;
}

function report({ samples, half, rate, loads, nginx, noNginx }: Results): Section {
  const of = (side: Side, key: keyof Slice): number[] => (samples.get(side) ?? []).map((s) => s[key]);
  const sides = [...samples.keys()];
  const rps = new Map<Side, number[]>(sides.map((s) => [s, of(s, 'rps')]));
  const p99 = new Map<Side, number[]>(sides.map((s) => [s, of(s, 'p99')]));
  const rows = sides.map((side) => sideRow(SIDES[side], samples.get(side) ?? []));
  const targets = { nginx: 0.5, fastifyHttpProxy: 0.8 } as const;
  const ratioRows: string[][] = [];
  for (const theirs of ['nginx', 'fastifyHttpProxy'] as const) {
    if (!samples.has(theirs)) continue;
    const r = paired(rps, 'gateway', theirs);
    const l = paired(p99, 'gateway', theirs);
    ratioRows.push([
      SIDES[theirs],
      times(r.median),
      r.spread,
      times(l.median),
      `≥ ${times(targets[theirs])}: ${r.median >= targets[theirs] ? 'met' : '**not met**'}`,
    ]);
  }
  const halfOf = (side: Side, key: keyof Slice): number[] => (half.get(side) ?? []).map((s) => s[key]);
  const halfP99 = median(halfOf('gateway', 'p99'));
  const halfRows = sides.map((side) => [
    SIDES[side],
    int(median(halfOf(side, 'rps'))),
    fixed(median(halfOf(side, 'p50')), 2),
    fixed(median(halfOf(side, 'p99')), 2),
    `${fixed(Math.min(...halfOf(side, 'p99')), 2)}–${fixed(Math.max(...halfOf(side, 'p99')), 2)}`,
    int(halfOf(side, 'bad').reduce((a, b) => a + b, 0)),
  ]);
  return {
    title: 'The example gateway end to end: requests per second and latency',
    markdown: [
      `GET \`/api${UPSTREAM_PATH}\` through the gateway, \`${UPSTREAM_PATH}\` through the others, all with ` +
        `\`x-api-key: ${HEADERS['x-api-key']}\`; the upstream (${
          noNginx === undefined ? `an nginx worker answering from memory, ${nginx ?? ''}` : 'a node:http server'
        }) answers ${String(UPSTREAM_BODY.length)} bytes of JSON to every path. Each side runs in its own ` +
        `process; autocannon 8 in the bench process, ${String(CONNECTIONS)} connections, no pipelining, ` +
        `${String(ROUNDS)} rounds of a ${String(SLICE_S)} s slice per side (order rotated each round) after a ` +
        'warm-up slice each.',
      '',
      'The gateway is `buildGateway` of examples/gateway with every part on the request path: the API key ' +
        'authenticated, the rate limit and the day and month quotas decided in memory (`MemoryStore`, one ' +
        'atomic decision over three dimensions), the route matched (`/api/users`), the request forwarded to ' +
        'the `users` pool (least-request over one instance, health checks every 2 s, outlier detection, a ' +
        'breaker per instance) through retry, timeout and the fallback cache, rate-limit headers on the ' +
        "answer. Every service's pool points at the one upstream. **The plan differs from the demo's**: the " +
        "demo's enterprise tier allows bursts of 500 and 200 requests/s, which load empties in a fraction of " +
        'a second (then every answer is a 429); the bench tier has the same three dimensions with a bucket of ' +
        `${int(BENCH_BUCKET.capacity)} refilled at ${int(BENCH_BUCKET.refillPerSecond)}/s and the demo's daily ` +
        '(10M) and monthly (100M) quotas, so every request is still checked and charged, and none is refused. ' +
        'Before timing, every side is checked to answer the upstream body with 200, the gateway to send ' +
        '`X-RateLimit-Remaining` and to refuse a request without the key (401). The gateway process runs ' +
        '`node --import tsx`: the packages from their build (`dist/`), the example (which has no build) ' +
        'compiled by tsx, whose `keepNames` adds a `__name()` call per closure the example makes (a few % at most). ' +
        (NODE_SIDE_FLAGS.length === 0
          ? "Both Node sides run with V8's default heap settings (`--node-defaults`)."
          : `Both Node sides run with \`${NODE_SIDE_FLAGS.join(' ')}\` (a larger young generation: fewer scavenges), the same for both.`),
      '',
      `Load average (1 min) while measuring: ${fixed(Math.min(...loads), 2)}–${fixed(Math.max(...loads), 2)}` +
        (Math.max(...loads) > 1.5
          ? ' — **the machine was busy: other work shared its 2 cores with the load generator and the sides**; ' +
            'read the ratios paired by round rather than the absolute figures.'
          : '.'),
      ...(noNginx === undefined ? [] : ['', `nginx rows skipped: ${noNginx}.`]),
      '',
      '### At the peak (64 connections, as fast as each side answers)',
      '',
      table(['side', 'requests/s (median)', 'range', 'p50 ms', 'p99 ms', 'errors + non-2xx'], rows),
      '',
      'Ratios paired by round (gateway ÷ theirs; requests/s above 1 means the gateway serves more, p99 below 1 ' +
        'means it answers sooner):',
      '',
      table(['theirs', 'requests/s ratio (median)', 'IQR (all)', 'p99 ratio (median)', 'target'], ratioRows),
      '',
      `### At half the gateway's peak: ${int(rate)} requests/s, open loop`,
      '',
      `${String(HALF_ROUNDS)} rounds of a ${String(HALF_S)} s slice per side at ${int(rate)} requests/s: request i ` +
        'is sent at i ÷ rate whether or not earlier ones were answered, over 64 keep-alive sockets (node:http ' +
        'in the bench process), and its latency runs from when it was due, so a stall counts against every ' +
        "request it delays (wrk2's method). autocannon's `overallRate` is not used: each connection sends back " +
        "to back until it has spent its share of the second, then waits for the next, so the 'fixed rate' is a " +
        'burst at every second.',
      '',
      table(['side', 'requests/s', 'p50 ms', 'p99 ms (median)', 'p99 range', 'errors + non-2xx'], halfRows),
      '',
      `The gateway's p99 at half its peak: ${fixed(halfP99, 2)} ms (target under 10 ms: ${
        halfP99 < 10 ? 'met' : '**not met**'
      }).`,
    ].join('\n'),
  };
}

/** `--profile`: the gateway under `--cpu-prof` for one slice at the peak; prints its top self times. */
async function profileGateway(): Promise<void> {
  const profiles = mkdtempSync(join(tmpdir(), 'portcullis-gateway-prof-'));
  const started = await startSides(['--cpu-prof', '--cpu-prof-dir', profiles]);
  try {
    const target = started.targets.get('gateway') as Target;
    await slice(target, 2);
    const measured = await slice(target, PROFILE_S);
    log(`profile: ${int(measured.rps)} requests/s under --cpu-prof`);
    const exited = new Promise((resolve) => started.gateway.once('exit', resolve));
    started.gateway.kill('SIGINT');
    await exited;
  } finally {
    await started.close();
  }
  const file = readdirSync(profiles).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('the gateway wrote no profile');
  process.stdout.write(summarizeProfile(readFileSync(join(profiles, file), 'utf8')));
  if (process.env['PROF_KEEP'] === undefined) rmSync(profiles, { recursive: true, force: true });
  else log(`profile kept in ${profiles}`);
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
}

/**
 * A V8 `.cpuprofile` summarized as two markdown tables: self time by where the code lives (a
 * package, a file of the repository, node's internals, or V8's own entries such as the garbage
 * collector) and the top 20 functions by self time.
 */
export function summarizeProfile(json: string): string {
  const profile = JSON.parse(json) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number): void => {
    map.set(key, (map.get(key) ?? 0) + us);
  };
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    if (frame === undefined) return;
    const file = frame.url === '' ? '' : shorten(frame.url);
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    add(byFunction, file === '' ? name : `${name} ${file}:${String(frame.lineNumber + 1)}`, delta);
    add(byPlace, place(file, name), delta);
  });
  const top = (map: Map<string, number>, n: number): string[][] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => [`\`${key}\``, fixed((100 * us) / total, 1)]);
  return [
    table(['where (self time)', '% of samples'], top(byPlace, 20)),
    '',
    table(['function (self time)', '% of samples'], top(byFunction, 20)),
    '',
  ].join('\n');
}

/** Where a frame's code lives: its package, its repository file, node's internals, or V8's entry. */
function place(file: string, name: string): string {
  if (file === '') return name.startsWith('(') ? name : `native: ${name}`;
  if (file.startsWith('node:')) return 'node: internals';
  if (file.startsWith('packages/') || file.startsWith('examples/')) return file;
  const parts = file.split('/');
  return (file.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

function shorten(url: string): string {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) return path.slice(nm + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  return path.startsWith('/') ? relative(join(fileURLToPath(import.meta.url), '..', '..', '..'), path) : path;
}

/** `--serve gateway <upstreamPort>`: the example gateway in this process, until killed. */
async function serveGateway(upstream: number): Promise<void> {
  const { buildGateway } = await import('../../examples/gateway/src/app.js');
  const { startDemoIssuer, DEMO_AUDIENCE } = await import('../../examples/gateway/src/issuer.js');
  const { createServicePools } = await import('../../examples/gateway/src/pools.js');
  const { SERVICES } = await import('../../examples/gateway/src/services.js');
  const { createJwtVerifier } = await import('@portcullis/jwt-cache');
  const { createRateLimiter, fixedWindow, MemoryStore, tokenBucket } = await import('@portcullis/ratelimit');
  const origin = `http://127.0.0.1:${String(upstream)}`;
  const pools = createServicePools(
    Object.fromEntries(SERVICES.map((service) => [service, [origin]])) as Record<(typeof SERVICES)[number], string[]>,
  );
  const issuer = await startDemoIssuer();
  const zone = 'UTC';
  const app = await buildGateway({
    // The demo's enterprise tier (plans.ts) with a per-second bucket that load does not empty.
    limiter: createRateLimiter({
      store: new MemoryStore({ maxKeys: 100_000 }),
      tiers: {
        enterprise: {
          perSecond: tokenBucket(BENCH_BUCKET),
          daily: fixedWindow({ limit: 10_000_000, calendar: 'day', timeZone: zone }),
          monthly: fixedWindow({ limit: 100_000_000, calendar: 'month', timeZone: zone }),
        },
      },
      failMode: 'open',
    }),
    verifier: createJwtVerifier({ issuers: { [issuer.url]: { jwks: issuer.jwksUrl, audience: DEMO_AUDIENCE } } }),
    issuer,
    pools,
  });
  announce(Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port));
  if (process.env['BENCH_LOOP_DELAY'] !== undefined) await reportLoopDelay();
}

/** `BENCH_LOOP_DELAY=1`: the gateway's event-loop delay (max and p99 of each second) on stderr, to find stalls. */
async function reportLoopDelay(): Promise<void> {
  const { monitorEventLoopDelay, PerformanceObserver } = await import('node:perf_hooks');
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // Garbage collection in the same second: its total and longest pause, to tell a GC stall from others.
  let gcMs = 0;
  let gcMax = 0;
  let majors = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      gcMax = Math.max(gcMax, entry.duration);
      // perf_hooks.constants.NODE_PERFORMANCE_GC_MAJOR
      if ((entry as { detail?: { kind?: number } }).detail?.kind === 4) majors++;
    }
  }).observe({ entryTypes: ['gc'] });
  const cpu = { last: process.cpuUsage() };
  setInterval(() => {
    const used = process.cpuUsage(cpu.last);
    cpu.last = process.cpuUsage();
    if (delay.count > 0) {
      process.stderr.write(
        `loop delay: max ${fixed(delay.max / 1e6, 1)} ms, p99 ${fixed(delay.percentile(99) / 1e6, 1)} ms; ` +
          `GC ${fixed(gcMs, 1)} ms (longest ${fixed(gcMax, 1)}, ${String(majors)} major); ` +
          `heap ${fixed(process.memoryUsage().heapUsed / 2 ** 20, 0)} MiB; CPU ${fixed((used.user + used.system) / 1e4, 0)} %\n`,
      );
    }
    delay.reset();
    gcMs = 0;
    gcMax = 0;
    majors = 0;
  }, 1_000).unref();
}

const serveAt = argv.indexOf('--serve');
if (serveAt !== -1) {
  const upstream = Number(argv[serveAt + 2]);
  if (argv[serveAt + 1] === 'upstream') serveUpstream(upstream);
  else await serveGateway(upstream);
} else if (argv.includes('--profile')) {
  await profileGateway();
} else if (isMain(import.meta.url)) {
  await sectionMain(runGatewayBench);
}
