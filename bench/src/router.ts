/**
 * Route matching side by side: @portcullis/router's `table.match` against find-my-way's bare
 * `find` and Hono's `RegExpRouter.match`, on one table of 94 path routes (static, `:param`,
 * wildcard and prefix mounts) plus 6 host/version routes (only find-my-way can express those, with
 * its built-in `host` and `version` constraints), over one seeded mix of 1,024 requests (hits of
 * each kind, 404s, 405s). Then the cost of a full decision: our match on the 100-route table plus a
 * sticky split assignment (`createSplit`) for every matched request.
 *
 * Every case walks the same request array. Rounds run each case for one short slice (about 10 ms),
 * in an order rotated every round; ratios are paired by round (the median of the rounds' ratios,
 * with their spread), so drift of the machine between rounds cancels out.
 *
 *     node --conditions=@portcullis/source --import tsx src/router.ts [--quick]
 *     node --conditions=@portcullis/source --import tsx src/router.ts --isolated   # only the per-process pairs
 */
import { createGatewayRequest, lowerCaseHeader, type GatewayRequest } from '@portcullis/core';
import {
  canonicalPath,
  createRouteTable,
  createSplit,
  stickyKey,
  type RouteDefinition,
  type RouteTable,
} from '@portcullis/router';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import FindMyWay from 'find-my-way';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import {
  callgrindInstructions,
  fixed,
  isMain,
  log,
  median,
  paired,
  quartiles,
  mulberry32,
  quick,
  sectionMain,
  settle,
  table,
  times,
  type Section,
} from './common.js';

/** The mix's size: 1,024 by default; `--requests <n>` takes its first n (the isolated "hot" rows use 128). */
const REQUESTS = requestCount();
const ROUNDS = quick ? 4 : 31;
const SLICE_MS = quick ? 3 : 10;
const SEED = 0x5eed_0013;

function requestCount(): number {
  const at = process.argv.indexOf('--requests');
  const n = at === -1 ? 1_024 : Number(process.argv[at + 1]);
  if (!Number.isInteger(n) || n < 64 || n > 1_024) throw new Error(`--requests takes 64 to 1024, got ${String(n)}`);
  return n;
}

type Kind = 'static' | 'param' | 'wildcard' | 'predicate' | '404' | '405';
const KINDS: readonly Kind[] = ['static', 'param', 'wildcard', 'predicate', '404', '405'];

/** One route of the shared table, in the form every router is given. */
interface Spec {
  readonly name: string;
  readonly path: string;
  readonly methods: readonly string[];
  readonly prefix?: boolean;
  /** Exact host, or `*.suffix`. */
  readonly host?: string;
  /** Accept-Version. */
  readonly version?: string;
}

const RESOURCES = [
  'users',
  'orders',
  'products',
  'carts',
  'invoices',
  'payments',
  'shipments',
  'reviews',
  'tickets',
  'teams',
  'projects',
  'reports',
];
const PAGES = [
  'health',
  'ready',
  'metrics',
  'version',
  'docs',
  'login',
  'logout',
  'signup',
  'about',
  'pricing',
  'contact',
  'blog',
  'careers',
  'terms',
  'privacy',
];

/** 94 path routes: statics first, then params, then wildcards (Hono answers in registration order). */
export function pathRoutes(): Spec[] {
  const statics: Spec[] = PAGES.map((p) => ({ name: `page-${p}`, path: `/${p}`, methods: ['GET'] }));
  statics.push({ name: 'docs-api', path: '/docs/api', methods: ['GET'] });
  const params: Spec[] = [];
  for (const r of RESOURCES) {
    statics.push({ name: `${r}-search`, path: `/api/search/${r}`, methods: ['GET'] });
    statics.push({ name: `${r}-list`, path: `/api/${r}`, methods: ['GET', 'POST'] });
    params.push(
      { name: `${r}-item`, path: `/api/${r}/:id`, methods: ['GET', 'PUT', 'PATCH', 'DELETE'] },
      { name: `${r}-comments`, path: `/api/${r}/:id/comments`, methods: ['GET', 'POST'] },
      { name: `${r}-comment`, path: `/api/${r}/:id/comments/:cid`, methods: ['GET', 'DELETE'] },
      { name: `${r}-action`, path: `/api/${r}/:id/actions/:action`, methods: ['POST'] },
    );
  }
  const wildcards: Spec[] = [
    { name: 'static', path: '/static/*', methods: ['GET'] },
    { name: 'assets', path: '/assets/*', methods: ['GET'] },
    { name: 'files', path: '/files/:bucket/*', methods: ['GET', 'PUT'] },
    { name: 'webhooks', path: '/webhooks/:provider/*', methods: ['POST'] },
    { name: 'legacy', path: '/legacy', methods: ['GET', 'POST'], prefix: true },
    { name: 'admin', path: '/admin', methods: ['GET'], prefix: true },
  ];
  return [...statics, ...params, ...wildcards];
}

