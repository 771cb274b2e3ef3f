/**
 * In-process limiters side by side: @portcullis/ratelimit (MemoryStore; fixedWindow and
 * tokenBucket) vs rate-limiter-flexible's RateLimiterMemory vs express-rate-limit's MemoryStore
 * (its store API directly; running the middleware would measure express). Same process, same
 * precomputed Zipf key sequence, same number of decisions per sample, rounds rotated.
 */
import {
  createDecisionBuffer,
  createRateLimiter,
  fixedWindow,
  MemoryStore,
  tokenBucket,
  type Decision,
  type RateLimiter,
} from '@portcullis/ratelimit';
import { MemoryStore as ExpressMemoryStore, type Options as ExpressOptions } from 'express-rate-limit';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import {
  describeKeys,
  fixed,
  int,
  isMain,
  log,
  median,
  paired,
  percent,
  quick,
  sectionMain,
  settle,
  table,
  times,
  zipfKeys,
  type Section,
} from './common.js';

const LIMIT = 100;
const WINDOW_MS = 60_000;
const DISTINCT_KEYS = 100_000;
const DRAWS = 1_000_000;
const ZIPF_EXPONENT = 1;
const BATCH = 1_000;
const CHUNK = quick ? 20_000 : 200_000;
const ROUNDS = quick ? 2 : 9;

type Lib = 'ours' | 'rlf' | 'erl';
type Mode = 'sync' | 'into' | 'await' | 'batch';

interface MemoryCase {
  readonly name: string;
  readonly lib: Lib;
  readonly mode: Mode;
  /** Decides `count` keys starting at `from` (wrapping); returns how many were allowed. */
  readonly run: (keys: readonly string[], from: number, count: number) => Promise<number>;
  readonly close?: () => void;
  cursor: number;
  readonly rates: number[];
  allowed: number;
  decided: number;
}

function ourLimiter(algorithm: 'fixedWindow' | 'tokenBucket'): RateLimiter {
  return createRateLimiter({
    store: new MemoryStore({ maxKeys: 200_000 }),
    limits: {
      perMinute:
        algorithm === 'fixedWindow'
          ? fixedWindow({ limit: LIMIT, windowMs: WINDOW_MS })
          : tokenBucket({ capacity: LIMIT, refillPerSecond: (LIMIT * 1000) / WINDOW_MS }),
    },
  });
}

function ours(algorithm: 'fixedWindow' | 'tokenBucket'): () => (key: string) => Decision | Promise<Decision> {
  return () => {
    const limiter = ourLimiter(algorithm);
    return (key) => limiter.limit(key);
  };
}

