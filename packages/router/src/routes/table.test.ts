import { isInvalidOptionError } from '@portcullis/core';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isAmbiguousRoutesError } from './errors.js';
import type { RouteDefinition } from './route.js';
import { takeSteps } from './segment-tree.js';
import { createRouteTable, type RouteMatchResult } from './table.js';

interface Req {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  query?: string;
}
const request = ({ method = 'GET', path, headers = {}, query = '' }: Req) => ({
  method,
  path,
  query: new URLSearchParams(query),
  header: (name: string) => headers[name.toLowerCase()],
});
const matched = (result: RouteMatchResult): string | undefined =>
  result.kind === 'matched' ? result.route.name : undefined;

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('route table', () => {
  const table = createRouteTable([
    { name: 'user', path: '/users/:id', methods: ['GET', 'DELETE'] },
    { name: 'me', path: '/users/me', methods: ['GET'] },
    { name: 'beta-user', path: '/users/:id', methods: ['GET'], headers: { 'X-Beta': '1' } },
    { name: 'debug-user', path: '/users/:id', methods: ['GET'], query: { debug: true }, cookies: { staff: 'yes' } },
    { name: 'files', path: '/files', prefix: true },
    { name: 'v2-orders', path: '/orders', version: '2' },
    { name: 'orders', path: '/orders' },
    { name: 'tenant', path: '/', prefix: true, host: '*.example.com' },
    { name: 'admin-tenant', path: '/', prefix: true, host: 'admin.example.com' },
  ]);
  const name = (req: Req) => matched(table.match(request(req)));

  test('static beats param beats wildcard', () => {
    expect(name({ path: '/users/me' })).toBe('me');
    expect(name({ path: '/users/7' })).toBe('user');
    expect(name({ path: '/files/a/b' })).toBe('files');
    expect(table.match(request({ path: '/files/a/b' }))).toMatchObject({ params: { '*': 'a/b' } });
    expect(table.match(request({ path: '/users/a%20b' }))).toMatchObject({ params: { id: 'a b' } });
  });

  test('among one path shape, more conditions win; a failed condition falls back', () => {
    expect(name({ path: '/users/7', headers: { 'x-beta': '1' } })).toBe('beta-user');
    expect(name({ path: '/users/7', headers: { 'x-beta': '2' } })).toBe('user');
    expect(name({ path: '/users/7', query: 'debug', headers: { cookie: 'a=1; staff=yes' } })).toBe('debug-user');
    expect(name({ path: '/users/7', query: 'debug', headers: { cookie: 'staff=no' } })).toBe('user');
  });

  test('a static route whose method does not fit falls back to a param route', () => {
    expect(name({ method: 'DELETE', path: '/users/me' })).toBe('user');
  });

  test('versions by header (accept-version by default); unversioned routes take the rest', () => {
    expect(name({ path: '/orders', headers: { 'accept-version': '2' } })).toBe('v2-orders');
    expect(name({ path: '/orders', headers: { 'accept-version': '1' } })).toBe('orders');
    expect(name({ path: '/orders' })).toBe('orders');
  });

  test('versions by path prefix', () => {
    const byPath = createRouteTable(
      [
        { name: 'v1', path: '/users', version: '1' },
        { name: 'v2', path: '/users', version: '2' },
      ],
      { versioning: 'path' },
    );
    expect(matched(byPath.match(request({ path: '/v2/users' })))).toBe('v2');
    expect(matched(byPath.match(request({ path: '/v1/users' })))).toBe('v1');
    expect(byPath.match(request({ path: '/users' })).kind).toBe('not-found');
  });

  test('exact host beats a wildcard host; a wildcard needs at least one label; the port is ignored', () => {
    expect(name({ path: '/x', headers: { host: 'Admin.Example.com:8443' } })).toBe('admin-tenant');
    expect(name({ path: '/x', headers: { host: 'a.b.example.com' } })).toBe('tenant');
    expect(name({ path: '/x', headers: { host: 'example.com' } })).toBeUndefined();
  });

  test('405 with the allowed methods when only other methods match; 404 otherwise', () => {
    expect(table.match(request({ method: 'POST', path: '/users/7' }))).toEqual({
      kind: 'method-not-allowed',
      allow: ['DELETE', 'GET', 'HEAD'],
      path: '/users/7',
    });
    expect(table.match(request({ path: '/nothing' }))).toEqual({ kind: 'not-found', path: '/nothing' });
    expect(name({ method: 'HEAD', path: '/users/me' })).toBe('me');
  });

  test('a static path no other pattern matches: HEAD is its GET route, another method a 405 or 404', () => {
    const alone = createRouteTable([
      { name: 'health', path: '/health', methods: ['GET'] },
      { name: 'beta', path: '/beta', methods: ['POST'], headers: { 'x-beta': '1' } },
      { name: 'user', path: '/users/:id', methods: ['GET'] },
    ]);
    expect(matched(alone.match(request({ method: 'HEAD', path: '/health' })))).toBe('health');
    expect(alone.match(request({ method: 'PUT', path: '/health' }))).toEqual({
      kind: 'method-not-allowed',
      allow: ['GET', 'HEAD'],
      path: '/health',
    });
    expect(alone.match(request({ method: 'GET', path: '/beta' }))).toEqual({ kind: 'not-found', path: '/beta' });
    expect(alone.match(request({ method: 'GET', path: '/beta', headers: { 'x-beta': '1' } }))).toEqual({
      kind: 'method-not-allowed',
      allow: ['POST'],
      path: '/beta',
    });
  });

  test('an invalid path is reported, not matched', () => {
    expect(table.match(request({ path: '/files/..%2f..%2fetc' }))).toMatchObject({ kind: 'invalid-path' });
  });

  test('a param or wildcard rest whose escapes are not UTF-8 is refused, not handed on undecoded', () => {
    expect(table.match(request({ path: '/users/%C3' }))).toEqual({
      kind: 'invalid-path',
      reason: 'a path parameter is not valid UTF-8 once decoded',
    });
    expect(table.match(request({ path: '/files/a/%FF%FE' }))).toMatchObject({ kind: 'invalid-path' });
    // A whole UTF-8 sequence decodes; a static path never decodes anything.
    expect(table.match(request({ path: '/users/%C3%A9' }))).toMatchObject({ params: { id: 'é' } });
  });

  test.each<[string, RouteDefinition[]]>([
    [
      'same shape, other param names',
      [
        { name: 'a', path: '/u/:id' },
        { name: 'b', path: '/u/:name' },
      ],
    ],
    [
      'every method against GET',
      [
        { name: 'a', path: '/u' },
        { name: 'b', path: '/u', methods: ['GET'] },
      ],
    ],
    [
      'same conditions in another order and case',
      [
        { name: 'a', path: '/u', headers: { 'x-a': '1', 'x-b': true } },
        { name: 'b', path: '/u', headers: { 'X-B': true, 'x-a': '1' } },
      ],
    ],
    [
      'a prefix mount and its wildcard',
      [
        { name: 'a', path: '/f', prefix: true },
        { name: 'b', path: '/f/*' },
      ],
    ],
    [
      'a header version and the same header condition',
      [
        { name: 'a', path: '/u', version: '2' },
        { name: 'b', path: '/u', headers: { 'accept-version': '2' } },
      ],
    ],
  ])('rejects two routes no request could tell apart: %s', (_, routes) => {
    const error = thrown(() => createRouteTable(routes));
    expect(isAmbiguousRoutesError(error)).toBe(true);
    expect(error).toMatchObject({ first: 'a', second: 'b', code: 'ERR_PORTCULLIS_ROUTER_AMBIGUOUS_ROUTES' });
  });

  test('accepts routes a request can tell apart', () => {
    expect(() =>
      createRouteTable([
        { name: 'a', path: '/u', methods: ['GET'] },
        { name: 'b', path: '/u', methods: ['POST'] },
        { name: 'c', path: '/u', methods: ['GET'], host: 'x.io' },
        { name: 'd', path: '/u', methods: ['GET'], headers: { 'x-a': '1' } },
        { name: 'e', path: '/u', methods: ['GET'], headers: { 'x-a': '2' } },
      ]),
    ).not.toThrow();
  });

  test.each<[string, unknown]>([
    ['routes[0].path', [{ name: 'a', path: '/u/(\\d+)' }]],
    ['routes[0].path', [{ name: 'a', path: '/u/:id(\\d+)' }]],
    ['routes[0].path', [{ name: 'a', path: '/u/../v' }]],
    ['routes[0].path', [{ name: 'a', path: '/*/v' }]],
    ['routes[0].path', [{ name: 'a', path: 'u' }]],
    ['routes[0].methods[0]', [{ name: 'a', path: '/u', methods: ['get'] }]],
    ['routes[0].host', [{ name: 'a', path: '/u', host: 'a.*.com' }]],
    [
      'routes[1].name',
      [
        { name: 'a', path: '/u' },
        { name: 'a', path: '/v' },
      ],
    ],
    ['routes[0].headers.x', [{ name: 'a', path: '/u', headers: { x: 1 } }]],
    ['routes[0].path', [{ name: 'a', path: '/u/:__proto__' }]],
  ])('rejects a malformed definition, naming %s', (option, routes) => {
    const error = thrown(() => createRouteTable(routes as RouteDefinition[]));
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });
});