/** 6 routes with conditions find-my-way can express (host: exact or regex; Accept-Version). */
export const PREDICATE_ROUTES: readonly Spec[] = [
  { name: 'users-item-api', path: '/api/users/:id', methods: ['GET'], host: 'api.example.com' },
  { name: 'users-list-api', path: '/api/users', methods: ['GET'], host: 'api.example.com' },
  { name: 'tenant-dashboard', path: '/dashboard', methods: ['GET'], prefix: true, host: '*.tenants.example.com' },
  { name: 'tenant-settings', path: '/settings/:section', methods: ['GET'], host: '*.tenants.example.com' },
  { name: 'orders-v2-list', path: '/api/orders', methods: ['GET', 'POST'], version: '2' },
  { name: 'orders-v2-item', path: '/api/orders/:id', methods: ['GET', 'PUT', 'PATCH', 'DELETE'], version: '2' },
];

interface Req {
  readonly kind: Kind;
  readonly method: string;
  readonly path: string;
  readonly headers: ReadonlyMap<string, string>;
  /** The same request as a GatewayRequest (what the guard hands to the table and the split). */
  readonly gateway: GatewayRequest;
  /** find-my-way's derived constraints for it, computed once (untimed: generous to find-my-way). */
  readonly derived: { host?: string; version?: string };
}

export function requests(): Req[] {
  const random = mulberry32(SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const id = (): string => String(1 + Math.floor(random() * 99_999));
  const shares: readonly [Kind, number][] = [
    ['static', 0.2],
    ['param', 0.3],
    ['wildcard', 0.15],
    ['predicate', 0.15],
    ['404', 0.1],
    ['405', 0.1],
  ];
  const out: Req[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    let u = random();
    let kind: Kind = 'static';
    for (const [k, share] of shares) {
      kind = k;
      if ((u -= share) < 0) break;
    }
    const headers = new Map<string, string>([
      ['host', 'gateway.internal'],
      ['x-user-id', `user-${String(Math.floor(random() * 10_000))}`],
    ]);
    let method = 'GET';
    let path: string;
    const r = pick(RESOURCES);
    switch (kind) {
      case 'static':
        path = pick([() => `/${pick(PAGES)}`, () => '/docs/api', () => `/api/search/${r}`, () => `/api/${r}`])();
        break;
      case 'param':
        [method, path] = pick<() => [string, string]>([
          () => [pick(['GET', 'PUT', 'DELETE']), `/api/${r}/${id()}`],
          () => ['GET', `/api/${r}/${id()}/comments`],
          () => ['GET', `/api/${r}/${id()}/comments/${id()}`],
          () => ['POST', `/api/${r}/${id()}/actions/${pick(['approve', 'cancel', 'archive'])}`],
        ])();
        break;
      case 'wildcard':
        [method, path] = pick<() => [string, string]>([
          () => ['GET', `/static/js/app.${id()}.js`],
          () => ['GET', `/assets/img/${id()}/logo.png`],
          () => ['GET', `/files/bucket-${id()}/a/b/${id()}.pdf`],
          () => ['POST', `/webhooks/${pick(['stripe', 'github', 'slack'])}/events/${id()}`],
          () => ['GET', `/legacy/app/${id()}`],
          () => ['GET', '/admin'],
        ])();
        break;
      case 'predicate':
        path = pick([
          () => {
            headers.set('host', 'api.example.com');
            return `/api/users/${id()}`;
          },
          () => {
            headers.set('host', `t${id()}.tenants.example.com`);
            return `/dashboard/widgets/${id()}`;
          },
          () => {
            headers.set('host', `t${id()}.tenants.example.com`);
            return `/settings/${pick(['billing', 'members', 'sso'])}`;
          },
          () => {
            headers.set('accept-version', '2');
            return `/api/orders/${id()}`;
          },
        ])();
        break;
      case '404':
        path = pick([
          () => `/nope/${id()}`,
          () => `/api/unknown/${id()}`,
          () => `/api/${r}/${id()}/comments/${id()}/extra`,
          () => `/${pick(PAGES)}/more`,
        ])();
        break;
      case '405':
        [method, path] = pick<() => [string, string]>([
          () => ['DELETE', `/api/${r}`],
          () => ['PATCH', `/${pick(PAGES)}`],
          () => ['PUT', `/api/${r}/${id()}/comments`],
          () => ['GET', `/api/${r}/${id()}/actions/approve`],
        ])();
        break;
    }
    // An HTTP parser hands out flat strings; template literals build cons strings, which every
    // router would pay to flatten on its first character read. Give all of them what a server gives.
    path = flat(path);
    for (const [name, value] of headers) headers.set(name, flat(value));
    const host = headers.get('host');
    const version = headers.get('accept-version');
    out.push({
      kind,
      method,
      path,
      headers,
      gateway: createGatewayRequest({ method, url: path, header: (name) => headers.get(name), ip: '203.0.113.7' }),
      // find-my-way's `version` strategy takes a semver range: `Accept-Version: 2` is asked as `2.x`.
      derived: {
        ...(host === undefined ? {} : { host }),
        ...(version === undefined ? {} : { version: `${version}.x` }),
      },
    });
  }
  return out;
}

type Handler = (req: unknown, res: unknown, params: unknown, store: unknown) => void;
const noop: Handler = () => undefined;

export function fmwRouter(specs: readonly Spec[]): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
  const router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false });
  for (const s of specs) {
    const constraints: Record<string, unknown> = {};
    if (s.host !== undefined)
      constraints['host'] = s.host.startsWith('*.')
        ? new RegExp(`^.+${s.host.slice(1).replace(/\./g, '\\.')}$`)
        : s.host;
    if (s.version !== undefined) constraints['version'] = `${s.version}.0.0`;
    const paths = s.prefix === true ? [s.path, `${s.path}/*`] : [s.path];
    for (const path of paths)
      router.on(s.methods as FindMyWay.HTTPMethod[], path, { constraints }, noop, { name: s.name });
  }
  return router;
}

