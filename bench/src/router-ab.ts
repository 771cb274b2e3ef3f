/**
 * Two revisions of @portcullis/router side by side in one process: the router benchmark's table
 * (100 routes), split and request mix (`router.ts`), each revision's `table.match()`,
 * `split.assign()` and full decision timed in the same rounds as find-my-way's bare `find()`,
 * order rotated every round. On a machine shared with other work, ratios of the two revisions
 * paired by round (and the fastest round of each) say more than two runs minutes apart.
 *
 * Each revision is given as a bundle of `packages/router/src/index.ts` with `@portcullis/core`
 * left external, e.g. for the working tree and a commit:
 *
 *     esbuild ../packages/router/src/index.ts --bundle --platform=node --format=esm \
 *       --conditions=@portcullis/source --external:@portcullis/core --outfile=tmp/router-new.mjs \
 *       --banner:js="import { createRequire } from 'module'; const require = createRequire(import.meta.url);"
 *     node --conditions=@portcullis/source --import tsx src/router-ab.ts tmp/router-old.mjs tmp/router-new.mjs [kinds]
 *
 * `kinds`: `all` (default) or a comma-separated list of request kinds (`param,405`...).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Router from '@portcullis/router';
import type FindMyWay from 'find-my-way';
import { fmwRouter, pathRoutes, PREDICATE_ROUTES, requests } from './router.js';

type Lookup = (req: ReturnType<typeof requests>[number]) => unknown;
type RouterModule = Pick<typeof Router, 'createRouteTable' | 'createSplit' | 'stickyKey'>;

const ROUNDS = 61;
const SLICE_MS = 8;

function lookups(m: RouterModule): Record<'match' | 'assign' | 'decision', Lookup> {
  const table = m.createRouteTable(
    [...pathRoutes(), ...PREDICATE_ROUTES].map((s) => ({
      name: s.name,
      path: s.path,
      methods: [...s.methods],
      ...(s.prefix === true ? { prefix: true } : {}),
      ...(s.host === undefined ? {} : { host: s.host }),
      ...(s.version === undefined ? {} : { version: s.version }),
    })),
  );
  const split = m.createSplit({
    name: 'checkout',
    variants: [
      { name: 'stable', weight: 90 },
      { name: 'canary', weight: 10 },
    ],
    key: m.stickyKey({ header: 'x-user-id' }),
  });
  return {
    match: (req) => {
      const result = table.match(req.gateway);
      return result.kind === 'matched' ? { name: result.route.name, params: result.params } : undefined;
    },
    assign: (req) => ({ name: split.assign(req.gateway).variant, params: {} }),
    decision: (req) => {
      const result = table.match(req.gateway);
      if (result.kind !== 'matched') return undefined;
      const { variant } = split.assign(req.gateway);
      return { name: result.route.name, params: result.params, variant };
    },
  };
}

const [oldPath, newPath, kindList = 'all'] = process.argv.slice(2);
if (oldPath === undefined || newPath === undefined)
  throw new Error('usage: router-ab.ts <old bundle> <new bundle> [kinds]');
const load = async (path: string): Promise<RouterModule> =>
  (await import(pathToFileURL(resolve(path)).href)) as RouterModule;
const [older, newer] = [lookups(await load(oldPath)), lookups(await load(newPath))];
const fmw = fmwRouter(pathRoutes());
const cases: [string, Lookup][] = [
  [
    'fmw',
    (req) => {
      const found = fmw.find(req.method as FindMyWay.HTTPMethod, req.path);
      return found === null ? undefined : found.params;
    },
  ],
];
for (const k of ['match', 'assign', 'decision'] as const) cases.push([`old ${k}`, older[k]], [`new ${k}`, newer[k]]);

let sink = 0;
const sorted = (a: readonly number[]): number[] => [...a].sort((x, y) => x - y);
const median = (a: readonly number[]): number => sorted(a)[a.length >> 1] as number;
const quantile = (a: readonly number[], p: number): number => sorted(a)[Math.floor(a.length * p)] as number;
const all = requests();
for (const kind of kindList.split(',')) {
  const list = kind === 'all' ? all : all.filter((q) => q.kind === kind);
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let round = -3; round < ROUNDS; round++) {
    const order = cases.map((_, i) => cases[(i + round + 3) % cases.length] as [string, Lookup]);
    if (round % 2 !== 0) order.reverse();
    for (const [name, lookup] of order) {
      const t0 = performance.now();
      let n = 0;
      let elapsed = 0;
      do {
        for (const req of list) if (lookup(req) !== undefined) sink++;
        n += list.length;
        elapsed = performance.now() - t0;
      } while (elapsed < SLICE_MS);
      if (round >= 0) samples.get(name)?.push((elapsed * 1e6) / n);
    }
  }
  const of = (name: string): number[] => samples.get(name) ?? [];
  const ratio = (a: string, b: string): string => {
    const rs = of(a).map((x, i) => x / (of(b)[i] as number));
    return `${median(rs).toFixed(2)}× (${quantile(rs, 0.25).toFixed(2)}–${quantile(rs, 0.75).toFixed(2)})`;
  };
  const fastest = (name: string): number => Math.min(...of(name));
  process.stdout.write(
    `[${kind}] ns per lookup, median (fastest round): ${cases.map(([c]) => `${c} ${median(of(c)).toFixed(0)} (${fastest(c).toFixed(0)})`).join(', ')}\n` +
      `[${kind}] new ÷ old, paired: match ${ratio('new match', 'old match')}, assign ${ratio('new assign', 'old assign')}, decision ${ratio('new decision', 'old decision')}\n` +
      `[${kind}] decision ÷ find-my-way bare, paired: old ${ratio('old decision', 'fmw')}, new ${ratio('new decision', 'fmw')}\n`,
  );
}
process.stdout.write(`sink ${String(sink % 7)}\n`);
