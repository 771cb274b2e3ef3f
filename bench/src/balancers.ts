/**
 * Balancers side by side: the time of one `pick()` for each of @portcullis/router's balancers, at 16
 * and 128 endpoints, next to the JavaScript libraries that do the same job (wrr-pool's weighted
 * round robin, load-balancers' power of two choices and random picks, skeleton-rendezvous,
 * hashring's ketama ring and consistent-hash's ring) and to nginx's own per-pick loop written out
 * here; then what a pick allocates, what an update costs, and, for the hashing ones, how evenly
 * keys spread and how many move when one endpoint leaves.
 *
 * Every case walks the same array of 4,096 keys (Zipf s = 1 over 100,000 user ids, seeded); those
 * that need no key ignore it. Rounds run each case for one short slice (about 10 ms), in an order
 * rotated every round (and reversed every other); ratios are paired by round (the median of the
 * rounds' ratios, with their spread), so drift of the machine between rounds cancels out.
 *
 * Then instructions per pick under callgrind at 128 endpoints (when valgrind is installed): steadier
 * than time on a busy machine.
 *
 *     node --expose-gc --conditions=@portcullis/source --import tsx src/balancers.ts [--quick]
 */
import { spawnSync } from 'node:child_process';
import {
  createBoundedLoad,
  createLeastRequest,
  createMaglev,
  createRendezvous,
  createRoundRobin,
  createSmoothWeightedRoundRobin,
  createWeightedRandom,
  type Balancer,
} from '@portcullis/router';
import ConsistentHash from 'consistent-hash';
import HashRing from 'hashring';
import { P2cBalancer, RandomBalancer } from 'load-balancers';
import SkeletonRendezvousHasher from 'skeleton-rendezvous';
import WrrPool from 'wrr-pool';
import {
  callgrindInstructions,
  collectGarbage,
  fixed,
  isMain,
  log,
  median,
  paired,
  percent,
  quartiles,
  quick,
  sectionMain,
  settle,
  table,
  times,
  zipfKeys,
  type Section,
} from './common.js';

const SIZES = [16, 128] as const;
const ROUNDS = quick ? 4 : 21;
const SLICE_MS = quick ? 3 : 10;
const SEED = 0x5eed_0014;
const KEYS = zipfKeys({ distinctKeys: 100_000, draws: 4_096, exponent: 1, seed: SEED, prefix: 'user-' });