function honoRouter(specs: readonly Spec[]): RegExpRouter<string> {
  const router = new RegExpRouter<string>();
  for (const s of specs) {
    const paths = s.prefix === true ? [s.path, `${s.path}/*`] : [s.path];
    for (const path of paths) for (const method of s.methods) router.add(method, path, s.name);
  }
  return router;
}

function oursTable(specs: readonly Spec[]): RouteTable {
  return createRouteTable(
    specs.map((s): RouteDefinition => ({
      name: s.name,
      path: s.path,
      methods: [...s.methods],
      ...(s.prefix === true ? { prefix: true } : {}),
      ...(s.host === undefined ? {} : { host: s.host }),
      ...(s.version === undefined ? {} : { version: s.version }),
    })),
  );
}

/** `s` as one sequential string, as Node's HTTP parser creates header values and URLs. */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/** One lookup: answers the matched route's name (or undefined) and its params. */
type Lookup = (req: Req) => { name: string; params: Readonly<Record<string, unknown>>; variant?: string } | undefined;

interface Routers {
  readonly fmwPath: Lookup;
  readonly fmwFull: Lookup;
  readonly hono: Lookup;
  readonly oursPath: Lookup;
  readonly oursFull: Lookup;
  readonly decision: Lookup;
  /** Parts of ours' cost, alone: the path canonicalisation, and the split assignment. */
  readonly canonical: Lookup;
  readonly assign: Lookup;
  /** No router: the loop and a result object, what every case pays on top of its router. */
  readonly harness: Lookup;
  /**
   * The floor of a decision: find-my-way's `find()` with its constraints derived from the request
   * in the timing, plus the least a sticky split does (see `leastSplit`); and the same with the
   * constraints handed over ready (as the `fmwFull` case has them, outside the timing).
   */
  readonly fmwLeast: Lookup;
  readonly fmwLeastPre: Lookup;
}

/**
 * The least a sticky split does, to set beside ours: the override header (`always`/`never`), the
 * key header, one FNV-1a hash of the key against the 90/10 weights. Nothing else ours does: no
 * ramp that keeps users in their variant across more than two variants, no segments, flags,
 * cookie or IP fallback, no guard against a throwing key function, no key length cap. The caller
 * reads both headers through the request every guard gets, by the cheapest path it has
 * (`lowerCaseHeader`), so no closure is made per request.
 */
