import { fork, spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { argv } from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One part of the report: a heading and its markdown body. */
export interface Section {
  readonly title: string;
  readonly markdown: string;
}

/** True when the module whose `import.meta.url` is given is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = argv[1];
  return script !== undefined && pathToFileURL(script).href === moduleUrl;
}

/** `--quick` (or BENCH_QUICK=1) shrinks every run: a smoke test of the harness, not numbers to quote. */
export const quick: boolean = argv.includes('--quick') || process.env['BENCH_QUICK'] === '1';

/** Mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A Zipf(s) sampler over ranks 0..n-1 (rank 0 the most frequent): P(k) ∝ 1 / (k + 1)^s, by inverse
 * CDF (binary search over the precomputed cumulative weights).
 */
export function zipfSampler(n: number, exponent: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** exponent;
    cdf[k] = sum;
  }
  for (let k = 0; k < n; k++) cdf[k] = (cdf[k] as number) / sum;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Options of {@link zipfKeys}. */
export interface ZipfKeysOptions {
  /** Distinct keys (ranks). */
  distinctKeys: number;
  /** Length of the precomputed sequence. */
  draws: number;
  /** Zipf exponent s. */
  exponent: number;
  seed: number;
  /** Prepended to every key, e.g. `user:`. */
  prefix: string;
}

/**
 * A precomputed sequence of keys drawn from a Zipf distribution. Ranks are mapped to key names
 * through a seeded permutation, so the hottest keys are not also the shortest or first-inserted.
 * Every key string is built once, so both sides of a comparison receive the very same strings.
 */
export function zipfKeys(options: ZipfKeysOptions): string[] {
  const random = mulberry32(options.seed);
  const ids = Array.from({ length: options.distinctKeys }, (_, i) => i);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = ids[i] as number;
    ids[i] = ids[j] as number;
    ids[j] = t;
  }
  const names = ids.map((id) => `${options.prefix}${id}`);
  const sample = zipfSampler(options.distinctKeys, options.exponent, random);
  const keys = new Array<string>(options.draws);
  for (let i = 0; i < options.draws; i++) keys[i] = names[sample()] as string;
  return keys;
}

/** Distinct keys and the share of draws taken by the hottest key and the hottest 1%. */
export function describeKeys(keys: readonly string[]): { distinct: number; top1: number; top1pct: number } {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const sorted = [...counts.values()].sort((a, b) => b - a);
  const top = Math.max(1, Math.floor(sorted.length / 100));
  let topSum = 0;
  for (let i = 0; i < top; i++) topSum += sorted[i] as number;
  return { distinct: counts.size, top1: (sorted[0] ?? 0) / keys.length, top1pct: topSum / keys.length };
}

/** The q-quantile (0..1) of already sorted values, nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >>> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** 1234567.8 → "1,234,568". */
export function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : String(value);
}

/** A number with a fixed count of decimals. */
export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

/** 0.1234 → "12.3%". */
export function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

/** A ratio as "3.42×". */
export function times(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** A markdown table; numeric-looking columns are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const numeric = headers.map((_, c) =>
    rows.every((r) => /^[-\d.,×%~≈ —–]*$|^n\/a$/.test((r[c] ?? '').replace(/[✅❌]/gu, '').trim())),
  );
  const head = `| ${headers.join(' | ')} |`;
  const rule = `| ${headers.map((_, c) => (numeric[c] === true ? '---:' : '---')).join(' | ')} |`;
  return [head, rule, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The machine and runtime, for the report header. */
export function environment(): { node: string; cpu: string; cores: number; platform: string; load: string } {
  const list = cpus();
  return {
    node: process.version,
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    platform: `${process.platform} ${process.arch}`,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(', '),
  };
}

/** Progress notes go to stderr, so stdout carries only the report. */
export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Lets timers and pending I/O run (and a little garbage settle) between measured phases. */
export async function settle(ms = 20): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Options of {@link runNodeChild}. */
export interface ChildOptions {
  /** Script path relative to bench/src, e.g. `ratelimit-redis.ts`. */
  script: string;
  /** Arguments after the script. */
  args?: readonly string[];
  /** Start node with `--expose-gc`. */
  exposeGc?: boolean;
  /** More node flags (V8's heap sizes, say). */
  nodeFlags?: readonly string[];
}

/**
 * Runs a bench script in a fresh node process (same conditions and tsx loader as the `bench`
 * script), its stderr passed through, and resolves with the last line it printed on stdout.
 * A fresh process per part means no part inherits another's heap, timers or JIT state.
 */
export function runNodeChild(options: ChildOptions): Promise<string> {
  const src = dirname(fileURLToPath(import.meta.url));
  const args = [
    ...(options.exposeGc === true ? ['--expose-gc'] : []),
    ...(options.nodeFlags ?? []),
    '--conditions=@portcullis/source',
    '--import',
    'tsx',
    join(src, options.script),
    ...(options.args ?? []),
    ...(quick ? ['--quick'] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: join(src, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out.trim().split('\n').at(-1) ?? '');
      else
        reject(new Error(`${options.script} ${(options.args ?? []).join(' ')} exited with ${String(code ?? signal)}`));
    });
  });
}

