import { InvalidOptionError, nonEmptyString } from '@portcullis/core';
import { canonicalPath, plainSegmentEnd } from './canonical-path.js';
import { AmbiguousRoutesError, isInvalidPathError } from './errors.js';
import { compareRank, Predicates } from './predicates.js';
import { RequestView, type MatchRequest } from './request-view.js';
import { paramsBuilder, type ParamsBuilder } from './params-builder.js';
import { allowList, SegmentTree, type Leaf } from './segment-tree.js';
import type { PredicateValue, Route, RouteDefinition } from './route.js';

/**
 * How versioned routes are selected: by a request header (default `{ header: 'accept-version' }`)
 * or by a `/v<version>` path prefix (`'path'`).
 *
 * @example
 * ```ts
 * import { createRouteTable, type Versioning } from '@portcullis/router';
 *
 * const versioning: Versioning = { header: 'api-version' };
 * createRouteTable([{ name: 'v2', path: '/users', version: '2' }], { versioning });
 * ```
 */
export type Versioning = { readonly header: string } | 'path';

/**
 * Options of {@link createRouteTable}.
 *
 * @example
 * ```ts
 * import type { RouteTableOptions } from '@portcullis/router';
 *
 * const options: RouteTableOptions = { versioning: 'path' };
 * ```
 */
export interface RouteTableOptions {
  /** How a route's `version` is selected. Default is `{ header: 'accept-version' }`. */
  readonly versioning?: Versioning | undefined;
}

/**
 * What {@link RouteTable.match} found for a request.
 *
 * - `matched`: the route, its params (percent-decoded; a wildcard's as `'*'`) and the canonical
 *   path, the form to forward.
 * - `method-not-allowed`: the path matches routes for other methods only, listed in `allow`.
 * - `not-found`: no route matches.
 * - `invalid-path`: the path breaks the canonical-form rules (`reason`); answer 400.
 *
 * @example
 * ```ts
 * import { createRouteTable, type RouteMatchResult } from '@portcullis/router';
 *
 * const result: RouteMatchResult = createRouteTable([{ name: 'a', path: '/a' }]).match({
 *   method: 'GET', path: '/a', query: new URLSearchParams(), header: () => undefined,
 * });
 * if (result.kind === 'matched') console.log(result.route.name); // 'a'
 * ```
 */
export type RouteMatchResult<Meta = unknown> =
  | {
      readonly kind: 'matched';
      readonly route: Route<Meta>;
      readonly params: Readonly<Record<string, string>>;
      readonly path: string;
    }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[]; readonly path: string }
  | { readonly kind: 'not-found'; readonly path: string }
  | { readonly kind: 'invalid-path'; readonly reason: string };

/**
 * An immutable, built route table. Build one with {@link createRouteTable}; replace it at runtime
 * with a `RouteTableRef`.
 *
 * @example
 * ```ts
 * import { createRouteTable } from '@portcullis/router';
 *
 * const table = createRouteTable([{ name: 'user', path: '/users/:id', methods: ['GET'] }]);
 * const result = table.match({ method: 'GET', path: '/users/7', query: new URLSearchParams(), header: () => undefined });
 * ```
 */
export interface RouteTable<Meta = unknown> {
  /** The routes, in declaration order. */
  readonly routes: readonly Route<Meta>[];
  /** Finds the route for a request, by the documented precedence. */
  match(req: MatchRequest): RouteMatchResult<Meta>;
}

interface Entry<Meta> {
  readonly route: Route<Meta>;
  readonly predicates: Predicates;
  readonly patterns: readonly string[];
  readonly methods: readonly string[];
}