function leastSplit(override: string | undefined, key: string | undefined): string {
  if (override === 'always') return 'canary';
  if (override === 'never') return 'stable';
  if (key === undefined) return 'stable';
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 100 < 90 ? 'stable' : 'canary';
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

function routers(): Routers {
  const paths = pathRoutes();
  const full = [...paths, ...PREDICATE_ROUTES];
  const fmwPath = fmwRouter(paths);
  const fmwFull = fmwRouter(full);
  const hono = honoRouter(paths);
  const oursPath = oursTable(paths);
  const oursFull = oursTable(full);
  const split = createSplit({
    name: 'checkout',
    variants: [
      { name: 'stable', weight: 90 },
      { name: 'canary', weight: 10 },
    ],
    key: stickyKey({ header: 'x-user-id' }),
  });
  /** find-my-way's `find()` with these derived constraints, then the least sticky split. */
  const floor = (
    req: Req,
    derived: { host?: string | undefined; version?: string | undefined },
  ): ReturnType<Lookup> => {
    const found = fmwFull.find(req.method as FindMyWay.HTTPMethod, req.path, derived);
    if (found === null) return undefined;
    const g = req.gateway;
    const variant = leastSplit(lowerCaseHeader(g, 'x-canary'), lowerCaseHeader(g, 'x-user-id'));
    return { name: (found.store as Spec).name, params: found.params, variant };
  };
  const ours =
    (t: RouteTable): Lookup =>
    (req) => {
      const result = t.match(req.gateway);
      return result.kind === 'matched' ? { name: result.route.name, params: result.params } : undefined;
    };
  return {
    fmwPath: (req) => {
      const found = fmwPath.find(req.method as FindMyWay.HTTPMethod, req.path);
      return found === null ? undefined : { name: (found.store as Spec).name, params: found.params };
    },
    fmwFull: (req) => {
      const found = fmwFull.find(req.method as FindMyWay.HTTPMethod, req.path, req.derived);
      return found === null ? undefined : { name: (found.store as Spec).name, params: found.params };
    },
    hono: (req) => {
      const [matches, stash] = hono.match(req.method, req.path);
      const first = matches[0];
      if (first === undefined) return undefined;
      const [name, map] = first;
      // What `c.req.param()` builds: the params by name (RegExpRouter answers indexes into a stash).
      if (stash === undefined) return { name, params: map };
      const params: Record<string, string> = {};
      for (const key in map) params[key] = stash[map[key] as number] as string;
      return { name, params };
    },
    oursPath: ours(oursPath),
    oursFull: ours(oursFull),
    decision: (req) => {
      const result = oursFull.match(req.gateway);
      if (result.kind !== 'matched') return undefined;
      const { variant } = split.assign(req.gateway);
      return { name: result.route.name, params: result.params, variant };
    },
    fmwLeast: (req) => {
      // As Fastify's router derives them for every request (its strategies read `req.headers`):
      // here straight from the fixture's header Map; the `2` -> `2.x` spelling find-my-way's
      // semver versions need is taken ready-made (a client of such a service would send it).
      const headers = req.headers;
      const version = headers.get('accept-version') === undefined ? undefined : req.derived.version;
      return floor(req, { host: headers.get('host'), version });
    },
    fmwLeastPre: (req) => floor(req, req.derived),
    canonical: (req) => ({ name: canonicalPath(req.path), params: {} }),
    assign: (req) => ({ name: split.assign(req.gateway).variant, params: {} }),
    harness: (req) => ({ name: req.method, params: NO_PARAMS }),
  };
}

/** Every router must name the same route (and params) for every request before anything is timed. */
function checkAgreement(r: Routers, reqs: readonly Req[]): void {
  const same = (a: Lookup, b: Lookup, label: string): void => {
    for (const req of reqs) {
      const x = a(req);
      const y = b(req);
      const sx = x === undefined ? '-' : `${x.name} ${JSON.stringify(x.params, Object.keys(x.params).sort())}`;
      const sy = y === undefined ? '-' : `${y.name} ${JSON.stringify(y.params, Object.keys(y.params).sort())}`;
      // Hono does not capture a wildcard's tail as a param; compare names and named params only.
      const strip = (s: string): string => s.replace(/,?"\*":"[^"]*"/, '').replace('{,', '{');
      if (strip(sx) !== strip(sy)) throw new Error(`${label} disagree on ${req.method} ${req.path}: ${sx} vs ${sy}`);
    }
  };
  same(r.oursPath, r.fmwPath, 'ours/find-my-way (path table)');
  same(r.oursPath, r.hono, 'ours/Hono (path table)');
  same(r.oursFull, r.fmwFull, 'ours/find-my-way (100 routes)');
  same(r.decision, r.fmwLeast, 'ours/the floor (100 routes)');
  same(r.decision, r.fmwLeastPre, 'ours/the floor, constraints ready (100 routes)');
  const kinds = new Map<Kind, { hits: number; all: number }>();
  for (const req of reqs) {
    const k = kinds.get(req.kind) ?? { hits: 0, all: 0 };
    k.all++;
    if (r.oursFull(req) !== undefined) k.hits++;
    kinds.set(req.kind, k);
  }
  for (const [kind, { hits, all }] of kinds)
    if ((kind === '404' || kind === '405') !== (hits === 0) || (hits !== 0 && hits !== all))
      throw new Error(`request kind ${kind}: ${String(hits)} of ${String(all)} matched`);
}

interface Case {
  readonly name: string;
  readonly lookup: Lookup;
}

let sink = 0;

/** Nanoseconds per lookup over one slice: the request array walked whole, as often as fits. */
function slice(lookup: Lookup, reqs: readonly Req[], ms = SLICE_MS): number {
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (const req of reqs) if (lookup(req) !== undefined) sink++;
    n += reqs.length;
    elapsed = performance.now() - t0;
  } while (elapsed < ms);
  return (elapsed * 1e6) / n;
}