// ---------------------------------------------------------------------------------------------
// A reference model of the documented precedence, written independently of find-my-way.
type Seg = { kind: 'static'; value: string } | { kind: 'param' } | { kind: 'wild' };
interface ModelRoute {
  name: string;
  segs: Seg[];
  methods: string[] | undefined;
  header: string | undefined; // x-h must equal this
  query: boolean; // ?q must be present
  host: string | undefined;
}

function segsMatch(segs: Seg[], parts: string[]): boolean {
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] as Seg;
    if (seg.kind === 'wild') return parts.length > i; // the rest of the path, after a "/"
    const part = parts[i];
    if (part === undefined) return false;
    if (seg.kind === 'static' && seg.value !== part) return false;
  }
  return parts.length === segs.length;
}

// Path precedence: compare segment kinds from the left (static < param < wild); then host
// (exact first), then number of conditions, then declaration order.
const kindOrder = { static: 0, param: 1, wild: 2 } as const;
function modelPick(
  routes: ModelRoute[],
  method: string,
  parts: string[],
  header: string,
  host: string,
  q: boolean,
): string | undefined {
  const candidates = routes
    .map((route, index) => ({ route, index }))
    .filter(
      ({ route }) =>
        (route.methods === undefined || route.methods.includes(method)) &&
        (route.header === undefined || route.header === header) &&
        (route.host === undefined || route.host === host) &&
        (!route.query || q) &&
        segsMatch(route.segs, parts),
    );
  candidates.sort((a, b) => {
    const n = Math.max(a.route.segs.length, b.route.segs.length);
    for (let i = 0; i < n; i++) {
      const ka = a.route.segs[i];
      const kb = b.route.segs[i];
      if (ka === undefined || kb === undefined) break;
      const diff = kindOrder[ka.kind] - kindOrder[kb.kind];
      if (diff !== 0) return diff;
    }
    const hostDiff = Number(b.route.host !== undefined) - Number(a.route.host !== undefined);
    if (hostDiff !== 0) return hostDiff;
    const conditions = (r: ModelRoute): number => Number(r.header !== undefined) + Number(r.query);
    const condDiff = conditions(b.route) - conditions(a.route);
    return condDiff !== 0 ? condDiff : a.index - b.index;
  });
  return candidates[0]?.route.name;
}