function makeCases(): MemoryCase[] {
  const cases: MemoryCase[] = [];
  const add = (c: Pick<MemoryCase, 'name' | 'lib' | 'mode' | 'run' | 'close'>): void => {
    cases.push({ ...c, cursor: 0, rates: [], allowed: 0, decided: 0 });
  };

  for (const algorithm of ['fixedWindow', 'tokenBucket'] as const) {
    const name = `ours ${algorithm}`;
    {
      const limit = ours(algorithm)();
      add({
        name,
        lib: 'ours',
        mode: 'sync',
        // What a caller on the memory store writes: await only when handed a promise.
        run: async (keys, from, count) => {
          let allowed = 0;
          for (let i = 0; i < count; i++) {
            const result = limit(keys[(from + i) % keys.length] as string);
            const decision = result instanceof Promise ? await result : result;
            if (decision.allowed) allowed++;
          }
          return allowed;
        },
      });
    }
    {
      const limiter = ourLimiter(algorithm);
      const buffer = createDecisionBuffer();
      add({
        name,
        lib: 'ours',
        mode: 'into',
        // A caller that reads the decision and drops it: one buffer, rewritten by every call.
        run: async (keys, from, count) => {
          let allowed = 0;
          for (let i = 0; i < count; i++) {
            const result = limiter.limitInto(buffer, keys[(from + i) % keys.length] as string);
            const decision = result instanceof Promise ? await result : result;
            if (decision.allowed) allowed++;
          }
          return allowed;
        },
      });
    }
    {
      const limit = ours(algorithm)();
      add({
        name,
        lib: 'ours',
        mode: 'await',
        run: async (keys, from, count) => {
          let allowed = 0;
          for (let i = 0; i < count; i++) {
            const decision = await limit(keys[(from + i) % keys.length] as string);
            if (decision.allowed) allowed++;
          }
          return allowed;
        },
      });
    }
    {
      const limit = ours(algorithm)();
      add({
        name,
        lib: 'ours',
        mode: 'batch',
        run: async (keys, from, count) => {
          let allowed = 0;
          for (let done = 0; done < count; done += BATCH) {
            const batch: (Decision | Promise<Decision>)[] = [];
            for (let i = done; i < Math.min(count, done + BATCH); i++)
              batch.push(limit(keys[(from + i) % keys.length] as string));
            // The same shape as the other libraries' batch: whatever limit() returned, awaited together.
            // eslint-disable-next-line @typescript-eslint/await-thenable -- on the memory store these are plain values, on purpose
            for (const decision of await Promise.all(batch)) if (decision.allowed) allowed++;
          }
          return allowed;
        },
      });
    }
  }

  const rlf = (): RateLimiterMemory => new RateLimiterMemory({ points: LIMIT, duration: WINDOW_MS / 1000 });
  {
    const limiter = rlf();
    add({
      name: 'rate-limiter-flexible RateLimiterMemory',
      lib: 'rlf',
      mode: 'await',
      run: async (keys, from, count) => {
        let allowed = 0;
        for (let i = 0; i < count; i++) {
          try {
            await limiter.consume(keys[(from + i) % keys.length] as string);
            allowed++;
          } catch (error) {
            // Limited: it rejects with a RateLimiterRes. A real Error is a failure of the bench.
            if (error instanceof Error) throw error;
          }
        }
        return allowed;
      },
    });
  }
  {
    const limiter = rlf();
    add({
      name: 'rate-limiter-flexible RateLimiterMemory',
      lib: 'rlf',
      mode: 'batch',
      run: async (keys, from, count) => {
        let allowed = 0;
        for (let done = 0; done < count; done += BATCH) {
          const batch: Promise<unknown>[] = [];
          for (let i = done; i < Math.min(count, done + BATCH); i++)
            batch.push(limiter.consume(keys[(from + i) % keys.length] as string));
          for (const settled of await Promise.allSettled(batch)) {
            if (settled.status === 'fulfilled') allowed++;
            else if (settled.reason instanceof Error) throw settled.reason;
          }
        }
        return allowed;
      },
    });
  }

  const erl = (): ExpressMemoryStore => {
    const store = new ExpressMemoryStore();
    // Only windowMs is read by the memory store's init; the middleware would pass its full options.
    store.init({ windowMs: WINDOW_MS } as ExpressOptions);
    return store;
  };
  {
    const store = erl();
    add({
      name: 'express-rate-limit MemoryStore',
      lib: 'erl',
      mode: 'await',
      run: async (keys, from, count) => {
        let allowed = 0;
        for (let i = 0; i < count; i++) {
          const info = await store.increment(keys[(from + i) % keys.length] as string);
          if (info.totalHits <= LIMIT) allowed++;
        }
        return allowed;
      },
      close: () => {
        store.shutdown();
      },
    });
  }
  {
    const store = erl();
    add({
      name: 'express-rate-limit MemoryStore',
      lib: 'erl',
      mode: 'batch',
      run: async (keys, from, count) => {
        let allowed = 0;
        for (let done = 0; done < count; done += BATCH) {
          const batch: Promise<boolean>[] = [];
          for (let i = done; i < Math.min(count, done + BATCH); i++) {
            // increment() returns the live, mutable record: read it at once, as the middleware would
            // before anything else ran (reading it after Promise.all would see later increments).
            const pending = store.increment(keys[(from + i) % keys.length] as string);
            batch.push(pending.then((info) => info.totalHits <= LIMIT));
          }
          for (const ok of await Promise.all(batch)) if (ok) allowed++;
        }
        return allowed;
      },
      close: () => {
        store.shutdown();
      },
    });
  }
  return cases;
}

async function sample(c: MemoryCase, keys: readonly string[], record: boolean): Promise<void> {
  const start = process.hrtime.bigint();
  const allowed = await c.run(keys, c.cursor, CHUNK);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  c.cursor = (c.cursor + CHUNK) % keys.length;
  if (!record) return;
  c.rates.push(CHUNK / seconds);
  c.allowed += allowed;
  c.decided += CHUNK;
}

/**
 * `a` ÷ `b` in decisions/s paired by round: the median of the rounds' ratios (every case records
 * one sample per round, so `rates[i]` of two cases come from the same round), and their spread.
 */
function pairedRatio(a: MemoryCase | undefined, b: MemoryCase | undefined): { median: number; spread: string } {
  if (a === undefined || b === undefined) return { median: NaN, spread: '—' };
  return paired(
    new Map([
      ['a', a.rates],
      ['b', b.rates],
    ]),
    'a',
    'b',
  );
}