/** ns per lookup, per case and per round (round order kept, for paired ratios). */
async function measure(cases: readonly Case[], reqs: readonly Req[], label: string): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) for (let i = 0; i < 3; i++) slice(c.lookup, reqs); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const order = cases.map((_, i) => cases[(i + round) % cases.length] as Case);
    if (round % 2 === 1) order.reverse();
    for (const c of order) samples.get(c.name)?.push(slice(c.lookup, reqs));
    if (round % 10 === 9) {
      log(`router ${label}: round ${String(round + 1)}/${String(ROUNDS)}`);
      await settle(5);
    }
  }
  return samples;
}

const CASES = {
  fmwPath: 'find-my-way 9 `find()`, 94 path routes',
  hono: 'Hono 4 RegExpRouter `match()` + params, 94 path routes',
  oursPath: '**ours** `table.match()`, 94 path routes',
  fmwFull: 'find-my-way 9 `find()` with host/version constraints, 100 routes',
  oursFull: '**ours** `table.match()`, 100 routes',
  decision: '**ours, full decision**: `table.match()` + `split.assign()`, 100 routes',
  fmwLeast: 'floor: find-my-way, constraints derived per request, + the least sticky split, 100 routes',
  fmwLeastPre: 'floor with the constraints handed over ready (untimed), 100 routes',
  canonical: '(part of ours: `canonicalPath()` alone)',
  assign: '(part of the decision: `split.assign()` alone)',
  harness: '(no router: the loop and a result object every case pays too)',
} as const;