const segArb: fc.Arbitrary<Seg> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'b').map((value) => ({ kind: 'static' as const, value })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'param' as const }) },
);
const modelRouteArb = fc.record({
  segs: fc
    .tuple(fc.array(segArb, { minLength: 0, maxLength: 3 }), fc.boolean())
    .map(([segs, wild]) => (wild || segs.length === 0 ? [...segs, { kind: 'wild' as const }] : segs)),
  methods: fc.option(fc.subarray(['GET', 'POST'], { minLength: 1 }), { nil: undefined }),
  header: fc.option(fc.constantFrom('1', '2'), { nil: undefined }),
  host: fc.option(fc.constantFrom('x.io'), { nil: undefined }),
  query: fc.boolean(),
});

function toDefinition(route: ModelRoute): RouteDefinition {
  let p = 0;
  const path = `/${route.segs.map((seg) => (seg.kind === 'static' ? seg.value : seg.kind === 'param' ? `:p${String(p++)}` : '*')).join('/')}`;
  return {
    name: route.name,
    path,
    methods: route.methods,
    headers: route.header === undefined ? undefined : { 'x-h': route.header },
    host: route.host,
    query: route.query ? { q: true } : undefined,
  };
}

describe('precedence', () => {
  test.prop(
    [
      fc.array(modelRouteArb, { minLength: 1, maxLength: 10 }),
      fc.array(
        fc.tuple(
          fc.constantFrom('GET', 'POST'),
          fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 4 }),
          fc.constantFrom('1', '2', '3'),
          fc.constantFrom('x.io', 'y.io'),
          fc.boolean(),
        ),
        { minLength: 1, maxLength: 20 },
      ),
    ],
    { numRuns: 500 },
  )('a request matches the route the precedence rule names', (generated, requests) => {
    const routes: ModelRoute[] = generated.map((route, i) => ({ ...route, name: `r${String(i)}` }));
    let table;
    try {
      table = createRouteTable(routes.map(toDefinition));
    } catch (error) {
      // Ambiguous tables are the only ones refused; check the model agrees two routes coincide.
      expect(isAmbiguousRoutesError(error)).toBe(true);
      const { first, second } = error as { first: string; second: string };
      const [a, b] = [routes.find((r) => r.name === first), routes.find((r) => r.name === second)] as [
        ModelRoute,
        ModelRoute,
      ];
      expect(JSON.stringify(a.segs.map((s) => (s.kind === 'static' ? s.value : s.kind)))).toBe(
        JSON.stringify(b.segs.map((s) => (s.kind === 'static' ? s.value : s.kind))),
      );
      expect([a.header, a.host, a.query]).toEqual([b.header, b.host, b.query]);
      expect(a.methods === undefined || b.methods === undefined || a.methods.some((m) => b.methods?.includes(m))).toBe(
        true,
      );
      return;
    }
    for (const [method, parts, header, host, q] of requests) {
      const result = table.match(
        request({ method, path: `/${parts.join('/')}`, headers: { 'x-h': header, host }, query: q ? 'q=' : '' }),
      );
      expect(matched(result)).toBe(modelPick(routes, method, parts, header, host, q));
    }
  });
});

