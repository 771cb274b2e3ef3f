/**
 * Is memory bounded? 1,000,000 distinct keys, one decision each, through a memory limiter; heap
 * (after a forced GC) and held keys at 0, 250k, 500k and 1M keys. Each library runs in its own
 * child process (`node --expose-gc … memory-bound.ts <lib>`), so one library's garbage or
 * baseline never shows up in another's numbers; `runMemoryBound()` spawns them one after another.
 */
import { createRateLimiter, fixedWindow, MemoryStore } from '@portcullis/ratelimit';
import { MemoryStore as ExpressMemoryStore, type Options as ExpressOptions } from 'express-rate-limit';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import {
  collectGarbage,
  fixed,
  int,
  isMain,
  log,
  quick,
  runNodeChild,
  sectionMain,
  table,
  type Section,
} from './common.js';

const LIMIT = 100;
const WINDOW_MS = 60_000;
const MAX_KEYS = 100_000;
const SCALE = quick ? 10 : 1;
const CHECKPOINTS = [0, 250_000, 500_000, 1_000_000].map((n) => n / SCALE);
const LIBS = ['ours', 'rlf', 'erl'] as const;
type Lib = (typeof LIBS)[number];

const LABELS: Record<Lib, string> = {
  ours: `ours: fixedWindow ${LIMIT}/60 s on \`MemoryStore({ maxKeys: ${int(MAX_KEYS)} })\``,
  rlf: `rate-limiter-flexible: \`RateLimiterMemory({ points: ${LIMIT}, duration: 60 })\``,
  erl: `express-rate-limit: \`MemoryStore\`, \`windowMs: ${WINDOW_MS}\``,
};

interface Point {
  keys: number;
  held: number;
  heapUsed: number;
  rss: number;
  seconds: number;
}

interface ChildResult {
  lib: Lib;
  gc: boolean;
  points: Point[];
}

interface Subject {
  /** Decides the next batch of keys [from, to). */
  feed(from: number, to: number): Promise<void>;
  held(): number;
}

function subject(lib: Lib): Subject {
  switch (lib) {
    case 'ours': {
      const store = new MemoryStore({ maxKeys: MAX_KEYS });
      const limiter = createRateLimiter({
        store,
        limits: { perMinute: fixedWindow({ limit: LIMIT, windowMs: WINDOW_MS }) },
      });
      return {
        feed: (from, to) => {
          for (let i = from; i < to; i++) {
            if (limiter.limit(`key:${i}`) instanceof Promise)
              throw new Error('the memory store should decide synchronously');
          }
          return Promise.resolve();
        },
        held: () => store.size,
      };
    }
    case 'rlf': {
      const limiter = new RateLimiterMemory({ points: LIMIT, duration: WINDOW_MS / 1000 });
      // Its keys live in a private Map (each with its own unref'd expiry timer).
      const storage = (limiter as unknown as { _memoryStorage: { _storage: Map<string, unknown> } })._memoryStorage;
      return {
        feed: async (from, to) => {
          for (let start = from; start < to; start += 10_000) {
            const batch: Promise<unknown>[] = [];
            for (let i = start; i < Math.min(to, start + 10_000); i++) batch.push(limiter.consume(`key:${i}`));
            await Promise.allSettled(batch);
          }
        },
        held: () => storage._storage.size,
      };
    }
    case 'erl': {
      const store = new ExpressMemoryStore();
      store.init({ windowMs: WINDOW_MS } as ExpressOptions);
      return {
        feed: async (from, to) => {
          for (let start = from; start < to; start += 10_000) {
            const batch: Promise<unknown>[] = [];
            for (let i = start; i < Math.min(to, start + 10_000); i++) batch.push(store.increment(`key:${i}`));
            await Promise.all(batch);
          }
        },
        held: () => store.current.size + store.previous.size,
      };
    }
  }
}

/** The child: measures one library and prints its result as one JSON line. */
async function measure(lib: Lib): Promise<ChildResult> {
  const s = subject(lib);
  const points: Point[] = [];
  let done = 0;
  let seconds = 0;
  for (const target of CHECKPOINTS) {
    const start = process.hrtime.bigint();
    await s.feed(done, target);
    seconds += Number(process.hrtime.bigint() - start) / 1e9;
    done = target;
    collectGarbage();
    const usage = process.memoryUsage();
    points.push({ keys: target, held: s.held(), heapUsed: usage.heapUsed, rss: usage.rss, seconds });
  }
  return { lib, gc: typeof globalThis.gc === 'function', points };
}

async function runChild(lib: Lib): Promise<ChildResult> {
  return JSON.parse(await runNodeChild({ script: 'memory-bound.ts', args: [lib], exposeGc: true })) as ChildResult;
}

const mb = (bytes: number): string => fixed(bytes / 1024 / 1024, 1);

/** Spawns one child per library and returns the report section. */
export async function runMemoryBound(): Promise<Section> {
  const results: ChildResult[] = [];
  for (const lib of LIBS) {
    log(`memory-bound: ${lib} (child process, --expose-gc)`);
    results.push(await runChild(lib));
  }
  const rows: string[][] = [];
  for (const r of results) {
    const base = r.points[0];
    for (const p of r.points) {
      const grown = p.heapUsed - (base?.heapUsed ?? 0);
      rows.push([
        LABELS[r.lib],
        int(p.keys),
        int(p.held),
        mb(p.heapUsed),
        mb(grown),
        p.held > 0 ? int(grown / p.held) : '—',
        mb(p.rss),
        p.keys > 0 ? int(p.keys / p.seconds) : '—',
      ]);
    }
  }
  const noGc = results.filter((r) => !r.gc).map((r) => r.lib);
  const markdown = [
    `${int(CHECKPOINTS.at(-1) ?? 0)} distinct keys (\`key:0\`, \`key:1\`, …), one decision each, limit ${LIMIT} per 60 s. ` +
      `Each library in its own \`node --expose-gc\` child; heap after two forced GCs at each checkpoint. ` +
      `"held" = keys the limiter keeps (ours: \`store.size\`; RLF: its private storage Map; ERL: its current + previous Maps). ` +
      `"B / held key" = heap growth since 0 keys divided by held keys. The keys/s column is the cumulative rate of new ` +
      `keys (RLF and ERL fed in batches of 10,000 promises; ours synchronously).`,
    ...(noGc.length > 0
      ? ['', `**Warning:** no \`global.gc\` in ${noGc.join(', ')}: heap figures include garbage.`]
      : []),
    '',
    table(['limiter', 'keys seen', 'held', 'heap MB', 'Δ heap MB', 'B / held key', 'RSS MB', 'new keys/s'], rows),
  ].join('\n');
  return { title: 'Memory bound (1M distinct keys)', markdown };
}

if (isMain(import.meta.url)) {
  const lib = process.argv[2];
  if ((LIBS as readonly string[]).includes(lib ?? '')) {
    process.stdout.write(`${JSON.stringify(await measure(lib as Lib))}\n`);
  } else {
    await sectionMain(runMemoryBound);
  }
}