export async function runRouterBench(): Promise<Section> {
  const reqs = requests();
  const r = routers();
  checkAgreement(r, reqs);
  log(`router: ${String(reqs.length)} requests, every router agrees on every one`);
  const cases: Case[] = (Object.keys(CASES) as (keyof typeof CASES)[]).map((k) => ({ name: CASES[k], lookup: r[k] }));

  const all = await measure(cases, reqs, 'mix');
  const byKind = new Map<Kind, Map<string, number[]>>();
  for (const kind of KINDS) {
    byKind.set(
      kind,
      await measure(
        cases,
        reqs.filter((q) => q.kind === kind),
        kind,
      ),
    );
  }

  const perCase = table(
    ['case', 'ns / lookup (median)', 'rounds: min–max', ...KINDS.map((k) => `${k} (ns)`)],
    cases.map((c) => {
      const [min, , med, , max] = quartiles(all.get(c.name) ?? []);
      return [
        c.name,
        fixed(med, 0),
        `${fixed(min, 0)}–${fixed(max, 0)}`,
        ...KINDS.map((k) => fixed(median(byKind.get(k)?.get(c.name) ?? []), 0)),
      ];
    }),
  );

  const ratioRow = (label: string, a: string, b: string, target?: number): string[] => {
    const p = paired(all, a, b);
    const mark = target === undefined ? '' : p.median <= target ? ' ✅' : ' ❌';
    return [label, `${times(p.median)}${mark}`, p.spread];
  };
  const ratios = table(
    ['ratio (time per lookup, paired by round)', 'median', 'interquartile (and full) range of the rounds'],
    [
      ratioRow('ours ÷ find-my-way, 94 path routes (headline, like for like)', CASES.oursPath, CASES.fmwPath),
      ratioRow('ours ÷ Hono RegExpRouter, 94 path routes', CASES.oursPath, CASES.hono),
      ratioRow('Hono RegExpRouter ÷ find-my-way, 94 path routes', CASES.hono, CASES.fmwPath),
      ratioRow('ours ÷ find-my-way with constraints, 100 routes', CASES.oursFull, CASES.fmwFull),
      ratioRow('**full decision ÷ find-my-way bare `find()`** (target ≤ 1.5×)', CASES.decision, CASES.fmwPath, 1.5),
      ratioRow('full decision ÷ find-my-way with constraints, 100 routes', CASES.decision, CASES.fmwFull, 1.5),
      ratioRow(
        'floor (find-my-way deriving its constraints + least split) ÷ find-my-way bare',
        CASES.fmwLeast,
        CASES.fmwPath,
      ),
      ratioRow('floor with the constraints handed over ready ÷ find-my-way bare', CASES.fmwLeastPre, CASES.fmwPath),
      ratioRow('full decision ÷ the floor', CASES.decision, CASES.fmwLeast),
    ],
  );
  const kindRatios = table(
    ['request kind', 'ours ÷ find-my-way (94)', 'ours ÷ Hono (94)', 'ours ÷ fmw (100)', 'full decision ÷ fmw bare'],
    KINDS.map((k) => {
      const s = byKind.get(k) ?? new Map<string, number[]>();
      return [
        k,
        times(paired(s, CASES.oursPath, CASES.fmwPath).median),
        times(paired(s, CASES.oursPath, CASES.hono).median),
        times(paired(s, CASES.oursFull, CASES.fmwFull).median),
        times(paired(s, CASES.decision, CASES.fmwPath).median),
      ];
    }),
  );
  log(`router: sink ${String(sink % 7)}`);
  const count = (k: Kind): number => reqs.filter((q) => q.kind === k).length;
  return {
    title: 'Route matching: time per lookup',
    markdown: [
      `${String(reqs.length)} seeded requests (seed 0x${SEED.toString(16)}): ` +
        KINDS.map((k) => `${String(count(k))} ${k}`).join(', ') +
        '. The table: 94 path routes (31 static, 48 with params, 6 wildcard or prefix mounts; 5 methods) ' +
        'and, for the 100-route cases, 6 more with a host (exact or `*.tenants.example.com`) or an ' +
        '`Accept-Version`: find-my-way expresses them with its built-in `host` (a RegExp for the wildcard) ' +
        'and `version` constraints (derived constraints computed once per request, outside the timing), ' +
        'Hono cannot, so it runs the 94-route table only. Before timing, every router must name the same ' +
        'route and params for every request. Each case walks the whole request array for slices of ' +
        `${String(SLICE_MS)} ms, ${String(ROUNDS)} rounds, order rotated (and reversed every other round); ` +
        'ratios are the median of per-round ratios. Ours does more per lookup than a bare `find()`: it ' +
        'checks the path is canonical (dot segments, escapes), percent-decodes params, and on a miss ' +
        'walks the path once more to tell 404 from 405 (and build `Allow`); the full decision adds ' +
        'a sticky split (`x-user-id` hashed, 90/10 stable/canary, the `x-canary` override header read).',
      '',
      '### Ratios (above 1: ours takes longer)',
      '',
      ratios,
      '',
      '### Time per lookup',
      '',
      perCase,
      '',
      '### Paired ratios by request kind',
      '',
      kindRatios,
      '',
      '### Each router alone in its process',
      '',
      isolatedSection(),
      '',
      '### Instructions per lookup (callgrind)',
      '',
      callgrindSection(),
      '',
    ].join('\n'),
  };
}

const CALLGRIND_CASES: readonly (keyof typeof CASES)[] = [
  'fmwPath',
  'hono',
  'oursPath',
  'fmwFull',
  'oursFull',
  'decision',
  'fmwLeast',
  'harness',
];
// Long enough that JIT warm-up is a small share of the difference; V8 single-threaded so that its
// background compiler and GC threads do not add a varying count (they made the figures jump ±2×).
const CALLGRIND_LOOKUPS = [102_400, 512_000] as const;