/** What `Allow` lists when no route answers: every method of the routes whose path and conditions match. */
function modelAllow(routes: ModelRoute[], parts: string[], header: string, host: string, q: boolean): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.methods === undefined || !segsMatch(route.segs, parts)) continue;
    if ((route.header !== undefined && route.header !== header) || (route.host !== undefined && route.host !== host))
      continue;
    if (route.query && !q) continue;
    for (const method of route.methods) methods.add(method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

describe('404 and 405', () => {
  test.prop(
    [
      fc.array(modelRouteArb, { minLength: 1, maxLength: 10 }),
      fc.array(
        fc.tuple(
          fc.constantFrom('GET', 'POST', 'PUT'),
          fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 4 }),
          fc.constantFrom('1', '2', '3'),
          fc.constantFrom('x.io', 'y.io'),
          fc.boolean(),
          fc.constantFrom('', '/.', '//', '/b/..'),
          fc.nat(4),
        ),
        { minLength: 1, maxLength: 20 },
      ),
    ],
    { numRuns: 500 },
  )(
    'a request no route answers gets 405 listing exactly the methods of the routes its path and conditions match, or 404 when none',
    (generated, requests) => {
      const routes: ModelRoute[] = generated.map((route, i) => ({ ...route, name: `r${String(i)}` }));
      let table;
      try {
        table = createRouteTable(routes.map(toDefinition));
      } catch (error) {
        if (isAmbiguousRoutesError(error)) return;
        throw error;
      }
      for (const [method, parts, header, host, q, detour, at] of requests) {
        if (modelPick(routes, method, parts, header, host, q) !== undefined) continue;
        // The same path spelled with a detour (a dot segment, a doubled slash): the answer is the same.
        const cut = Math.min(at, parts.length - 1);
        const raw = `/${parts.slice(0, cut).join('/')}${detour}/${parts.slice(cut).join('/')}`;
        const path = `/${parts.join('/')}`;
        for (const spelled of [path, raw]) {
          const result = table.match(
            request({ method, path: spelled, headers: { 'x-h': header, host }, query: q ? 'q=' : '' }),
          );
          const allow = modelAllow(routes, parts, header, host, q);
          expect(result).toEqual(
            allow.length === 0 ? { kind: 'not-found', path } : { kind: 'method-not-allowed', allow, path },
          );
        }
      }
    },
  );

  test('Allow joins the methods of every leaf the path reaches: static, param and wildcard', () => {
    const table = createRouteTable([
      { name: 'me', path: '/users/me', methods: ['GET'] },
      { name: 'user', path: '/users/:id', methods: ['DELETE', 'PATCH'] },
      { name: 'any', path: '/users/*', methods: ['OPTIONS'] },
      { name: 'beta', path: '/users/:id', methods: ['PUT'], headers: { 'x-beta': '1' } },
      { name: 'post', path: '/users', methods: ['POST'] },
    ]);
    const allow = (method: string, path: string, headers: Record<string, string> = {}): unknown => {
      const result = table.match(request({ method, path, headers }));
      return result.kind === 'method-not-allowed' ? result.allow : result.kind;
    };
    expect(allow('POST', '/users/me')).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH']);
    expect(allow('POST', '/users/me', { 'x-beta': '1' })).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'PUT']);
    expect(allow('POST', '/users/7')).toEqual(['DELETE', 'OPTIONS', 'PATCH']);
    expect(allow('GET', '/users/7/x')).toEqual(['OPTIONS']);
    expect(allow('HEAD', '/users/7')).toEqual(['DELETE', 'OPTIONS', 'PATCH']);
    expect(allow('GET', '/users')).toEqual(['POST']);
    // The same answer twice (the list may be shared between requests, so it must not change).
    expect(allow('POST', '/users/me')).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH']);
    expect(allow('PUT', '/users/./me')).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH']);
    expect(allow('GET', '/nothing')).toBe('not-found');
    expect(allow('FOO', '/users')).toEqual(['POST']);
  });
});

