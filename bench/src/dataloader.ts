/**
 * The cost of a `load` side by side: @portcullis/dataloader-guard's loader (with no guard, and with
 * every guard on) against the real `dataloader`, on one workload: a fresh loader per sample (one
 * per request, as both libraries advise), 10,000 distinct keys loaded in one tick with `load`, sent
 * in batches of 100 to a batch function that answers at once, every promise awaited. Memo (DataLoader's
 * `cache`) on and off.
 *
 * Every guard on means: `maxBatchSize` 100, `maxKeys` 20,000, a shared per-request budget of
 * 20,000, `maxConcurrentBatches` 8 with a queue of 1,000, `timeoutMs` 5,000 (one timer per batch),
 * a request `signal`, `isolateFailures`, and a batch listener for events; none of them trips. A
 * last pair adds the shared value cache (a fresh, cold one per sample: every value is stored).
 *
 * Three measures, side by side, for each pair (ours, theirs):
 *
 * - time: each side in a node process of its own (so neither runs code the other made polymorphic,
 *   nor has its garbage collected in the other's slice), the two taking turns in slices of ten
 *   samples back to back (~100 ms), the order flipped every round; the ratio is the median of the
 *   rounds' ratios, with their interquartile range. (Slices of one sample after a forced full GC,
 *   the earlier method, left most of each sample's garbage uncollected inside the timed window and
 *   swung ±40 % with where the scavenges fell);
 * - instructions per load under callgrind: the loader's own work, with a young generation so large
 *   that no collection runs (what collections cost follows the bytes, the next measure), steady on
 *   a busy machine;
 * - bytes allocated per load (heap growth over one sample with a young generation large enough
 *   that no collection runs in it) and promises made per load.
 *
 *     node --expose-gc --conditions=@portcullis/source --import tsx src/dataloader.ts [--quick]
 */
import { createHook } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import {
  createKeyBudget,
  createLoader,
  createLoaderCache,
  type BatchEvent,
  type LoaderOptions,
} from '@portcullis/dataloader-guard';
import DataLoader from 'dataloader';
import {
  callgrindInstructions,
  collectGarbage,
  fixed,
  int,
  isMain,
  log,
  median,
  mulberry32,
  paired,
  quartiles,
  quick,
  runNodeChild,
  startSideProcess,
  sectionMain,
  settle,
  table,
  times,
  type Section,
  type SideProcess,
} from './common.js';

const LOADS = 10_000;
const BATCH = 100;
/** Rounds of the timed pairs: each runs ours once and theirs once. */
const ROUNDS = quick ? 6 : 61;
/**
 * Samples per timed slice (~100 ms): long enough that each slice pays for the collections of its
 * own garbage (a sample allocates ~6 MB; the young generation holds up to 16 MB).
 */
const SLICE_SAMPLES = quick ? 2 : 10;
/**
 * Samples of each case before measuring: the per-batch functions reach optimised code only after
 * about 60 samples (6,000 batches).
 */
const WARM_UP = quick ? 3 : 100;
/** Timed samples load between these many keys (10,000 on average); see {@link sliceSizes}. */
const FEWEST_LOADS = 5_000;
const MOST_LOADS = 15_000;
const KEYS: readonly number[] = Array.from({ length: MOST_LOADS }, (_, i) => i);

