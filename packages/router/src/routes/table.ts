import { InvalidOptionError, nonEmptyString } from '@portcullis/core';
import FindMyWay from 'find-my-way';
import { canonicalPath } from './canonical-path.js';
import { AmbiguousRoutesError, isInvalidPathError } from './errors.js';
import { compareRank, Predicates } from './predicates.js';
import { RequestView, type MatchRequest } from './request-view.js';
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

const STRATEGY = 'portcullis';
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOST = /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$|^\[[0-9a-f:.]+\]$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const ALL = '*';
// The methods find-my-way routes (Node's `http.METHODS` as of Node 22); "every method" means these.
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
// A node of find-my-way holds at most 31 handlers per method when routes have constraints.
const MAX_ROUTES_PER_SHAPE = 31;

/**
 * Builds a route table from route definitions: validates them, rejects two routes no request could
 * tell apart, and compiles them into a find-my-way radix tree (no regular expressions: matching is
 * linear in the path's length).
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

  const router = FindMyWay({
    caseSensitive: true,
    ignoreTrailingSlash: false,
    ignoreDuplicateSlashes: false,
    // Params are bounded by the request line's size, not here: without regexes a long param costs
    // only its length, and a limit would make a long id silently not match.
    maxParamLength: Number.MAX_SAFE_INTEGER,
    constraints: { [STRATEGY]: predicateStrategy },
  });
  // find-my-way answers the highest-index handler among those whose constraints hold, so the
  // routes are added from the lowest precedence to the highest.
  const ordered = [...entries].sort(
    (a, b) => -compareRank(a.predicates.rank, b.predicates.rank) || b.route.index - a.route.index,
  );
  const methods = new Set<string>();
  for (const entry of ordered) {
    const constraints = entry.predicates.empty ? {} : { [STRATEGY]: entry.predicates };
    const entryMethods = entry.methods.includes(ALL) ? METHODS : entry.methods;
    // A route for every method matches (or not) whatever the method, so it never explains a 405:
    // only methods routes list explicitly are probed for `Allow`.
    if (entryMethods === entry.methods) for (const method of entryMethods) methods.add(method);
    for (const pattern of entry.patterns) {
      try {
        router.on(entryMethods as FindMyWay.HTTPMethod[], pattern, { constraints }, noop, entry.route);
      } catch (error) {
        throw new InvalidOptionError(
          `routes[${String(entry.route.index)}].path`,
          pattern,
          `a path shape shared by at most ${String(MAX_ROUTES_PER_SHAPE)} routes per method (${String(error)})`,
        );
      }
    }
  }
  const tableMethods = [...methods].sort();
  const routes: readonly Route<Meta>[] = Object.freeze(entries.map((entry) => entry.route));

  function find(
    method: string,
    path: string,
    view: RequestView,
  ): FindMyWay.FindResult<FindMyWay.HTTPVersion.V1> | null {
    const found = router.find(method as FindMyWay.HTTPMethod, path, { [STRATEGY]: view });
    // HEAD is answered by GET routes unless a route claims HEAD itself (RFC 9110 §9.3.2).
    if (found === null && method === 'HEAD') return router.find('GET', path, { [STRATEGY]: view });
    return found;
  }

  return {
    routes,
    match: function match(req: MatchRequest): RouteMatchResult<Meta> {
      let path: string;
      try {
        path = canonicalPath(req.path);
      } catch (error) {
        if (isInvalidPathError(error)) return { kind: 'invalid-path', reason: error.reason };
        throw error;
      }
      const view = new RequestView(req);
      const found = find(req.method, path, view);
      if (found !== null) {
        return {
          kind: 'matched',
          route: found.store as Route<Meta>,
          params: Object.freeze({ ...found.params }) as Record<string, string>,
          path,
        };
      }
      const allow: string[] = [];
      for (const method of tableMethods)
        if (router.find(method as FindMyWay.HTTPMethod, path, { [STRATEGY]: view }) !== null) allow.push(method);
      if (allow.includes('GET') && !allow.includes('HEAD')) allow.push('HEAD');
      return allow.length === 0
        ? { kind: 'not-found', path }
        : { kind: 'method-not-allowed', allow: allow.sort(), path };
    },
  };
}

function noop(): void {
  // find-my-way requires a handler; the route travels in the store.
}

// find-my-way's constraint API: `set` receives each route's Predicates (as a map key) with a bitmask
// of handler positions; `get` is asked for the bitmask of a value, which at build time is a
// Predicates and when matching is the request: then it is the OR of the masks whose predicates hold.
// Typed as find-my-way's string strategy: its typings assume string constraint values.
const predicateStrategy: FindMyWay.ConstraintStrategy<FindMyWay.HTTPVersion.V1> = {
  name: STRATEGY,
  mustMatchWhenDerived: false,
  storage() {
    const masks = new Map<Predicates, number>();
    return {
      get(value: unknown) {
        if (value instanceof Predicates) return (masks.get(value) ?? null) as never;
        let mask = 0;
        for (const [predicates, bits] of masks) if (predicates.test(value as RequestView)) mask |= bits;
        return (mask === 0 ? null : mask) as never;
      },
      set(value: unknown, bits: unknown) {
        masks.set(value as Predicates, bits as number);
      },
    };
  },
  deriveConstraint() {
    // Never called: the table passes the request view to find() itself.
    return '';
  },
};

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
      if (!PARAM_NAME.test(segment.slice(1)))
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