/** A route at one of its patterns, as the tree holds it. */
interface Candidate<Meta> {
  readonly route: Route<Meta>;
  /** Undefined for every method. */
  readonly methods: readonly string[] | undefined;
  /** Undefined when the route has no conditions. */
  readonly predicates: Predicates | undefined;
  readonly conditional: boolean;
  readonly rank: readonly number[];
  /** The params' names and the indexes of their segments (1 for the first segment). */
  readonly paramNames: readonly string[];
  readonly paramSegments: readonly number[];
  /** The index of the segment where `*` starts, or -1. */
  readonly wildcardSegment: number;
  /** Builds the params object from the values of `paramNames` (then the wildcard's rest). */
  readonly buildParams: ParamsBuilder;
  /**
   * For a pattern without params or wildcard: the answer to a request whose path is the pattern
   * itself, built once (nothing in it depends on the request). Frozen: it is shared.
   */
  readonly exactMatch: RouteMatchResult<Meta> | undefined;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOST = /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$|^\[[0-9a-f:.]+\]$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const ALL = '*';
/** The params of a route without any: shared, frozen. */
const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
// The methods a route may list (Node's `http.METHODS` as of Node 22 and RFC 9110's); "every
// method" means any method, these and others.
const METHODS: readonly string[] = [
  'ACL',
  'BIND',
  'CHECKOUT',
  'CONNECT',
  'COPY',
  'DELETE',
  'GET',
  'HEAD',
  'LINK',
  'LOCK',
  'M-SEARCH',
  'MERGE',
  'MKACTIVITY',
  'MKCALENDAR',
  'MKCOL',
  'MOVE',
  'NOTIFY',
  'OPTIONS',
  'PATCH',
  'POST',
  'PROPFIND',
  'PROPPATCH',
  'PURGE',
  'PUT',
  'QUERY',
  'REBIND',
  'REPORT',
  'SEARCH',
  'SOURCE',
  'SUBSCRIBE',
  'TRACE',
  'UNBIND',
  'UNLINK',
  'UNLOCK',
  'UNSUBSCRIBE',
];

/**
 * Builds a route table from route definitions: validates them, rejects two routes no request could
 * tell apart, and compiles them into a tree with one level per path segment (no regular
 * expressions: matching is linear in the path's length).
 *
 * Precedence, when several routes match a request:
 * 1. path, segment by segment from the left: static beats `:param` beats `*` (a prefix mount is a `*`);
 * 2. then, among routes of the same path shape: exact host beats wildcard host (a longer suffix
 *    beats a shorter one) beats no host;
 * 3. then more header/query/cookie conditions (a header version counts as one) beat fewer;
 * 4. then the route declared first.
 *
 * @param definitions - The routes; names must be unique.
 * @param options - See {@link RouteTableOptions}.
 * @throws InvalidOptionError when a definition is malformed, naming it.
 * @throws AmbiguousRoutesError when two routes have the same methods (overlapping), path shape
 * (`/users/:id` and `/users/:name` are one shape), host, version and conditions.
 *
 * @example
 * ```ts
 * import { createRouteTable } from '@portcullis/router';
 *
 * const table = createRouteTable([
 *   { name: 'me', path: '/users/me', methods: ['GET'] },
 *   { name: 'user', path: '/users/:id', methods: ['GET', 'DELETE'] },
 *   { name: 'beta-user', path: '/users/:id', methods: ['GET'], headers: { 'x-beta': '1' } },
 *   { name: 'files', path: '/files', prefix: true },
 * ]);
 * ```
 */
export function createRouteTable<Meta = unknown>(
  definitions: readonly RouteDefinition<Meta>[],
  options: RouteTableOptions = {},
): RouteTable<Meta> {
  if (!Array.isArray(definitions)) throw new InvalidOptionError('routes', definitions, 'an array of routes');
  const versionHeader = resolveVersioning(options.versioning);
  const names = new Set<string>();
  const list: readonly RouteDefinition<Meta>[] = definitions;
  const entries = list.map((definition, index) => {
    const entry = compile<Meta>(definition, index, versionHeader, `routes[${String(index)}]`);
    if (names.has(entry.route.name)) {
      throw new InvalidOptionError(`routes[${String(index)}].name`, entry.route.name, 'a name no other route has');
    }
    names.add(entry.route.name);
    return entry;
  });
  rejectAmbiguous(entries);

  const tree = new SegmentTree<Candidate<Meta>>();
  for (const entry of entries) {
    for (const pattern of entry.patterns) tree.add(pattern, candidateOf(entry, pattern));
  }
  // Within one path shape: the higher rank (host, then condition count) first, then declaration order.
  tree.seal((a, b) => compareRank(a.rank, b.rank) || a.route.index - b.route.index);
  const routes: readonly Route<Meta>[] = Object.freeze(entries.map((entry) => entry.route));

  // The request whose conditions are being tested, its view (host and cookies parsed once, when a
  // condition first needs them), and the leaves the walks reached without an answer for the
  // method: `Allow` is theirs, so a miss needs no second walk. Set around each synchronous match.
  let current: MatchRequest | undefined;
  let view: RequestView | undefined;
  let missed: Leaf<Candidate<Meta>>[] = [];
  let missedCount = 0;
  const holds = (candidate: Candidate<Meta>): boolean =>
    candidate.predicates === undefined ||
    candidate.predicates.test((view ??= new RequestView(current as MatchRequest)));
  const choose = (leaf: Leaf<Candidate<Meta>>, method: number): Candidate<Meta> | undefined => {
    const candidates = leaf.forMethod(method);
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i] as Candidate<Meta>;
      if (holds(candidate)) return candidate;
    }
    missed[missedCount++] = leaf;
    return undefined;
  };
  /** `Allow` of the leaves the walks missed at: one leaf without conditions has it ready. */
  const allowed = (): readonly string[] => {
    const first = missed[0] as Leaf<Candidate<Meta>>;
    let only = !first.conditional;
    for (let i = 1; only && i < missedCount; i++) only = missed[i] === first;
    if (only) return first.allow;
    const methods: string[] = [];
    for (const leaf of new Set(missed.slice(0, missedCount)))
      for (const candidate of leaf.candidates)
        if (candidate.methods !== undefined && holds(candidate)) methods.push(...candidate.methods);
    return allowList(methods);
  };

  const GET = tree.methodId('GET');
  const HEAD = tree.methodId('HEAD');
  function find(method: number, path: string, starts: number[]): Candidate<Meta> | undefined {
    const found = tree.find(method, path, starts, choose);
    // HEAD is answered by GET routes unless a route claims HEAD itself (RFC 9110 §9.3.2).
    if (found === undefined && method === HEAD)
      return tree.findStatic(GET, path, choose) ?? tree.find(GET, path, starts, choose);
    return found;
  }

  // The segment offsets of the path being matched and the missed leaves, reused (a re-entrant
  // match, from a header function that matches another request, gets its own).
  const shared: number[] = [];
  const sharedMissed: Leaf<Candidate<Meta>>[] = [];

  return {
    routes,
    match: function match(req: MatchRequest): RouteMatchResult<Meta> {
      const outer = current;
      const outerView = view;
      const outerMissed = missed;
      const outerMissedCount = missedCount;
      current = req;
      view = undefined;
      missed = outer === undefined ? sharedMissed : [];
      missedCount = 0;
      try {
        const method = tree.methodId(req.method);
        const raw = req.path;
        const starts = outer === undefined ? shared : [];
        // Most paths are canonical already, and that is checked on the way: a static pattern is
        // canonical, so a path equal to one is; a walk that matches compared every segment with a
        // pattern's but those it took as params or wildcard rest, which `paramsOf` checks.
        const rawExact = tree.findStatic(method, raw, choose);
        if (rawExact !== undefined) return rawExact.exactMatch as RouteMatchResult<Meta>;
        // The path is a static pattern's (so canonical) that only its leaf matches, and the leaf
        // has no answer: the walk would reach that leaf alone, so its `Allow` decides now. Not
        // for HEAD, which falls back to GET routes.
        if (missedCount === 1 && method !== HEAD && (missed[0] as Leaf<Candidate<Meta>>).alone) {
          const allow = allowed();
          return allow.length === 0
            ? { kind: 'not-found', path: raw }
            : { kind: 'method-not-allowed', allow, path: raw };
        }
        // The walk starts after the first character: it must be the root's `/`.
        let found = raw.charCodeAt(0) === 47 ? find(method, raw, starts) : undefined;
        if (found !== undefined) {
          const params = paramsOf(found, raw, starts, true);
          if (params !== undefined) return { kind: 'matched', route: found.route, params, path: raw };
        }
        // Otherwise the full rule decides the path (or refuses it), and the walk is done on that.
        let path: string;
        try {
          path = canonicalPath(raw);
        } catch (error) {
          if (isInvalidPathError(error)) return { kind: 'invalid-path', reason: error.reason };
          throw error;
        }
        if (path !== raw) {
          missedCount = 0;
          const exact = tree.findStatic(method, path, choose);
          if (exact !== undefined) return exact.exactMatch as RouteMatchResult<Meta>;
          found = find(method, path, starts);
        }
        if (found !== undefined) {
          const params = paramsOf(found, path, starts, false);
          return params === undefined
            ? { kind: 'invalid-path', reason: 'a path parameter is not valid UTF-8 once decoded' }
            : { kind: 'matched', route: found.route, params, path };
        }
        const allow = missedCount === 0 ? undefined : allowed();
        return allow === undefined || allow.length === 0
          ? { kind: 'not-found', path }
          : { kind: 'method-not-allowed', allow, path };
      } finally {
        // Restored, not cleared: a header function that matched another request re-enters here.
        current = outer;
        view = outerView;
        missed = outerMissed;
        missedCount = outerMissedCount;
      }
    },
  };
}

