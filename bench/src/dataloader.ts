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
 * last row adds the shared value cache (a fresh, cold one per sample: every value is stored).
 *
 * Rounds run every case once, in an order rotated (and reversed every other round), with a GC before
 * each sample when node runs with --expose-gc; ratios are paired by round (the median of the rounds'
 * ratios), so drift of the machine between rounds cancels out. Instructions per load under callgrind
 * when valgrind is installed.
 *
 *     node --expose-gc --conditions=@portcullis/source --import tsx src/dataloader.ts [--quick]
 */
import { spawnSync } from 'node:child_process';
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
  isMain,
  log,
  paired,
  quartiles,
  quick,
  sectionMain,
  settle,
  table,
  times,
  type Section,
} from './common.js';

const LOADS = 10_000;
const BATCH = 100;
const ROUNDS = quick ? 4 : 41;
const KEYS: readonly number[] = Array.from({ length: LOADS }, (_, i) => i);

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

/** One sample: a fresh loader, 10,000 loads in one tick, all awaited; ns per load. */
async function sample(name: CaseName): Promise<number> {
  collectGarbage();
  const t0 = performance.now();
  const loader = CASES[name].make();
  const loads = new Array<Promise<number>>(LOADS);
  for (let i = 0; i < LOADS; i++) loads[i] = loader.load(KEYS[i] as number);
  const values = await Promise.all(loads);
  const elapsed = performance.now() - t0;
  sink += values[LOADS - 1] as number;
  return (elapsed * 1e6) / LOADS;
}

/** Checks that every case answers every key with its value, in batches of 100, before timing. */
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
    const values = await Promise.all(KEYS.map((k) => loader.load(k)));
    if (values.some((v, i) => v !== i + 1)) throw new Error(`${name}: wrong values`);
    if (calls.length !== LOADS / BATCH || calls.some((n) => n !== BATCH))
      throw new Error(`${name}: batches ${String(calls)}`);
    const made = CASES[name].make();
    const one = await made.load(41);
    if (one !== 42) throw new Error(`${name}: load(41) = ${String(one)}`);
  }
}

async function measure(): Promise<Map<CaseName, number[]>> {
  const samples = new Map<CaseName, number[]>(NAMES.map((n) => [n, []]));
  for (const name of NAMES) for (let i = 0; i < 5; i++) await sample(name); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const order = NAMES.map((_, i) => NAMES[(i + round) % NAMES.length] as CaseName);
    if (round % 2 === 1) order.reverse();
    for (const name of order) samples.get(name)?.push(await sample(name));
    if (round % 10 === 9) {
      log(`dataloader: round ${String(round + 1)}/${String(ROUNDS)}`);
      await settle(5);
    }
  }
  return samples;
}

const TARGET = 1.2;

export async function runDataloaderBench(): Promise<Section> {
  await checkAgreement();
  log(`dataloader: every case answers ${String(LOADS)} keys in batches of ${String(BATCH)}`);
  if (!collectGarbage()) log('dataloader: run node with --expose-gc for a GC before each sample');
  const samples = await measure();
  const perCase = table(
    ['case', 'ns / load (median)', 'rounds: min–max'],
    NAMES.map((name) => {
      const [min, , med, , max] = quartiles(samples.get(name) ?? []);
      return [CASES[name].label, fixed(med, 0), `${fixed(min, 0)}–${fixed(max, 0)}`];
    }),
  );
  const ratioRow = (label: string, a: CaseName, b: CaseName, target?: number): string[] => {
    const p = paired(samples, a, b);
    const mark = target === undefined ? '' : p.median <= target ? ' ✅' : ' ❌';
    return [label, `${times(p.median)}${mark}`, p.spread];
  };
  const ratios = table(
    ['ratio (time per load, paired by round)', 'median', 'interquartile (and full) range of the rounds'],
    [
      ratioRow(`**every guard on ÷ dataloader, memo on** (target ≤ ${String(TARGET)}×)`, 'oursMemo', 'dlMemo', TARGET),
      ratioRow(
        `**every guard on ÷ dataloader, memo off** (target ≤ ${String(TARGET)}×)`,
        'oursNoMemo',
        'dlNoMemo',
        TARGET,
      ),
      ratioRow('no guard ÷ dataloader, memo on', 'oursBare', 'dlMemo'),
      ratioRow('every guard + shared cache (cold) ÷ dataloader, memo on', 'oursShared', 'dlMemo'),
    ],
  );
  log(`dataloader: sink ${String(sink % 7)}`);
  return {
    title: `DataLoader: time per load (${String(LOADS)} loads, batches of ${String(BATCH)})`,
    markdown: [
      `Each sample: a fresh loader (one per request), ${String(LOADS)} distinct keys loaded with \`load\` in one tick, ` +
        `sent in batches of ${String(BATCH)} to a batch function that answers at once, every promise awaited; ` +
        'the time covers making the loader, the loads, the batches and the answers. Before timing, every case ' +
        `must answer every key with its value in ${String(LOADS / BATCH)} batches of ${String(BATCH)}. ` +
        `${String(ROUNDS)} rounds, every case once per round in a rotated order (reversed every other round), ` +
        'a GC before each sample; ratios are the median of per-round ratios. Every guard on: `maxBatchSize` 100, ' +
        '`maxKeys` 20,000 and a shared budget of 20,000, `maxConcurrentBatches` 8 (queue 1,000), `timeoutMs` ' +
        '5,000, a request `signal`, `isolateFailures`, a `batch` event listener; none trips.',
      '',
      '### Ratios (above 1: ours takes longer)',
      '',
      ratios,
      '',
      '### Time per load',
      '',
      perCase,
      '',
      '### Instructions per load (callgrind)',
      '',
      callgrindSection(),
      '',
    ].join('\n'),
  };
}