function caseOf(cases: readonly MemoryCase[], name: string, mode: Mode): MemoryCase | undefined {
  return cases.find((x) => x.name === name && x.mode === mode);
}

/** The seeded Zipf draw every case (and the callgrind mode) walks. */
function benchKeys(): string[] {
  return zipfKeys({ distinctKeys: DISTINCT_KEYS, draws: DRAWS, exponent: ZIPF_EXPONENT, seed: 42, prefix: 'user:' });
}

/** Runs the memory comparison and returns its report section. */
export async function runMemoryBench(): Promise<Section> {
  log(`memory: drawing ${int(DRAWS)} Zipf keys over ${int(DISTINCT_KEYS)} distinct`);
  const keys = benchKeys();
  const shape = describeKeys(keys);
  const cases = makeCases();
  try {
    // Warm-up: one unrecorded chunk per case (JIT, and the limiters' first sight of the keys).
    for (const c of cases) await sample(c, keys, false);
    for (let round = 0; round < ROUNDS; round++) {
      log(`memory: round ${round + 1}/${ROUNDS}`);
      // Rotate the order each round, so no case always runs first (or right after the same neighbour).
      const order = cases.map((_, i) => cases[(i + round * 3) % cases.length] as MemoryCase);
      if (round % 2 === 1) order.reverse();
      for (const c of order) {
        // Start every sample from a collected heap, so no case pays for the previous one's garbage.
        if (typeof globalThis.gc === 'function') globalThis.gc();
        await settle(5);
        await sample(c, keys, true);
      }
    }
  } finally {
    for (const c of cases) c.close?.();
  }

  const rlfAwait = caseOf(cases, 'rate-limiter-flexible RateLimiterMemory', 'await');
  const rlfBatch = caseOf(cases, 'rate-limiter-flexible RateLimiterMemory', 'batch');
  const erlAwait = caseOf(cases, 'express-rate-limit MemoryStore', 'await');
  const erlBatch = caseOf(cases, 'express-rate-limit MemoryStore', 'batch');
  const modeLabel: Record<Mode, string> = {
    sync: 'sequential, sync fast path',
    into: 'sequential, `limitInto` one reused buffer',
    await: 'sequential, `await` each',
    batch: `batch of ${int(BATCH)}, \`Promise.all\``,
  };

  const rows = cases.map((c) => {
    const rate = median(c.rates);
    const rlf = c.mode === 'batch' ? rlfBatch : rlfAwait;
    const erl = c.mode === 'batch' ? erlBatch : erlAwait;
    const spread = `${int(Math.min(...c.rates))}–${int(Math.max(...c.rates))}`;
    return [
      c.name,
      modeLabel[c.mode],
      int(rate),
      spread,
      percent(c.allowed / c.decided),
      c.lib === 'rlf' ? '1.00×' : times(pairedRatio(c, rlf).median),
      c.lib === 'erl' ? '1.00×' : times(pairedRatio(c, erl).median),
    ];
  });

  const target = (name: string, mode: Mode, vs: MemoryCase | undefined, label: string): string[] => {
    const { median: ratio, spread } = pairedRatio(caseOf(cases, name, mode), vs);
    return [
      `${name} (${modeLabel[mode]})`,
      label,
      times(ratio),
      spread,
      ratio >= 5 ? '✅ ≥ 5× (aim)' : ratio >= 3 ? '✅ ≥ 3× (target), ❌ < 5× (aim)' : '❌ < 3× (target)',
    ];
  };
  const targets = [
    target('ours fixedWindow', 'sync', rlfAwait, 'RLF, `await` each'),
    target('ours tokenBucket', 'sync', rlfAwait, 'RLF, `await` each'),
    target('ours fixedWindow', 'into', rlfAwait, 'RLF, `await` each'),
    target('ours fixedWindow', 'await', rlfAwait, 'RLF, `await` each'),
    target('ours tokenBucket', 'await', rlfAwait, 'RLF, `await` each'),
    target('ours fixedWindow', 'batch', rlfBatch, 'RLF, batch'),
    target('ours tokenBucket', 'batch', rlfBatch, 'RLF, batch'),
  ];

  const markdown = [
    `Limit ${LIMIT} per ${WINDOW_MS / 1000} s per key (ours: \`fixedWindow({ limit: ${LIMIT}, windowMs: ${WINDOW_MS} })\` or ` +
      `\`tokenBucket({ capacity: ${LIMIT}, refillPerSecond: ${fixed((LIMIT * 1000) / WINDOW_MS, 3)} })\` on ` +
      `\`MemoryStore({ maxKeys: 200_000 })\`; RLF: \`RateLimiterMemory({ points: ${LIMIT}, duration: ${WINDOW_MS / 1000} })\`, ` +
      `rejections caught; ERL: \`MemoryStore.increment(key)\` after \`init({ windowMs: ${WINDOW_MS} })\`, allowed when ` +
      `\`totalHits <= ${LIMIT}\`).`,
    '',
    `Keys: ${int(DRAWS)} precomputed draws from Zipf(s = ${ZIPF_EXPONENT}) over ${int(DISTINCT_KEYS)} keys (seed 42; ` +
      `${int(shape.distinct)} distinct appear; hottest key ${percent(shape.top1)} of draws, hottest 1% of keys ` +
      `${percent(shape.top1pct)}). Every case has its own limiter and walks the same sequence from the same offset, ` +
      `${int(CHUNK)} decisions per sample; 1 warm-up sample + ${ROUNDS} recorded per case, case order rotated each round. ` +
      `decisions/s is the median sample (range: slowest–fastest sample); every ratio is paired by round: the median of ` +
      `the rounds' ratios of two cases' samples. ` +
      (typeof globalThis.gc === 'function'
        ? 'A forced GC (outside the timing) precedes every sample. '
        : 'No forced GC between samples (run without --expose-gc). ') +
      'All twelve limiters stay live for the whole run, so every sample runs on the same, large heap.',
    '',
    table(
      [
        'limiter',
        'mode',
        'decisions/s',
        'range',
        'allowed',
        '× RLF (same mode, paired by round)',
        '× ERL (same mode, paired by round)',
      ],
      rows,
    ),
    '',
    '**Target** (ours ≥ 3× rate-limiter-flexible memory, aim 5×):',
    '',
    table(
      ['ours', 'vs', 'ratio (median of rounds)', 'interquartile (and full) range of the rounds', 'verdict'],
      targets,
    ),
    '',
    '"sync fast path" = `const r = limiter.limit(key); const d = r instanceof Promise ? await r : r;` — it never awaits ' +
      'on the memory store; "`limitInto`" is the same with `limiter.limitInto(buffer, key)` on one buffer from ' +
      '`createDecisionBuffer()`, rewritten by every call (no decision allocated). RLF and ERL only offer promises, so their sequential row always awaits; the `await each` ' +
      'rows of ours pay that same microtask cost. Batch = 1,000 calls issued, then one `Promise.all` (RLF: ' +
      '`Promise.allSettled`, since limited calls reject).',
    '',
    '**Each limiter alone in its process** (sequential cases):',
    '',
    isolatedMemorySection(),
  ].join('\n');
  return { title: 'In-process (memory) limiters', markdown };
}

