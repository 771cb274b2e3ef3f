import { METHODS as HTTP_METHODS } from 'node:http';
import { fc, test } from '@fast-check/vitest';
import FindMyWay from 'find-my-way';
import { describe, expect } from 'vitest';
import { isAmbiguousRoutesError } from './errors.js';
import type { RouteDefinition } from './route.js';
import { createRouteTable } from './table.js';

// The table's engine was find-my-way (Fastify's router) before it had its own segment tree. For
// tables without conditions, both must answer every request alike: the same route, the same params.
// find-my-way is given the canonical path (the table canonicalises first) and every method for a
// route that lists none, as the table does.

const METHODS = ['GET', 'POST', 'DELETE'] as const;

const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'ab', '') },
  { weight: 2, arbitrary: fc.constant(':p') },
);
const routeArb = fc.record({
  segments: fc.array(segment, { minLength: 0, maxLength: 4 }),
  ending: fc.constantFrom('none', 'wildcard', 'prefix', 'slash'),
  methods: fc.option(fc.subarray([...METHODS], { minLength: 1 }), { nil: undefined }),
});

/** A pattern in canonical form: no empty segment but a trailing one. */
function patternOf(route: RouteArb): string | undefined {
  const parts = route.segments.filter((s) => s !== '');
  let n = 0;
  const path = `/${parts.map((s) => (s === ':p' ? `:p${String(n++)}` : s)).join('/')}`;
  if (route.ending === 'wildcard') return path === '/' ? '/*' : `${path}/*`;
  if (route.ending === 'slash') return path === '/' ? undefined : `${path}/`;
  return path;
}
type RouteArb = { segments: string[]; ending: string; methods: string[] | undefined };

const pathArb = fc
  .array(fc.constantFrom('a', 'b', 'ab', 'c', '', '%61', 'x%20y', '.', 'a%2Db'), { minLength: 0, maxLength: 6 })
  .map((parts) => `/${parts.join('/')}`);

describe('the segment tree against find-my-way', () => {
  test.prop(
    [
      fc.array(routeArb, { minLength: 1, maxLength: 12 }),
      fc.array(fc.tuple(fc.constantFrom(...METHODS), pathArb), { minLength: 1, maxLength: 30 }),
    ],
    {
      numRuns: 1000,
    },
  )('same route and params for every request, on tables without conditions', (generated, requests) => {
    const definitions: RouteDefinition[] = [];
    generated.forEach((route, i) => {
      const path = patternOf(route);
      if (path === undefined || (route.ending === 'prefix' && path === '/')) return;
      definitions.push({ name: `r${String(i)}`, path, methods: route.methods, prefix: route.ending === 'prefix' });
    });
    let table;
    try {
      table = createRouteTable(definitions);
    } catch (error) {
      if (isAmbiguousRoutesError(error)) return;
      throw error;
    }
    const fmw = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false });
    for (const d of definitions) {
      const patterns = d.prefix === true ? [d.path, d.path === '/' ? '/*' : `${d.path}/*`] : [d.path];
      for (const pattern of patterns)
        fmw.on((d.methods ?? HTTP_METHODS) as FindMyWay.HTTPMethod[], pattern, () => undefined, d.name);
    }
    for (const [method, raw] of requests) {
      const ours = table.match({ method, path: raw, query: new URLSearchParams(), header: () => undefined });
      if (ours.kind === 'invalid-path') continue; // e.g. "/.." climbing above the root: never reaches a tree
      const theirs = fmw.find(method, ours.path);
      expect({
        name: ours.kind === 'matched' ? ours.route.name : null,
        params: ours.kind === 'matched' ? { ...ours.params } : null,
      }).toEqual({
        name: theirs === null ? null : theirs.store,
        params: theirs === null ? null : { ...theirs.params },
      });
    }
  });
});