/** Instructions (valgrind's `Collected`) of one run of `--callgrind name lookups`; NaN without valgrind. */
function instructions(name: string, lookups: number): number {
  // --predictable: no concurrent recompilation, whose timing moved a count by ±170 per lookup.
  return callgrindInstructions(import.meta.url, name, lookups, ['--predictable']);
}

/** Instructions per lookup under callgrind (steadier than time on a shared machine), or why not. */
function callgrindSection(): string {
  if (quick) return 'Skipped in quick mode.';
  if (spawnSync('valgrind', ['--version']).status !== 0) return 'Skipped: valgrind is not installed.';
  const [few, many] = CALLGRIND_LOOKUPS;
  const rows = CALLGRIND_CASES.map((name) => {
    log(`router callgrind: ${name}`);
    const perLookup = (instructions(name, many) - instructions(name, few)) / (many - few);
    return { name, perLookup };
  });
  const base = rows.find((r) => r.name === 'fmwPath')?.perLookup ?? Number.NaN;
  return [
    `\`valgrind --tool=callgrind node --single-threaded --predictable … src/router.ts --callgrind <case> <lookups>\`, run with ${String(few)} and ` +
      `${String(many)} lookups over the same mix; instructions per lookup = the difference in instructions ÷ the ` +
      'difference in lookups (start-up, table building and the agreement check cancel out; JIT warm-up mostly does).',
    '',
    table(
      ['case', 'instructions / lookup', '÷ find-my-way bare'],
      rows.map((r) => [CASES[r.name], fixed(r.perLookup, 0), times(r.perLookup / base)]),
    ),
  ].join('\n');
}

/**
 * `--callgrind <case> <lookups>`: runs one case for that many lookups over the mix and exits, for
 * `valgrind --tool=callgrind`; two runs with different counts give instructions per lookup (the
 * difference over the difference in lookups: start-up and the check cancel out).
 */
function callgrindMode(): boolean {
  const at = process.argv.indexOf('--callgrind');
  if (at === -1) return false;
  const name = process.argv[at + 1] as keyof typeof CASES;
  const lookups = Number(process.argv[at + 2]);
  const reqs = requests();
  const r = routers();
  checkAgreement(r, reqs);
  const lookup = r[name];
  for (let i = 0; i < lookups; i++) if (lookup(reqs[i % reqs.length] as Req) !== undefined) sink++;
  process.stdout.write(`${name} ${String(lookups)} ${String(sink % 7)}\n`);
  return true;
}

type Pair = readonly [keyof typeof CASES, keyof typeof CASES];
/** The pairs timed each in a process of its own: ours, then the find-my-way it is compared with. */
const ISOLATED_PAIRS: readonly Pair[] = [
  ['decision', 'fmwPath'],
  ['fmwLeast', 'fmwPath'],
  ['fmwLeastPre', 'fmwPath'],
  ['decision', 'fmwLeast'],
  ['oursFull', 'fmwFull'],
  ['oursPath', 'fmwPath'],
];
/**
 * The same decision pairs over the mix's first 128 requests: their objects stay in the cache, as a
 * request's are when a gateway decides on it right after its adapter built it. Over 1,024, the
 * reads a decision makes past the path (headers: the request, its lookup, the header store, the
 * value) mostly miss, and find-my-way's bare `find()` makes none of them.
 */
const HOT_REQUESTS = 128;
const HOT_PAIRS: readonly Pair[] = [
  ['decision', 'fmwPath'],
  ['fmwLeast', 'fmwPath'],
  ['fmwLeastPre', 'fmwPath'],
  ['decision', 'fmwLeast'],
];
const ISOLATED_ROUNDS = quick ? 2 : 9;
const ISOLATED_WARM_MS = quick ? 100 : 400;
const ISOLATED_MEASURE_MS = quick ? 100 : 600;

/**
 * The cases above share one process, as a benchmark must to alternate them every 10 ms, but no
 * application holds six routers: the same `match` (or find-my-way's `find`) serving two tables, and
 * every router's code warmed next to the others', leave V8 call sites more polymorphic than in a
 * service with one table. Here every slice is a fresh process that builds the routers, runs only
 * one case (warm-up, then the timed stretch) and exits; rounds alternate the processes of a pair in
 * rotated order, and ratios are paired by round as above. Process start-up, table building and JIT
 * warm-up stay outside the timing.
 */