/** The backend: answers every key at once. */
function answer(keys: readonly number[]): Promise<number[]> {
  const out = new Array<number>(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = (keys[i] as number) + 1;
  return Promise.resolve(out);
}

/** The common shape of both loaders, as the workload uses them. */
interface AnyLoader {
  load(key: number): Promise<number>;
}

let sink = 0;
function onBatch(e: BatchEvent): void {
  sink += e.size;
}

function guarded(memo: boolean, sharedCache: boolean): () => AnyLoader {
  return () => {
    const controller = new AbortController();
    const options: LoaderOptions<number, number> = {
      cache: memo,
      maxBatchSize: BATCH,
      maxKeys: 2 * LOADS,
      budget: createKeyBudget(2 * LOADS),
      maxConcurrentBatches: 8,
      maxQueuedBatches: 1_000,
      timeoutMs: 5_000,
      signal: controller.signal,
      isolateFailures: true,
      ...(sharedCache ? { sharedCache: createLoaderCache({ ttlMs: 60_000, max: 2 * LOADS }) } : {}),
    };
    const loader = createLoader<number, number>(answer, options);
    loader.events.on('batch', onBatch);
    return loader;
  };
}

const CASES = {
  dlMemo: {
    label: '`dataloader` 2, memo on',
    make: () => new DataLoader<number, number>(answer, { maxBatchSize: BATCH }),
  },
  oursBare: {
    label: '**ours**, no guard (`maxBatchSize` 100), memo on',
    make: () => createLoader<number, number>(answer, { maxBatchSize: BATCH }),
  },
  oursMemo: { label: '**ours, every guard on**, memo on', make: guarded(true, false) },
  dlNoMemo: {
    label: '`dataloader` 2, memo off',
    make: () => new DataLoader<number, number>(answer, { maxBatchSize: BATCH, cache: false }),
  },
  oursNoMemo: { label: '**ours, every guard on**, memo off', make: guarded(false, false) },
  oursShared: { label: '**ours, every guard on + shared TTL cache** (cold), memo on', make: guarded(true, true) },
} as const satisfies Record<string, { label: string; make: () => AnyLoader }>;
type CaseName = keyof typeof CASES;
const NAMES = Object.keys(CASES) as CaseName[];

/** The comparisons: ours ÷ theirs on the same memo setting; the first two carry the target. */
const PAIRS: readonly { ours: CaseName; theirs: CaseName; label: string; target: boolean }[] = [
  { ours: 'oursMemo', theirs: 'dlMemo', label: '**every guard on ÷ dataloader, memo on**', target: true },
  { ours: 'oursNoMemo', theirs: 'dlNoMemo', label: '**every guard on ÷ dataloader, memo off**', target: true },
  { ours: 'oursBare', theirs: 'dlMemo', label: 'no guard ÷ dataloader, memo on', target: false },
  {
    ours: 'oursShared',
    theirs: 'dlMemo',
    label: 'every guard + shared cache (cold) ÷ dataloader, memo on',
    target: false,
  },
];
const TARGET = 1.2;

/** One sample: a fresh loader, `loads` loads (10,000 by default) in one tick, all awaited. */
async function sample(name: CaseName, loads = LOADS): Promise<void> {
  const loader = CASES[name].make();
  const pending = new Array<Promise<number>>(loads);
  for (let i = 0; i < loads; i++) pending[i] = loader.load(KEYS[i] as number);
  const values = await Promise.all(pending);
  sink += values[loads - 1] as number;
}

/**
 * The sizes of a timed slice's samples (requests), drawn from 5,000 to 15,000 keys with a PRNG
 * seeded by the round, so both sides of a round load the same sizes. Not 10,000 every time: a
 * workload that allocates exactly the same each sample falls into step with the young
 * generation's collections, which then always find the heap at the same point of a sample. At
 * exactly 10,000 loads, dataloader's collections fell where little was alive (3.6 % of the young
 * generation survived, against 13 % of ours: 51 vs 150 ns of GC per load), at other sizes the
 * other way round; varied sizes average over where collections fall, as a service's requests do.
 */
function sliceSizes(round: number): number[] {
  const random = mulberry32(0x5eed + round);
  return Array.from({ length: SLICE_SAMPLES }, () =>
    Math.floor(FEWEST_LOADS + random() * (MOST_LOADS - FEWEST_LOADS + 1)),
  );
}

/** One timed slice: the round's samples back to back, as consecutive requests run; ns per load. */
async function slice(name: CaseName, round: number): Promise<number> {
  const sizes = sliceSizes(round);
  let loads = 0;
  const t0 = performance.now();
  for (const size of sizes) {
    await sample(name, size);
    loads += size;
  }
  return ((performance.now() - t0) * 1e6) / loads;
}

/** Checks that every case answers every key with its value, in batches of 100, before measuring. */
async function checkAgreement(): Promise<void> {
  for (const name of NAMES) {
    const calls: number[] = [];
    const loader = name.startsWith('dl')
      ? new DataLoader<number, number>(
          (keys) => {
            calls.push(keys.length);
            return answer(keys);
          },
          { maxBatchSize: BATCH, cache: name === 'dlMemo' },
        )
      : createLoader<number, number>(
          (keys) => {
            calls.push(keys.length);
            return answer(keys);
          },
          { maxBatchSize: BATCH },
        );
    const values = await Promise.all(KEYS.slice(0, LOADS).map((k) => loader.load(k)));
    if (values.some((v, i) => v !== i + 1)) throw new Error(`${name}: wrong values`);
    if (calls.length !== LOADS / BATCH || calls.some((n) => n !== BATCH))
      throw new Error(`${name}: batches ${String(calls)}`);
    const made = CASES[name].make();
    const one = await made.load(41);
    if (one !== 42) throw new Error(`${name}: load(41) = ${String(one)}`);
  }
}

/** A timed pair: ns per load of each slice, by round, and the load average around it. */
interface PairResult {
  readonly ours: number[];
  readonly theirs: number[];
  readonly load: [number, number];
}

/**
 * `--side <case>`: one side of a timed pair, in a process of its own (so neither side runs code
 * the other made polymorphic, and neither's garbage is collected in the other's slice). Checks
 * and warms up, says it is ready, then runs a slice for each message and answers its ns per load.
 */
async function sideMode(name: CaseName): Promise<void> {
  await checkAgreement();
  for (let i = 0; i < WARM_UP; i++) await sample(name);
  process.on('message', (round: number) => {
    void slice(name, round).then((ns) => process.send?.(ns));
  });
  process.send?.('ready');
}

/**
 * Times `ours` against `theirs`, each in its side process, in rounds of one slice each: ours first
 * in even rounds and theirs first in odd ones; the other side idles meanwhile.
 */
async function timePair(ours: CaseName, theirs: CaseName): Promise<PairResult> {
  const started = await Promise.allSettled(
    [ours, theirs].map((name) => startSideProcess({ script: 'dataloader.ts', args: ['--side', name] })),
  );
  const sides = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const [a, b] = sides;
  const result: PairResult = { ours: [], theirs: [], load: [loadavg()[0] ?? 0, 0] };
  try {
    if (a === undefined || b === undefined) throw new Error(`dataloader: a side of ${ours}/${theirs} did not start`);

    for (let round = 0; round < ROUNDS; round++) {
      const run = async (side: SideProcess): Promise<number> => Number(await side.run(round));
      if (round % 2 === 0) {
        result.ours.push(await run(a));
        result.theirs.push(await run(b));
      } else {
        result.theirs.push(await run(b));
        result.ours.push(await run(a));
      }
    }
  } finally {
    await Promise.all(sides.map((side) => side.close()));
  }
  result.load[1] = loadavg()[0] ?? 0;
  return result;
}

/** What one case allocates per load: bytes, and promises made. */
interface Allocation {
  readonly bytes: number;
  readonly promises: number;
}

/** Spaces where objects are allocated (not code, which a re-optimisation during a sample would add). */
const OBJECT_SPACES = new Set(['new_space', 'old_space', 'new_large_object_space', 'large_object_space']);

function heapUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) if (OBJECT_SPACES.has(space.space_name)) used += space.space_used_size;
  return used;
}

