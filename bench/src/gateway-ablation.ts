/**
 * Ablation of the example gateway: what each stage of its per-request chain costs. One gateway
 * process per variant, each with one stage turned off (`ABLATE=<stage>` in its environment; `all`:
 * every one), slices of 64 connections rotated by round, and per variant: the gateway process's CPU
 * time per request (from /proc, less sensitive to a shared machine than requests/s) and requests/s,
 * both paired by round with the full gateway's. `base` (with `BASE=<another checkout>`) runs that
 * checkout's gateway unchanged: a before/after pair.
 *
 * The switches are not in the example: apply them for the run, then take them out again.
 *
 *     git apply bench/src/gateway-ablation.patch
 *     cd bench && node --import tsx src/gateway-ablation.ts [rounds] [stage,stage,...]
 *     git apply -R bench/src/gateway-ablation.patch
 *
 * Stages: metrics (the onResponse histogram and /metrics), health (the /health plugin), cors, auth
 * (a hook that sets the enterprise identity instead), usage (/api/quota and its own limiter),
 * limits (the plan's rate limit and quotas), router (every request to `users`), abort (no
 * AbortController for the client leaving), resilience (no retry, timeout nor fallback: one attempt).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { argv } from 'node:process';
import { fileURLToPath } from 'node:url';
import { fixed, int, median, paired, table } from './common.js';
import { readFileSync } from 'node:fs';
import {
  ensureBuilt,
  findNginx,
  freePort,
  slice,
  startNodeSide,
  startUpstream,
  UPSTREAM_PATH,
  type Slice,
  type Target,
} from './loopback.js';

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields =
    readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
      .split(') ')[1]
      ?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const VARIANTS = (argv[3] ?? 'metrics,health,cors,auth,usage,limits,router,abort,resilience,all').split(',');
const ALL = 'metrics,health,cors,auth,usage,limits,router,abort,resilience';
const rounds = Number(argv[2] ?? 4);
const gatewayScript = fileURLToPath(new URL('./gateway-e2e.ts', import.meta.url));
ensureBuilt(['core', 'ratelimit', 'circuit-breaker', 'router', 'health', 'jwt-cache', 'telemetry']);
if (!readFileSync(new URL('../../examples/gateway/src/app.ts', import.meta.url), 'utf8').includes("env['ABLATE']")) {
  throw new Error('the ablation switches are not applied: git apply bench/src/gateway-ablation.patch (see the header)');
}
const nginx = findNginx();
const dir = mkdtempSync(join(tmpdir(), 'portcullis-ablation-'));
const children: ChildProcess[] = [];
try {
  const upstream = await freePort();
  children.push(await startUpstream(nginx, dir, upstream, gatewayScript));
  const targets = new Map<string, Target>();
  const pids = new Map<string, number>();
  for (const variant of ['full', ...VARIANTS]) {
    process.env['ABLATE'] = variant === 'full' ? '' : variant === 'all' ? ALL : variant;
    // `base`: the same starter from another checkout (BASE=/path/to/checkout), for before/after pairs.
    const script = variant === 'base' ? join(process.env['BASE'] ?? '', 'bench/src/gateway-e2e.ts') : gatewayScript;
    if (variant === 'base') process.env['ABLATE'] = '';
    const side = await startNodeSide(script, 'gateway', upstream);
    children.push(side.child);
    pids.set(variant, side.child.pid ?? 0);
    targets.set(variant, {
      port: side.port,
      path: `/api${UPSTREAM_PATH}`,
      headers: { 'x-api-key': 'demo-enterprise' },
    });
  }
  const loads = [loadavg()[0] ?? 0];
  const sides = [...targets.keys()];
  for (const side of sides) await slice(targets.get(side) as Target, 2);
  const samples = new Map<string, Slice[]>(sides.map((s) => [s, []]));
  const cpu = new Map<string, number[]>(sides.map((s) => [s, []]));
  for (let round = 0; round < rounds; round++) {
    for (const side of sides.map((_, i) => sides[(i + round) % sides.length] as string)) {
      const pid = pids.get(side) ?? 0;
      const before = cpuSeconds(pid);
      const result = await slice(targets.get(side) as Target, 2);
      samples.get(side)?.push(result);
      cpu.get(side)?.push((1e6 * (cpuSeconds(pid) - before)) / (result.rps * 2));
    }
    process.stderr.write(`round ${String(round + 1)}\n`);
  }
  loads.push(loadavg()[0] ?? 0);
  const rps = new Map([...samples].map(([k, v]) => [k, v.map((s) => s.rps)]));
  const rows = [...samples.keys()].map((variant) => {
    const r = paired(rps, variant, 'full');
    const full = median(rps.get('full') ?? []);
    const mine = median(rps.get(variant) ?? []);
    // µs per request saved by turning the stage off, from the medians.
    const saved = variant === 'full' ? '' : fixed(1e6 / full - 1e6 / mine, 1);
    const c = paired(cpu, variant, 'full');
    return [
      variant,
      fixed(median(cpu.get(variant) ?? []), 1),
      fixed(c.median, 3),
      c.spread,
      int(mine),
      fixed(r.median, 3),
      r.spread,
      saved,
      fixed(median((samples.get(variant) ?? []).map((s) => s.p99)), 1),
      String((samples.get(variant) ?? []).reduce((a, s) => a + s.bad, 0)),
    ];
  });
  process.stdout.write(`load ${loads.map((l) => fixed(l, 2)).join(' → ')}\n`);
  process.stdout.write(
    table(
      [
        'off',
        'CPU µs/req',
        'CPU ÷ full',
        'spread',
        'rps (median)',
        '÷ full (paired median)',
        'spread',
        'µs/req saved',
        'p99 ms',
        'bad',
      ],
      rows,
    ) + '\n',
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
  rmSync(dir, { recursive: true, force: true });
}