function isolatedSection(): string {
  const rows = [...isolatedRows(ISOLATED_PAIRS, REQUESTS), ...isolatedRows(HOT_PAIRS, HOT_REQUESTS)];
  return [
    `Each slice is its own \`node\` process (\`src/router.ts --time <case> <warm-up ms> <ms>\`): it builds ` +
      `the routers, runs one case over the request mix for ${String(ISOLATED_WARM_MS)} ms of warm-up, then ` +
      `${String(ISOLATED_MEASURE_MS)} ms timed, and prints ns per lookup. ${String(ISOLATED_ROUNDS)} rounds, ` +
      'the processes of every case in rotated order (reversed every other round); ratios paired by round. ' +
      'In one process, the same `match` serving two tables and six routers warmed side by side make call ' +
      'sites more polymorphic than in a service with one table (find-my-way has two instances there too). ' +
      `The last rows run the first ${String(HOT_REQUESTS)} requests of the mix only (\`--requests ${String(HOT_REQUESTS)}\`): ` +
      "their objects stay in the cache, as a request's are when the gateway decides on it just after its " +
      "adapter built it; over all 1,024, the header reads of a decision mostly miss the cache and find-my-way's " +
      'bare `find()` makes none. The floor is find-my-way deriving its host and version constraints from ' +
      'the request (as Fastify does for every request) plus the least sticky split (override and key headers ' +
      'read through the request, one hash against the weights): what find-my-way adds to its bare match to ' +
      'make the same decision; and the same with the constraints handed over ready, outside the timing.',
    '',
    table(
      [
        'ratio (time per lookup)',
        'requests',
        'ours ns (median)',
        'theirs ns (median)',
        'median of rounds',
        'interquartile (and full) range',
      ],
      rows,
    ),
  ].join('\n');
}

/** Rows of the isolated table for `pairs`, timed over the mix's first `requests` requests. */
function isolatedRows(pairs: readonly Pair[], requests: number): string[][] {
  const cases = [...new Set(pairs.flat())];
  const samples = new Map<string, number[]>(cases.map((c) => [c, []]));
  for (let round = 0; round < ISOLATED_ROUNDS; round++) {
    log(`router isolated (${String(requests)} requests): round ${String(round + 1)}/${String(ISOLATED_ROUNDS)}`);
    const order = cases.map((_, i) => cases[(i + round) % cases.length] as keyof typeof CASES);
    if (round % 2 === 1) order.reverse();
    for (const name of order) samples.get(name)?.push(timeInChild(name, requests));
  }
  return pairs.map(([ours, theirs]) => {
    const p = paired(samples, ours, theirs);
    const target = ours === 'decision' && theirs === 'fmwPath' ? (p.median <= 1.5 ? ' ✅' : ' ❌') : '';
    return [
      `${CASES[ours]} ÷ ${CASES[theirs]}`,
      String(requests),
      fixed(median(samples.get(ours) ?? []), 0),
      fixed(median(samples.get(theirs) ?? []), 0),
      `${times(p.median)}${target}`,
      p.spread,
    ];
  });
}

/** ns per lookup of one case over the mix's first `requests`, timed in a child process of its own (see `timeMode`). */
function timeInChild(name: keyof typeof CASES, requests: number): number {
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--time',
      name,
      String(ISOLATED_WARM_MS),
      String(ISOLATED_MEASURE_MS),
      '--requests',
      String(requests),
    ],
    { encoding: 'utf8' },
  );
  const ns = Number(child.stdout.trim().split(' ').at(-1));
  if (child.status !== 0 || !Number.isFinite(ns)) throw new Error(`router --time ${name} failed: ${child.stderr}`);
  return ns;
}

/**
 * `--time <case> <warm-up ms> <ms>`: builds the routers, runs one case over the mix (no agreement
 * check: the parent ran it, and it would warm every router's code in this process too), then times
 * it and prints `<case> <ns per lookup>`.
 */
function timeMode(): boolean {
  const at = process.argv.indexOf('--time');
  if (at === -1) return false;
  const name = process.argv[at + 1] as keyof typeof CASES;
  const warmMs = Number(process.argv[at + 2]);
  const measureMs = Number(process.argv[at + 3]);
  const reqs = requests();
  const lookup = routers()[name];
  slice(lookup, reqs, warmMs);
  process.stdout.write(`${name} ${String(sink % 7)} ${String(slice(lookup, reqs, measureMs))}\n`);
  return true;
}

if (isMain(import.meta.url) && !callgrindMode() && !timeMode()) {
  if (process.argv.includes('--isolated')) process.stdout.write(`${isolatedSection()}\n`);
  else await sectionMain(runRouterBench);
}