/** Endpoint `i` is `10.0.x.y:8080` with weight 1 + (i mod 4), for every weighted case. */
function endpoints(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.0.${String(i >> 8)}.${String(i & 255)}:8080`);
}
function weightOf(endpoint: string): number {
  const last = Number(endpoint.slice(endpoint.lastIndexOf('.') + 1, endpoint.indexOf(':')));
  return 1 + (last % 4);
}

/** One pick (and its release, where the balancer counts requests in flight). */
type Pick = (key: string) => unknown;

interface Case {
  readonly name: string;
  readonly pick: Pick;
  /** For ours: how long `update()` with a set one endpoint apart takes. */
  readonly balancer?: Balancer<string>;
}

/** nginx's `ngx_http_upstream_get_peer` loop, O(n) per pick, as JS ports of it run. */
function nginxLoop(list: readonly string[]): () => string {
  const weights = list.map(weightOf);
  const current = new Float64Array(list.length);
  const total = weights.reduce((a, b) => a + b, 0);
  return () => {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] = (current[i] as number) + (weights[i] as number);
      if ((current[i] as number) > (current[best] as number)) best = i;
    }
    current[best] = (current[best] as number) - total;
    return list[best] as string;
  };
}

const NAMES = {
  roundRobin: '**ours** round robin',
  swrr: '**ours** smooth weighted round robin',
  nginx: "nginx's per-pick loop (reference, written here)",
  wrrPool: 'wrr-pool 1 `next()` (LVS weighted round robin)',
  leastRequest: '**ours** least request, P2C (pick + release)',
  p2c: 'load-balancers 1 `P2cBalancer` (unweighted, counts picks)',
  random: '**ours** weighted random',
  lbRandom: 'load-balancers 1 `RandomBalancer` (unweighted)',
  rendezvous: '**ours** rendezvous, weighted',
  rendezvousEqual: '**ours** rendezvous, equal weights',
  skeleton: 'skeleton-rendezvous 1 `findSite()` (unweighted, md5)',
  maglev: '**ours** Maglev',
  boundedLoad: '**ours** bounded load, c = 1.25 (pick + release)',
  hashring: 'hashring 3 `get()` (ketama, md5, 5,000-key LRU)',
  consistentHash: 'consistent-hash 1 `get()` (ring, 40 points per weight)',
} as const;
type CaseName = keyof typeof NAMES;

/** Builds one case at n endpoints (only that one: the callgrind runs build nothing else). */
function buildCase(name: CaseName, n: number): Case {
  const list = endpoints(n);
  const weighted = { endpoints: list, weight: weightOf };
  const ours = (balancer: Balancer<string>, release: boolean): Case => {
    const pick: Pick = release
      ? (key) => {
          const e = balancer.pick(key);
          if (e !== undefined) balancer.release(e);
          return e;
        }
      : (key) => balancer.pick(key);
    return { name: NAMES[name], pick, balancer };
  };
  const theirs = (pick: Pick): Case => ({ name: NAMES[name], pick });
  switch (name) {
    case 'roundRobin':
      return ours(createRoundRobin({ endpoints: list }), false);
    case 'swrr':
      return ours(createSmoothWeightedRoundRobin(weighted), false);
    case 'nginx':
      return theirs(nginxLoop(list));
    case 'wrrPool': {
      const pool = new WrrPool<string>();
      for (const e of list) pool.add(e, weightOf(e));
      return theirs(() => pool.next());
    }
    case 'leastRequest':
      return ours(createLeastRequest(weighted), true);
    case 'p2c': {
      const p2c = new P2cBalancer(n);
      return theirs(() => list[p2c.pick()]);
    }
    case 'random':
      return ours(createWeightedRandom(weighted), false);
    case 'lbRandom': {
      const random = new RandomBalancer(n);
      return theirs(() => list[random.pick()]);
    }
    case 'rendezvous':
      return ours(createRendezvous(weighted), false);
    case 'rendezvousEqual':
      return ours(createRendezvous({ endpoints: list }), false);
    case 'skeleton': {
      const skeleton = new SkeletonRendezvousHasher({ sites: list });
      return theirs((key) => skeleton.findSite(key));
    }
    case 'maglev':
      return ours(createMaglev(weighted), false);
    case 'boundedLoad':
      return ours(createBoundedLoad(weighted), true);
    case 'hashring': {
      const ring = new HashRing(Object.fromEntries(list.map((e) => [e, weightOf(e)])));
      return theirs((key) => ring.get(key));
    }
    case 'consistentHash': {
      const ring = new ConsistentHash();
      for (const e of list) ring.add(e, 40 * weightOf(e));
      return theirs((key) => ring.get(key));
    }
  }
}

function cases(n: number): Map<CaseName, Case> {
  return new Map((Object.keys(NAMES) as CaseName[]).map((name) => [name, buildCase(name, n)]));
}

let sink = 0;

/** Nanoseconds per pick over one slice: the key array walked whole, as often as fits. */
function slice(pick: Pick): number {
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (const key of KEYS) if (pick(key) !== undefined) sink++;
    n += KEYS.length;
    elapsed = performance.now() - t0;
  } while (elapsed < SLICE_MS);
  return (elapsed * 1e6) / n;
}

/** ns per pick, per case and per round (round order kept, for paired ratios). */
async function measure(list: readonly Case[], label: string): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(list.map((c) => [c.name, []]));
  for (const c of list) for (let i = 0; i < 3; i++) slice(c.pick); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const order = list.map((_, i) => list[(i + round) % list.length] as Case);
    if (round % 2 === 1) order.reverse();
    for (const c of order) samples.get(c.name)?.push(slice(c.pick));
    if (round % 10 === 9) {
      log(`balancers ${label}: round ${String(round + 1)}/${String(ROUNDS)}`);
      await settle(5);
    }
  }
  return samples;
}

/**
 * Bytes of heap a pick leaves behind: a GC, 100,000 picks, the heap's growth divided by the picks
 * (0 for an allocation-free pick; a GC during the run would hide allocation, so the run is short
 * enough to fit in the young generation, and one that saw the heap shrink reports "n/a").
 */
function bytesPerPick(pick: Pick): string {
  if (!collectGarbage()) return 'n/a (run with --expose-gc)';
  const picks = 100_000;
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < picks; i++) if (pick(KEYS[i & 4_095] as string) !== undefined) sink++;
  const grown = process.memoryUsage().heapUsed - before;
  return grown < 0 ? 'n/a' : fixed(grown / picks, 1);
}

/** Median ms of `update()` alternating between the set and the set less one endpoint. */
function updateMs(balancer: Balancer<string>, n: number): number {
  const full = endpoints(n);
  const fewer = full.slice(1);
  const runs = quick ? 3 : 15;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    balancer.update(i % 2 === 0 ? fewer : full);
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** A hash under test: its pick, and the same instance less one endpoint (as each library removes one). */
interface Hashing {
  readonly pick: (key: string) => unknown;
  readonly remove: (endpoint: string) => void;
}

/** Key spread and disruption of the hashing balancers and rings, equal weights. */
function hashingQuality(n: number): string[][] {
  const list = endpoints(n);
  const removed = list[n >> 1] as string;
  const keys = Array.from({ length: quick ? 20_000 : 100_000 }, (_, i) => `user-${String(i)}`);
  const ours = (balancer: Balancer<string>): Hashing => ({
    pick: (key) => balancer.pick(key),
    remove: (endpoint) => {
      balancer.update(balancer.endpoints.filter((e) => e !== endpoint));
    },
  });
  const build: readonly [string, () => Hashing][] = [
    ['ours, rendezvous', () => ours(createRendezvous({ endpoints: list }))],
    ['ours, Maglev (M = 65,537)', () => ours(createMaglev({ endpoints: list }))],
    [
      'ours, Maglev (M = smallest prime ≥ 100 n)',
      () => ours(createMaglev({ endpoints: list, tableSize: smallestPrimeAtLeast(100 * n) })),
    ],
    [
      'hashring 3 (`remove()`)',
      () => {
        const ring = new HashRing(list);
        return { pick: (key) => ring.get(key), remove: (e) => ring.remove(e) };
      },
    ],
    [
      'consistent-hash 1 (`remove()`)',
      () => {
        const ring = new ConsistentHash();
        for (const e of list) ring.add(e);
        return { pick: (key) => ring.get(key), remove: (e) => ring.remove(e) };
      },
    ],
    [
      'skeleton-rendezvous 1 (`removeSites()`)',
      () => {
        const hasher = new SkeletonRendezvousHasher({ sites: list });
        return {
          pick: (key) => hasher.findSite(key),
          remove: (e) => {
            hasher.removeSites([e]);
          },
        };
      },
    ],
  ];
  const rows: string[][] = [];
  for (const [name, make] of build) {
    const hashing = make();
    const before = keys.map((key) => hashing.pick(key));
    hashing.remove(removed);
    const counts = new Map<unknown, number>();
    let moved = 0;
    let extra = 0;
    keys.forEach((key, i) => {
      const b = before[i];
      counts.set(b, (counts.get(b) ?? 0) + 1);
      if (hashing.pick(key) !== b) {
        moved++;
        if (b !== removed) extra++;
      }
    });
    const most = Math.max(...counts.values());
    rows.push([
      name,
      String(n),
      percent(most / (keys.length / n) - 1),
      percent(moved / keys.length),
      percent(1 / n),
      percent(extra / keys.length),
    ]);
  }
  return rows;
}

function smallestPrimeAtLeast(x: number): number {
  for (let p = x; ; p++) {
    let prime = p > 1;
    for (let d = 2; d * d <= p; d++)
      if (p % d === 0) {
        prime = false;
        break;
      }
    if (prime) return p;
  }
}

const PAIRS: readonly [CaseName, CaseName][] = [
  ['swrr', 'nginx'],
  ['swrr', 'wrrPool'],
  ['leastRequest', 'p2c'],
  ['random', 'lbRandom'],
  ['rendezvous', 'skeleton'],
  ['rendezvousEqual', 'skeleton'],
  ['maglev', 'hashring'],
  ['maglev', 'consistentHash'],
  ['boundedLoad', 'hashring'],
];

export async function runBalancersBench(): Promise<Section> {
  const perSize = new Map<number, { samples: Map<string, number[]>; cases: Map<CaseName, Case> }>();
  for (const n of SIZES) {
    const c = cases(n);
    perSize.set(n, { samples: await measure([...c.values()], `${String(n)} endpoints`), cases: c });
  }
  const names = Object.keys(NAMES) as CaseName[];
  const timeRows = names.map((name) => {
    const row: string[] = [NAMES[name]];
    for (const n of SIZES) {
      const s = perSize.get(n);
      const [min, , med, , max] = quartiles(s?.samples.get(NAMES[name]) ?? []);
      row.push(fixed(med, 1), `${fixed(min, 1)}–${fixed(max, 1)}`);
    }
    return row;
  });
  const ratioRows = PAIRS.map(([a, b]) => {
    const row: string[] = [`${NAMES[a]} ÷ ${NAMES[b]}`];
    for (const n of SIZES) {
      const p = paired(perSize.get(n)?.samples ?? new Map<string, number[]>(), NAMES[a], NAMES[b]);
      row.push(times(p.median), p.spread);
    }
    return row;
  });
  log('balancers: allocation and update cost');
  const oursNames = names.filter((name) => NAMES[name].startsWith('**ours**'));
  const costRows = oursNames.map((name) => {
    const row: string[] = [NAMES[name]];
    for (const n of SIZES) {
      const c = cases(n).get(name);
      if (c === undefined) continue;
      for (let i = 0; i < 3; i++) slice(c.pick);
      row.push(bytesPerPick(c.pick), c.balancer === undefined ? 'n/a' : fixed(updateMs(c.balancer, n), 2));
    }
    return row;
  });
  const peerAllocRows = names
    .filter((name) => !NAMES[name].startsWith('**ours**'))
    .map((name) => {
      const row: string[] = [NAMES[name]];
      for (const n of SIZES) {
        const c = cases(n).get(name);
        if (c === undefined) continue;
        for (let i = 0; i < 3; i++) slice(c.pick);
        row.push(bytesPerPick(c.pick));
      }
      return row;
    });
  log('balancers: hashing quality');
  const qualityRows = SIZES.flatMap((n) => hashingQuality(n));
  log(`balancers: sink ${String(sink % 7)}`);
  return {
    title: 'Balancers: time per pick',
    markdown: [
      `${String(KEYS.length)} keys (Zipf s = 1 over 100,000 user ids, seed 0x${SEED.toString(16)}), the same for ` +
        'every case; endpoint i of n has weight 1 + (i mod 4) in the weighted cases (peers marked unweighted ' +
        'get the endpoints without weights). Each case walks the key array for slices of ' +
        `${String(SLICE_MS)} ms, ${String(ROUNDS)} rounds, order rotated (and reversed every other round); ratios ` +
        "are the median of per-round ratios. Least request and bounded load count requests in flight, so each of their picks is followed by its `release()` (in the time); load-balancers' P2C counts picks and never releases.",
      '',
      '### Time per pick (ns)',
      '',
      table(['case', ...SIZES.flatMap((n) => [`${String(n)} endpoints (median)`, 'rounds: min–max'])], timeRows),
      '',
      '### Paired ratios (time per pick; above 1: ours takes longer)',
      '',
      table(
        ['ratio', ...SIZES.flatMap((n) => [`${String(n)} endpoints`, 'interquartile (and full) range'])],
        ratioRows,
      ),
      '',
      '### What a pick allocates, what an update costs',
      '',
      'Bytes per pick: heap growth over 100,000 picks after a forced GC, divided by the picks (0: nothing ' +
        'allocated). Update: median ms of `update()` alternating between the set and the set less one endpoint ' +
        '(everything a pick reads is rebuilt aside, then swapped in).',
      '',
      table(
        ['balancer', ...SIZES.flatMap((n) => [`bytes / pick, ${String(n)}`, `update (ms), ${String(n)}`])],
        costRows,
      ),
      '',
      table(['peer', ...SIZES.map((n) => `bytes / pick, ${String(n)}`)], peerAllocRows),
      '',
      '### Hashing: spread and disruption (equal weights)',
      '',
      `${quick ? '20,000' : '100,000'} distinct keys (\`user-0\`…). Imbalance: the busiest endpoint's keys over the ` +
        'average, minus 1. Moved: keys whose endpoint changes when the middle endpoint is removed; of them, ' +
        '"others" had not been on the removed one (0 for a perfectly consistent hash).',
      '',
      table(['hash', 'n', 'imbalance', 'moved', '1/n', 'moved from others'], qualityRows),
      '',
      '### Instructions per pick (callgrind), 128 endpoints',
      '',
      callgrindSection(),
      '',
    ].join('\n'),
  };
}