const CALLGRIND_CASES: readonly CaseName[] = ['dlMemo', 'oursBare', 'oursMemo', 'dlNoMemo', 'oursNoMemo'];
const CALLGRIND_SAMPLES = [5, 25] as const;
/** The baseline: the GC before each sample, without the loads (subtracted from every case). */
const GC_ONLY = 'gcOnly';

/** Instructions (valgrind's `Collected`) of one run of `--callgrind name samples`; NaN without valgrind. */
function instructions(name: CaseName | typeof GC_ONLY, samples: number): number {
  return callgrindInstructions(import.meta.url, name, samples, ['--expose-gc']);
}

/** Instructions per load under callgrind (steadier than time on a shared machine), or why not. */
function callgrindSection(): string {
  if (quick) return 'Skipped in quick mode.';
  if (spawnSync('valgrind', ['--version']).status !== 0) return 'Skipped: valgrind is not installed.';
  const [few, many] = CALLGRIND_SAMPLES;
  log('dataloader callgrind: the GC baseline');
  const gcPerSample = instructions(GC_ONLY, many) - instructions(GC_ONLY, few);
  const rows = CALLGRIND_CASES.map((name) => {
    log(`dataloader callgrind: ${name}`);
    const extra = instructions(name, many) - instructions(name, few) - gcPerSample;
    return { name, perLoad: extra / ((many - few) * LOADS) };
  });
  const base = (name: CaseName): number => rows.find((r) => r.name === name)?.perLoad ?? Number.NaN;
  return [
    `\`valgrind --tool=callgrind node --single-threaded --expose-gc … src/dataloader.ts --callgrind <case> <samples>\`, ` +
      `run with ${String(few)} and ${String(many)} samples of ${String(LOADS)} loads, a full GC before each sample ` +
      '(one thread, so no concurrent GC or compiler work varies between runs); instructions per load = the ' +
      'difference in instructions, less the same difference for the GCs alone, ÷ the difference in loads ' +
      '(start-up, the check and JIT warm-up cancel out).',
    '',
    table(
      ['case', 'instructions / load', '÷ dataloader (same memo setting)'],
      rows.map((r) => [
        CASES[r.name].label,
        fixed(r.perLoad, 0),
        times(r.perLoad / base(r.name === 'dlNoMemo' || r.name === 'oursNoMemo' ? 'dlNoMemo' : 'dlMemo')),
      ]),
    ),
  ].join('\n');
}

/**
 * `--callgrind <case> <samples>`: runs one case for that many samples and exits, for
 * `valgrind --tool=callgrind`; two runs with different counts give instructions per load.
 */
async function callgrindMode(): Promise<boolean> {
  const at = process.argv.indexOf('--callgrind');
  if (at === -1) return false;
  const name = process.argv[at + 1] as CaseName | typeof GC_ONLY;
  const samples = Number(process.argv[at + 2]);
  await checkAgreement();
  for (let i = 0; i < samples; i++) {
    if (name === GC_ONLY) collectGarbage();
    else await sample(name);
  }
  process.stdout.write(`${name} ${String(samples)} ${String(sink % 7)}\n`);
  return true;
}

if (isMain(import.meta.url) && !(await callgrindMode())) await sectionMain(runDataloaderBench);