/** A measured side kept in a process of its own: ask it to run, get what it measured. */
export interface SideProcess {
  /** Sends `request` to the side and resolves with its answer (one at a time). */
  run(request: unknown): Promise<unknown>;
  /** Stops the side's process. */
  close(): Promise<void>;
}

/**
 * Starts a bench script as a side process (same conditions and tsx loader as {@link runNodeChild}),
 * talking over IPC: it sends one message when ready (after its check and warm-up), then answers
 * each request with one message. Two sides timed in turn this way each keep their own heap: the
 * garbage one side leaves is collected in its own process, never in the other's slice.
 */
export async function startSideProcess(options: ChildOptions): Promise<SideProcess> {
  const src = dirname(fileURLToPath(import.meta.url));
  const child = fork(join(src, options.script), [...(options.args ?? []), ...(quick ? ['--quick'] : [])], {
    cwd: join(src, '..'),
    execArgv: [
      ...(options.exposeGc === true ? ['--expose-gc'] : []),
      ...(options.nodeFlags ?? []),
      '--conditions=@portcullis/source',
      '--import',
      'tsx',
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const name = `${options.script} ${(options.args ?? []).join(' ')}`;
  const next = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => {
        child.off('message', onMessage);
        reject(new Error(`${name} exited with ${String(code)}`));
      };
      const onMessage = (message: unknown): void => {
        child.off('exit', onExit);
        resolve(message);
      };
      child.once('message', onMessage);
      child.once('exit', onExit);
    });
  await next();
  return {
    run: (request) => {
      const answer = next();
      child.send(request as object);
      return answer;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

/** Runs a section in its own process (`<script> --json`) and returns what it reported. */
export async function runSectionChild(script: string, exposeGc = false): Promise<Section> {
  return JSON.parse(await runNodeChild({ script, args: ['--json'], exposeGc })) as Section;
}

/**
 * The entry point of a section script run directly: with `--json` prints the section as one JSON
 * line (for run-all), otherwise as markdown.
 */
export async function sectionMain(run: () => Promise<Section>): Promise<void> {
  const section = await run();
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(section)}\n`);
  else process.stdout.write(`## ${section.title}\n\n${section.markdown}\n`);
}

/** Collects garbage when node runs with --expose-gc (twice: the first pass can leave finalisation work). */
export function collectGarbage(): boolean {
  if (typeof globalThis.gc !== 'function') return false;
  globalThis.gc();
  globalThis.gc();
  return true;
}

/** Minimum, first quartile, median, third quartile and maximum of `values` (nearest rank). */
export function quartiles(values: readonly number[]): [number, number, number, number, number] {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))] as number;
  return [at(0), at(0.25), at(0.5), at(0.75), at(1)];
}

/**
 * `a ÷ b` paired by round (sample `i` of `a` over sample `i` of `b`, taken in the same round): the
 * median of the ratios, and their interquartile range and range as text.
 */
export function paired<K>(samples: Map<K, number[]>, a: K, b: K): { median: number; spread: string } {
  const xs = samples.get(a) ?? [];
  const ys = samples.get(b) ?? [];
  const ratios = xs.map((x, i) => x / (ys[i] ?? Number.NaN));
  const [min, q1, , q3, max] = quartiles(ratios);
  return { median: median(ratios), spread: `${times(q1)}–${times(q3)} (all ${times(min)}–${times(max)})` };
}

/**
 * Instructions (valgrind's `Collected`) of one run of the bench script at `scriptUrl` with
 * `--callgrind <name> <count>`, V8 single-threaded (no background compiler or GC threads whose share
 * would vary) plus `nodeFlags`; NaN without valgrind. A `.js`/`.mjs` script (a bundle of a bench script) runs
 * with plain node. The script runs once first without valgrind:
 * tsx compiles the sources on a first run and caches them, and a compile counted in one run of a
 * pair and not the other swamped the difference (it even came out below 0).
 */
export function callgrindInstructions(
  scriptUrl: string,
  name: string,
  count: number,
  nodeFlags: readonly string[] = [],
): number {
  const script = fileURLToPath(scriptUrl);
  const cwd = join(dirname(script), '..');
  // A script already in JavaScript (a bundle) runs without tsx, whose loader thread alone made two
  // runs of one script differ by ~1 % of their instructions.
  const loader = /\.[cm]?js$/.test(script) ? [] : ['--conditions=@portcullis/source', '--import', 'tsx'];
  const args = ['--single-threaded', ...nodeFlags, ...loader, script];
  spawnSync(process.execPath, [...args, '--callgrind', name, '1'], { cwd });
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      ...args,
      '--callgrind',
      name,
      String(count),
    ],
    { cwd, encoding: 'utf8' },
  );
  const collected = /Collected : (\d+)/.exec(run.stderr);
  return collected === null ? Number.NaN : Number(collected[1]);
}