/** Each case costs two valgrind runs of a minute or more on a busy 2-core machine: ours and the closest peers. */
const CALLGRIND_CASES: readonly CaseName[] = [
  'swrr',
  'nginx',
  'leastRequest',
  'p2c',
  'random',
  'rendezvousEqual',
  'maglev',
  'boundedLoad',
  'hashring',
];
const CALLGRIND_PICKS = [40_960, 204_800] as const;
const CALLGRIND_SIZE = 128;

/** Instructions (valgrind's `Collected`) of one run of `--callgrind name picks`; NaN without valgrind. */
function instructions(name: CaseName, picks: number): number {
  return callgrindInstructions(import.meta.url, name, picks);
}

/** Instructions per pick under callgrind (steadier than time on a shared machine), or why not. */
function callgrindSection(): string {
  if (quick) return 'Skipped in quick mode.';
  if (spawnSync('valgrind', ['--version']).status !== 0) return 'Skipped: valgrind is not installed.';
  const [few, many] = CALLGRIND_PICKS;
  const rows = CALLGRIND_CASES.map((name) => {
    log(`balancers callgrind: ${name}`);
    const perPick = (instructions(name, many) - instructions(name, few)) / (many - few);
    // A pick cheaper than the runs' own start-up noise (hashring's LRU hits) can come out negative.
    return [NAMES[name], perPick < 0 ? `n/a (${fixed(perPick, 0)}: below the noise)` : fixed(perPick, 0)];
  });
  return [
    `\`valgrind --tool=callgrind node --single-threaded … src/balancers.ts --callgrind <case> <picks>\`, run with ` +
      `${String(few)} and ${String(many)} picks over the key array at ${String(CALLGRIND_SIZE)} endpoints; instructions ` +
      'per pick = the difference in instructions ÷ the difference in picks (start-up and set-up cancel out). ' +
      'Only ours and their closest peers (two valgrind runs each).',
    '',
    table(['case', 'instructions / pick'], rows),
  ].join('\n');
}

/** `--callgrind <case> <picks>`: runs one case for that many picks and exits, for valgrind. */
function callgrindMode(): boolean {
  const at = process.argv.indexOf('--callgrind');
  if (at === -1) return false;
  const name = process.argv[at + 1] as CaseName;
  const picks = Number(process.argv[at + 2]);
  if (!(name in NAMES)) throw new Error(`--callgrind: unknown case ${name}`);
  const c = buildCase(name, CALLGRIND_SIZE);
  for (let i = 0; i < picks; i++) if (c.pick(KEYS[i & 4_095] as string) !== undefined) sink++;
  process.stdout.write(`${name} ${String(picks)} ${String(sink % 7)}\n`);
  return true;
}

if (isMain(import.meta.url) && !callgrindMode()) await sectionMain(runBalancersBench);