// ---------------------------------------------------------------------------------------------
// Work, not time: count the tree nodes the walks enter (including backtracking and the walk that
// builds `Allow`) on long adversarial paths.
function countingSteps<T>(fn: () => T): { result: T; steps: number } {
  takeSteps();
  const result = fn();
  return { result, steps: takeSteps() };
}

describe('matching work', () => {
  // A table built to make a backtracking matcher explode: at every depth a static, a param and a
  // wildcard alternative, and the deepest route needs a segment the adversarial path lacks.
  const depth = 6;
  const adversarial: RouteDefinition[] = [];
  for (let d = 1; d <= depth; d++) {
    adversarial.push({ name: `s${String(d)}`, path: `/${Array.from({ length: d }, () => 'a').join('/')}/z` });
    adversarial.push({
      name: `p${String(d)}`,
      path: `/${Array.from({ length: d }, (_, i) => `:p${String(i)}`).join('/')}/z`,
    });
  }
  adversarial.push({ name: 'w', path: '/a/a/*', headers: { 'x-never': '1' } });
  const table = createRouteTable(adversarial);
  const tableSteps = adversarial.length * 4;

  test.prop(
    [
      fc.array(fc.constantFrom('a', 'a', 'b', '%2e', '.', '%61', '', 'z'), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 1, max: 40 }),
    ],
    { numRuns: 300 },
  )('tree steps stay within the table size plus the segment count, whatever the path', (parts, repeat) => {
    const path = `/${Array.from({ length: repeat }, () => parts.join('/')).join('/')}`;
    const { steps } = countingSteps(() => table.match(request({ path })));
    expect(steps).toBeLessThanOrEqual(tableSteps + 2 * depth);
    const twice = countingSteps(() => table.match(request({ path: `${path}${path}` }))).steps;
    expect(twice).toBeLessThanOrEqual(tableSteps + 2 * depth);
  });

  test('the counter sees the walk (a match takes steps)', () => {
    expect(countingSteps(() => table.match(request({ path: '/a/b/a/z' }))).steps).toBeGreaterThan(2);
  });
});