/**
 * `--alloc <case>` (node with a 64 MB young generation, so one sample, ~7 MB, never triggers a
 * collection; only this case runs in the process): the heap's growth over one sample ÷ the loads
 * (median of 15: `dataloader`'s samples now and then allocate 10–15 % more, so a median of 7
 * could land on one; a sample during which a GC ran anyway is dropped), then the promises one sample
 * makes (async_hooks, on only for that).
 */
async function allocMode(name: CaseName): Promise<Allocation> {
  await checkAgreement();
  let collections = 0;
  const observer = new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  for (let i = 0; i < WARM_UP; i++) await sample(name);
  const bytes: number[] = [];
  for (let i = 0; i < 15; i++) {
    collectGarbage();
    await settle(2);
    const seen = collections;
    const before = heapUsed();
    await sample(name);
    const after = heapUsed();
    await settle(2);
    if (collections === seen) bytes.push((after - before) / LOADS);
  }
  observer.disconnect();
  let promises = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE') promises++;
    },
  });
  hook.enable();
  await sample(name);
  hook.disable();
  return { bytes: median(bytes), promises: promises / LOADS };
}

export async function runDataloaderBench(): Promise<Section> {
  await checkAgreement();
  log(`dataloader: every case answers ${String(LOADS)} keys in batches of ${String(BATCH)}`);
  const timed = new Map<(typeof PAIRS)[number], PairResult>();
  for (const pair of PAIRS) {
    log(`dataloader: timing ${pair.ours} against ${pair.theirs} (${String(ROUNDS)} rounds, own process)`);
    timed.set(pair, await timePair(pair.ours, pair.theirs));
  }
  log('dataloader: bytes and promises per load (a process per case)');
  const allocation = {} as Record<CaseName, Allocation>;
  for (const name of NAMES) {
    const line = await runNodeChild({
      script: 'dataloader.ts',
      args: ['--alloc', name],
      exposeGc: true,
      nodeFlags: ['--min-semi-space-size=64', '--max-semi-space-size=64'],
    });
    allocation[name] = JSON.parse(line) as Allocation;
  }
  const instructions = await callgrindRows();
  const perLoad = (name: CaseName): number => instructions.find((r) => r.name === name && !r.mixed)?.perLoad ?? NaN;
  const loads = [...timed.values()].flatMap((r) => r.load);

  const headline = table(
    [
      'ours ÷ theirs',
      'time (median of paired rounds)',
      'time: interquartile (and full) range',
      'instructions',
      'bytes allocated per load (ours vs theirs)',
    ],
    PAIRS.map((pair) => {
      const result = timed.get(pair) as PairResult;
      const p = paired(
        new Map([
          ['ours', result.ours],
          ['theirs', result.theirs],
        ]),
        'ours',
        'theirs',
      );
      const mark = pair.target ? (p.median <= TARGET ? ' ✅' : ' ❌') : '';
      const bytes = `${fixed(allocation[pair.ours].bytes, 0)} vs ${fixed(allocation[pair.theirs].bytes, 0)}`;
      const target = pair.target ? ` (target ≤ ${String(TARGET)}×)` : '';
      return [
        `${pair.label}${target}`,
        `${times(p.median)}${mark}`,
        p.spread,
        times(perLoad(pair.ours) / perLoad(pair.theirs)),
        bytes,
      ];
    }),
  );
  const perCase = table(
    ['pair (own process)', 'case', 'ns / load: median', 'interquartile', 'min–max'],
    PAIRS.flatMap((pair) => {
      const result = timed.get(pair) as PairResult;
      return (['ours', 'theirs'] as const).map((side) => {
        const [min, q1, med, q3, max] = quartiles(result[side]);
        return [
          `${pair.ours} / ${pair.theirs}`,
          CASES[pair[side]].label,
          fixed(med, 0),
          `${fixed(q1, 0)}–${fixed(q3, 0)}`,
          `${fixed(min, 0)}–${fixed(max, 0)}`,
        ];
      });
    }),
  );
  const allocTable = table(
    ['case', 'bytes allocated / load', 'promises made / load'],
    NAMES.map((name) => [CASES[name].label, fixed(allocation[name].bytes, 0), fixed(allocation[name].promises, 2)]),
  );
  log(`dataloader: sink ${String(sink % 7)}`);
  return {
    title: `DataLoader: cost per load (${String(LOADS)} loads, batches of ${String(BATCH)})`,
    markdown: [
      `Each sample: a fresh loader (one per request), ${String(LOADS)} distinct keys loaded with \`load\` in one tick, ` +
        `sent in batches of ${String(BATCH)} to a batch function that answers at once, every promise awaited; ` +
        'it covers making the loader, the loads, the batches and the answers. Before measuring, every case ' +
        `must answer every key with its value in ${String(LOADS / BATCH)} batches of ${String(BATCH)}. ` +
        'Every guard on: `maxBatchSize` 100, `maxKeys` 20,000 and a shared budget of 20,000, `maxConcurrentBatches` 8 ' +
        '(queue 1,000), `timeoutMs` 5,000, a request `signal`, `isolateFailures`, a `batch` event listener; none trips.',
      '',
      'Time: each side of a pair runs in a node process of its own (only its case: neither runs code that other ' +
        "cases made polymorphic, and neither's garbage is collected during the other's slice), the two taking turns: " +
        `${String(ROUNDS)} rounds of one slice each, a slice being ${String(SLICE_SAMPLES)} samples back to back ` +
        `(~100 ms, as consecutive requests run: each slice pays for collecting its own garbage) of ${String(FEWEST_LOADS)} ` +
        `to ${String(MOST_LOADS)} loads each (seeded by the round: both sides load the same sizes; not ${String(LOADS)} ` +
        "every time, which falls into step with the young generation's collections and makes the GC cost luck), ours first in even " +
        "rounds and theirs first in odd ones; the ratio is the median of the rounds' ratios. " +
        `Load average (1 min) while timing: ${fixed(Math.min(...loads), 2)}–${fixed(Math.max(...loads), 2)}` +
        (Math.max(...loads) > 1.5
          ? ' — **above 1.5: the machine was busy, times are noisy; instructions and bytes are the steady measures**.'
          : '.'),
      '',
      '### Ours ÷ `dataloader` (above 1: ours costs more)',
      '',
      headline,
      '',
      '### Time per load, by pair',
      '',
      perCase,
      '',
      '### Instructions per load (callgrind)',
      '',
      callgrindSection(instructions),
      '',
      '### Allocation per load',
      '',
      'Heap growth over one sample ÷ its loads, node with a 64 MB young generation (`--min-semi-space-size=64 ' +
        '--max-semi-space-size=64`) so that no collection runs during the sample, each case in its own process ' +
        "(median of 15 samples, a full GC before each); promises counted with an async_hooks `init` hook. Both include the workload's own share: " +
        'the array of 10,000 promises, `Promise.all` (one more promise per load) and the answers.',
      '',
      allocTable,
      '',
    ].join('\n'),
  };
}