function candidateOf<Meta>(entry: Entry<Meta>, pattern: string): Candidate<Meta> {
  const segments = pattern.split('/');
  const paramNames: string[] = [];
  const paramSegments: number[] = [];
  segments.forEach((segment, i) => {
    if (segment.startsWith(':')) {
      paramNames.push(segment.slice(1));
      paramSegments.push(i);
    }
  });
  const wildcardSegment = segments.at(-1) === '*' ? segments.length - 1 : -1;
  return {
    route: entry.route,
    methods: entry.methods.includes(ALL) ? undefined : entry.methods,
    predicates: entry.predicates.empty ? undefined : entry.predicates,
    conditional: !entry.predicates.empty,
    rank: entry.predicates.rank,
    paramNames,
    paramSegments,
    wildcardSegment,
    buildParams: paramsBuilder(wildcardSegment === -1 ? paramNames : [...paramNames, '*']),
    exactMatch:
      paramNames.length === 0 && wildcardSegment === -1
        ? Object.freeze({ kind: 'matched', route: entry.route, params: NO_PARAMS, path: pattern })
        : undefined,
  };
}

/**
 * The params of a match (a wildcard's rest as `'*'`), read at the segment offsets the walk
 * recorded. `plain` (a path as received): every segment taken as a param or rest must be canonical
 * without escapes — then the whole path is canonical and nothing needs decoding — or the answer is
 * `undefined` and the full rule decides. Otherwise (a canonical path): values are percent-decoded,
 * `undefined` when one does not decode (an escape that is not UTF-8, such as a lone `%C3`: the
 * handler could not be given it).
 */