/** The sequential case `<lib>-<mode>` (`ours-sync`, `ours-into`, `rlf-await`...; ours: fixedWindow). */
function sequentialCase(cases: readonly MemoryCase[], name: string): MemoryCase {
  const [lib, mode] = name.split('-') as [Lib, Mode];
  const c = cases.find((x) => x.lib === lib && x.mode === mode && (lib !== 'ours' || x.name === 'ours fixedWindow'));
  if (c === undefined) throw new Error(`no case ${name}`);
  return c;
}

/**
 * `--callgrind <case> <count>`: runs one sequential case (`<lib>-<mode>`, e.g. `ours-sync`, `ours-into`,
 * `rlf-await`, `erl-await`) for that many decisions over the Zipf keys and exits, for
 * `valgrind --tool=callgrind node --single-threaded …`; two counts give instructions per decision
 * (the difference over the difference in decisions: start-up and the key draw cancel out).
 */
async function callgrindMode(): Promise<boolean> {
  const at = process.argv.indexOf('--callgrind');
  if (at === -1) return false;
  const name = process.argv[at + 1] as string;
  const count = Number(process.argv[at + 2]);
  const keys = benchKeys();
  const cases = makeCases();
  const c = sequentialCase(cases, name);
  const allowed = await c.run(keys, 0, count);
  for (const x of cases) x.close?.();
  process.stdout.write(`${name} ${String(count)} ${String(allowed)}\n`);
  return true;
}