const CALLGRIND_CASES: readonly CaseName[] = ['dlMemo', 'oursBare', 'oursMemo', 'dlNoMemo', 'oursNoMemo', 'oursShared'];
/**
 * Samples of the two callgrind runs: the first 60 warm up (the functions that run once per batch
 * reach optimised code only after about 60 samples of 100 batches: until then a count includes
 * baseline code and the compiler), the next 10 are counted. The count barely moves between runs
 * (a few hundred instructions in a billion), so 100,000 loads are plenty.
 */
const CALLGRIND_SAMPLES = [60, 70] as const;
/**
 * A 1 GB young generation: no collection runs in a callgrind run (under 0.8 GB allocated), so the
 * count is the loads' own work. Counting the collections instead made two runs of one case differ
 * by up to 25 % (when a major GC falls in one run and not the other); `--predictable` keeps V8's
 * other heuristics fixed too.
 */
const CALLGRIND_FLAGS = ['--predictable', '--min-semi-space-size=1024', '--max-semi-space-size=1024'];
/** Cases measured a second time after every other case ran in the same process (call sites made polymorphic). */
const MIXED_CASES: readonly CaseName[] = ['dlMemo', 'oursMemo'];

interface CallgrindRow {
  readonly name: CaseName;
  readonly mixed: boolean;
  readonly perLoad: number;
}