function paramsOf<Meta>(
  candidate: Candidate<Meta>,
  path: string,
  starts: readonly number[],
  plain: boolean,
): Readonly<Record<string, string>> | undefined {
  const { paramNames, paramSegments, wildcardSegment } = candidate;
  if (paramNames.length === 0 && wildcardSegment === -1) return NO_PARAMS;
  const values = scratchValues;
  for (let i = 0; i < paramNames.length; i++) {
    const value = segmentAt(path, starts[paramSegments[i] as number] as number, plain);
    if (value === undefined) return undefined;
    values[i] = value;
  }
  if (wildcardSegment !== -1) {
    const start = starts[wildcardSegment] as number;
    for (let at = start; plain && at < path.length;) {
      const end = plainSegmentEnd(path, at);
      if (end === -1) return undefined;
      at = end + 1;
    }
    const rest = plain ? path.slice(start) : decoded(path.slice(start));
    if (rest === undefined) return undefined;
    values[paramNames.length] = rest;
  }
  return candidate.buildParams(values);
}

/**
 * The values {@link paramsOf} collects before building the params: reused, since nothing between
 * filling and building it runs code that could match another request.
 */
const scratchValues: string[] = [];

/** The segment starting at `start`, as {@link paramsOf} reads it. */
function segmentAt(path: string, start: number, plain: boolean): string | undefined {
  if (plain) {
    const end = plainSegmentEnd(path, start);
    return end === -1 ? undefined : path.slice(start, end);
  }
  const end = path.indexOf('/', start);
  return decoded(end === -1 ? path.slice(start) : path.slice(start, end));
}