/** The sequential cases timed each in processes of their own, and the pairs reported. */
const ISOLATED_CASES = ['ours-sync', 'ours-into', 'ours-await', 'rlf-await', 'erl-await'] as const;
const ISOLATED_PAIRS: readonly (readonly [string, string, string])[] = [
  ['ours-await', 'rlf-await', 'ours `await` each ÷ RLF `await` each (target ≥ 3×)'],
  ['ours-sync', 'rlf-await', 'ours sync fast path ÷ RLF `await` each'],
  ['ours-sync', 'erl-await', 'ours sync fast path ÷ ERL `await` each (target ≥ 1.0×)'],
  ['ours-into', 'erl-await', 'ours `limitInto` ÷ ERL `await` each'],
  ['ours-await', 'erl-await', 'ours `await` each ÷ ERL `await` each'],
];
const ISOLATED_ROUNDS = quick ? 2 : 9;
/** Chunks per process: one of warm-up, then these timed (their median is the process's rate). */
const ISOLATED_CHUNKS = quick ? 2 : 5;

/** Decisions/s of one `--time` child: the median of its timed chunks. */
function rateInChild(name: string): number {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--time', name, String(ISOLATED_CHUNKS)],
    { encoding: 'utf8' },
  );
  const rate = Number(child.stdout.trim().split(' ').at(-1));
  if (child.status !== 0 || !Number.isFinite(rate)) throw new Error(`memory --time ${name} failed: ${child.stderr}`);
  return rate;
}

/**
 * Each sequential case alone in its process. In the main run, twelve limiters of three libraries
 * share one process, and ours (eight of them, fixedWindow and tokenBucket) share their code paths:
 * V8's call sites there see several shapes, as a service with one limiter would not. Here every
 * slice is a fresh process that builds the keys and the limiters, runs one case (a warm-up chunk,
 * then timed chunks) and exits; rounds alternate the processes in rotated order and ratios are
 * paired by round, as in the main table.
 */
export function isolatedMemorySection(): string {
  const samples = new Map<string, number[]>(ISOLATED_CASES.map((c) => [c, []]));
  for (let round = 0; round < ISOLATED_ROUNDS; round++) {
    log(`memory isolated: round ${String(round + 1)}/${String(ISOLATED_ROUNDS)}`);
    const order = ISOLATED_CASES.map((_, i) => ISOLATED_CASES[(i + round) % ISOLATED_CASES.length] as string);
    if (round % 2 === 1) order.reverse();
    for (const name of order) samples.get(name)?.push(rateInChild(name));
  }
  const rows = ISOLATED_PAIRS.map(([ours, theirs, label]) => {
    const p = paired(samples, ours, theirs);
    return [
      label,
      int(median(samples.get(ours) ?? [])),
      int(median(samples.get(theirs) ?? [])),
      times(p.median),
      p.spread,
    ];
  });
  return [
    `Every slice its own \`node\` process (\`src/ratelimit-memory.ts --time <lib>-<mode> ${String(ISOLATED_CHUNKS)}\`): ` +
      `it draws the keys, builds the limiters, runs one case for a warm-up chunk and ${String(ISOLATED_CHUNKS)} timed ` +
      `chunks of ${int(CHUNK)} decisions, and prints the median chunk's decisions/s (ours: fixedWindow). ` +
      `${String(ISOLATED_ROUNDS)} rounds, processes in rotated order (reversed every other round); ratios paired by round.`,
    '',
    table(
      [
        'ratio (decisions/s)',
        'ours /s (median)',
        'theirs /s (median)',
        'median of rounds',
        'interquartile (and full) range',
      ],
      rows,
    ),
  ].join('\n');
}

/** `--time <case> <chunks>`: one sequential case alone (see {@link isolatedMemorySection}); prints its rate. */
async function timeMode(): Promise<boolean> {
  const at = process.argv.indexOf('--time');
  if (at === -1) return false;
  const name = process.argv[at + 1] as string;
  const chunks = Number(process.argv[at + 2]);
  const keys = benchKeys();
  const cases = makeCases();
  const c = sequentialCase(cases, name);
  await sample(c, keys, false);
  for (let i = 0; i < chunks; i++) {
    if (typeof globalThis.gc === 'function') globalThis.gc();
    await sample(c, keys, true);
  }
  for (const x of cases) x.close?.();
  process.stdout.write(`${name} ${String(median(c.rates))}\n`);
  return true;
}

if (isMain(import.meta.url) && process.argv.includes('--isolated'))
  process.stdout.write(`${isolatedMemorySection()}\n`);
else if (isMain(import.meta.url) && !(await callgrindMode()) && !(await timeMode())) await sectionMain(runMemoryBench);