/**
 * This script bundled into one JavaScript file (libraries included, `@portcullis/source` condition,
 * esbuild through tsup as the published build is made), so the callgrind runs need no tsx: its
 * loader thread made two runs of one case differ by 30 million instructions, against a few hundred
 * for the bundle. Returns the bundle's URL.
 */
async function bundleForCallgrind(): Promise<string> {
  const { build } = await import('tsup');
  const outDir = mkdtempSync(join(tmpdir(), 'dataloader-bench-'));
  await build({
    entry: { dataloader: fileURLToPath(import.meta.url) },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    outDir,
    outExtension: () => ({ js: '.mjs' }),
    // Everything but tsup itself, imported only to make this bundle.
    noExternal: [/^(?!tsup$)/],
    external: ['tsup'],
    splitting: false,
    dts: false,
    sourcemap: false,
    silent: true,
    config: false,
    esbuildOptions(options) {
      options.conditions = ['@portcullis/source'];
    },
  });
  return pathToFileURL(join(outDir, 'dataloader.mjs')).href;
}

/** Instructions (valgrind's `Collected`) of one run of `--callgrind name[+mixed] samples`; NaN without valgrind. */
function instructions(bundle: string, name: CaseName, samples: number, mixed: boolean): number {
  return callgrindInstructions(bundle, mixed ? `${name}+mixed` : name, samples, CALLGRIND_FLAGS);
}