function decoded(value: string): string | undefined {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function resolveVersioning(versioning: Versioning | undefined): string | undefined {
  if (versioning === undefined) return 'accept-version';
  if (versioning === 'path') return undefined;
  if (
    typeof versioning === 'object' &&
    typeof versioning.header === 'string' &&
    HEADER_NAME.test(versioning.header.toLowerCase())
  ) {
    return versioning.header.toLowerCase();
  }
  throw new InvalidOptionError('versioning', versioning, "{ header: '<header name>' } or 'path'");
}

// Checked here, not per request: a route's split and canary are called on every request it matches.
function splitOf<Meta>(definition: RouteDefinition<Meta>, at: string): Pick<Route<Meta>, 'split' | 'canary'> {
  const split = definition.split as unknown;
  const canary = definition.canary as unknown;
  if (split !== undefined && !hasMethod(split, 'assign')) {
    throw new InvalidOptionError(`${at}.split`, split, 'a split (createSplit)');
  }
  if (canary !== undefined) {
    if (!hasMethod(canary, 'record')) {
      throw new InvalidOptionError(`${at}.canary`, canary, 'a canary controller (createCanary, createRedisCanary)');
    }
    if (split === undefined) throw new InvalidOptionError(`${at}.canary`, canary, 'a canary on a route with a split');
  }
  return { split: definition.split, canary: definition.canary };
}

function hasMethod(value: unknown, method: string): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function'
  );
}

function compile<Meta>(
  definition: RouteDefinition<Meta>,
  index: number,
  versionHeader: string | undefined,
  at: string,
): Entry<Meta> {
  // Checked at runtime too: tables are often loaded from configuration files.
  if (typeof (definition as unknown) !== 'object' || (definition as unknown) === null)
    throw new InvalidOptionError(at, definition, 'a route definition');
  const name = nonEmptyString(definition.name, `${at}.name`);
  let path = checkPattern(definition.path, `${at}.path`);
  const version = definition.version === undefined ? undefined : nonEmptyString(definition.version, `${at}.version`);
  if (version !== undefined && versionHeader === undefined) {
    if (!/^[A-Za-z0-9._~-]+$/.test(version))
      throw new InvalidOptionError(`${at}.version`, version, 'a path-safe version');
    path = `/v${version}${path === '/' ? '' : path}`;
  }
  const patterns = definition.prefix === true ? [path, path === '/' ? '/*' : `${path}/*`] : [path];
  if (definition.prefix === true && path.endsWith('*')) {
    throw new InvalidOptionError(`${at}.prefix`, true, 'a prefix mount of a path without a wildcard');
  }
  const methods =
    definition.methods === undefined
      ? [ALL]
      : definition.methods.map((method, i) => {
          if (typeof method !== 'string' || !METHODS.includes(method)) {
            throw new InvalidOptionError(`${at}.methods[${String(i)}]`, method, `one of ${METHODS.join(', ')}`);
          }
          return method;
        });
  if (methods.length === 0) throw new InvalidOptionError(`${at}.methods`, definition.methods, 'at least one method');
  let host: string | undefined;
  if (definition.host !== undefined) {
    host = typeof definition.host === 'string' ? definition.host.toLowerCase() : undefined;
    if (host === undefined || !HOST.test(host)) {
      throw new InvalidOptionError(
        `${at}.host`,
        definition.host,
        "a host name such as 'api.example.com' or '*.example.com'",
      );
    }
  }
  const headers = checks(definition.headers, `${at}.headers`, true);
  if (version !== undefined && versionHeader !== undefined) {
    if (headers.some(([header]) => header === versionHeader)) {
      throw new InvalidOptionError(
        `${at}.headers`,
        definition.headers,
        `no "${versionHeader}" condition besides version`,
      );
    }
    headers.push([versionHeader, version]);
  }
  const predicates = new Predicates(
    host,
    headers,
    checks(definition.query, `${at}.query`, false),
    checks(definition.cookies, `${at}.cookies`, false),
  );
  const { split, canary } = splitOf(definition, at);
  const route: Route<Meta> = Object.freeze({ name, definition, meta: definition.meta, index, split, canary });
  return { route, predicates, patterns, methods };
}