/** Instructions per load of every case (and the mixed ones), or none in quick mode or without valgrind. */
async function callgrindRows(): Promise<CallgrindRow[]> {
  if (quick || spawnSync('valgrind', ['--version']).status !== 0) return [];
  const bundle = await bundleForCallgrind();
  const [few, many] = CALLGRIND_SAMPLES;
  const rows: CallgrindRow[] = [];
  const runs = [
    ...CALLGRIND_CASES.map((name) => ({ name, mixed: false })),
    ...MIXED_CASES.map((name) => ({ name, mixed: true })),
  ];
  try {
    for (const { name, mixed } of runs) {
      log(`dataloader callgrind: ${name}${mixed ? ' (after every other case)' : ''}`);
      const extra = instructions(bundle, name, many, mixed) - instructions(bundle, name, few, mixed);
      rows.push({ name, mixed, perLoad: extra / ((many - few) * LOADS) });
    }
  } finally {
    rmSync(dirname(fileURLToPath(bundle)), { recursive: true, force: true });
  }
  return rows;
}

/** The callgrind table, or why there is none. */
function callgrindSection(rows: readonly CallgrindRow[]): string {
  if (quick) return 'Skipped in quick mode.';
  if (rows.length === 0) return 'Skipped: valgrind is not installed.';
  const [few, many] = CALLGRIND_SAMPLES;
  const base = (name: CaseName, mixed: boolean): number => {
    const theirs = name === 'dlNoMemo' || name === 'oursNoMemo' ? 'dlNoMemo' : 'dlMemo';
    return rows.find((r) => r.name === theirs && r.mixed === mixed)?.perLoad ?? NaN;
  };
  return [
    `\`valgrind --tool=callgrind node --single-threaded ${CALLGRIND_FLAGS.join(' ')} … src/dataloader.ts ` +
      `--callgrind <case> <samples>\`, run with ${String(few)} and ${String(many)} samples of ${String(LOADS)} loads; ` +
      "the young generation is so large that no collection runs, so this counts the loads' own work (what " +
      'collecting their garbage costs follows the bytes allocated, below; counting the collections made two runs ' +
      'of one case differ by up to 25 %). Instructions per load = the difference in instructions ÷ the ' +
      'difference in loads (start-up, the check and JIT warm-up cancel out). "After every other case" runs all the other cases in the same ' +
      'process first, as a service with several loader configurations would: the call sites they share are ' +
      'then polymorphic.',
    '',
    table(
      ['case', 'instructions / load', '÷ dataloader (same memo setting, same process setup)'],
      rows.map((r) => [
        `${CASES[r.name].label}${r.mixed ? ', after every other case' : ''}`,
        int(r.perLoad),
        times(r.perLoad / base(r.name, r.mixed)),
      ]),
    ),
  ].join('\n');
}

/**
 * `--callgrind <case>[+mixed] <samples>`: runs one case for that many samples (after every other
 * case, with `+mixed`) and exits, for `valgrind --tool=callgrind`; two runs with different counts
 * give instructions per load.
 */
async function callgrindMode(at: number): Promise<void> {
  const [name, mixed] = (process.argv[at + 1] ?? '').split('+') as [CaseName, string | undefined];
  if (!(name in CASES)) throw new Error(`--callgrind: unknown case ${name}`);
  const samples = Number(process.argv[at + 2]);
  await checkAgreement();
  if (mixed !== undefined)
    for (const other of NAMES) if (other !== name) for (let i = 0; i < 5; i++) await sample(other);
  for (let i = 0; i < samples; i++) await sample(name);
  process.stdout.write(`${name} ${String(samples)} ${String(sink % 7)}\n`);
}

/** The child modes (`--side`, `--alloc`, `--callgrind`); false when run as the section. */
async function childMode(): Promise<boolean> {
  const argv = process.argv;
  const side = argv.indexOf('--side');
  if (side !== -1) {
    await sideMode(argv[side + 1] as CaseName);
    return true;
  }
  const alloc = argv.indexOf('--alloc');
  if (alloc !== -1) {
    process.stdout.write(`${JSON.stringify(await allocMode(argv[alloc + 1] as CaseName))}\n`);
    return true;
  }
  const callgrind = argv.indexOf('--callgrind');
  if (callgrind !== -1) {
    await callgrindMode(callgrind);
    return true;
  }
  return false;
}

if (isMain(import.meta.url) && !(await childMode())) await sectionMain(runDataloaderBench);