function checkPattern(path: unknown, at: string): string {
  if (typeof path !== 'string' || !path.startsWith('/'))
    throw new InvalidOptionError(at, path, 'a path starting with "/"');
  const segments = path.split('/').slice(1);
  segments.forEach((segment, i) => {
    if (segment.startsWith(':')) {
      // `__proto__` would set the params object's prototype instead of a param.
      if (!PARAM_NAME.test(segment.slice(1)) || segment === ':__proto__')
        throw new InvalidOptionError(at, path, 'params as whole segments named like identifiers (":id")');
    } else if (segment === '*') {
      if (i !== segments.length - 1) throw new InvalidOptionError(at, path, 'a "*" only as the last segment');
    } else if (/[:*%]/.test(segment)) {
      throw new InvalidOptionError(at, path, 'static segments without ":", "*" or "%"');
    }
  });
  let canonical: string;
  try {
    canonical = canonicalPath(path);
  } catch {
    canonical = '';
  }
  if (canonical !== path) throw new InvalidOptionError(at, path, `a path in canonical form (${canonical || 'none'})`);
  return path;
}

function checks(
  record: Readonly<Record<string, PredicateValue>> | undefined,
  at: string,
  lowerCase: boolean,
): [string, PredicateValue][] {
  if (record === undefined) return [];
  if (typeof (record as unknown) !== 'object' || (record as unknown) === null)
    throw new InvalidOptionError(at, record, 'an object of conditions');
  return Object.entries(record).map(([name, value]) => {
    if (name === '' || (lowerCase && !HEADER_NAME.test(name.toLowerCase())))
      throw new InvalidOptionError(`${at}.${name}`, name, 'a valid name');
    if (value !== true && typeof value !== 'string')
      throw new InvalidOptionError(`${at}.${name}`, value, 'a string or true');
    return [lowerCase ? name.toLowerCase() : name, value];
  });
}

/** The path with param names erased: two patterns with one shape match the same paths. */
function shapeOf(pattern: string): string {
  return pattern.replace(/\/:[A-Za-z0-9_]+/g, '/:');
}

function rejectAmbiguous<Meta>(entries: readonly Entry<Meta>[]): void {
  const byShape = new Map<string, Entry<Meta>[]>();
  for (const entry of entries) {
    for (const pattern of entry.patterns) {
      const key = `${shapeOf(pattern)} ${entry.predicates.key}`;
      const earlier = byShape.get(key) ?? [];
      for (const other of earlier) {
        if (other !== entry && overlap(other.methods, entry.methods)) {
          throw new AmbiguousRoutesError(
            other.route.name,
            entry.route.name,
            `both match ${shapeOf(pattern)} for the same method, host, version and conditions`,
          );
        }
      }
      earlier.push(entry);
      byShape.set(key, earlier);
    }
  }
}

function overlap(a: readonly string[], b: readonly string[]): boolean {
  return a.includes(ALL) || b.includes(ALL) || a.some((method) => b.includes(method));
}
