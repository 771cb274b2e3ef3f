/**
 * The context entries that Portcullis packages add, by name, for typing only: each package declares
 * its own by augmenting this interface (`@portcullis/ratelimit` adds `rateLimit`,
 * `@portcullis/jwt-cache` adds `jwt` and `identity`), so that importing a package types
 * `req.portcullis.rateLimit` without a cast. Your own guards can do the same.
 *
 * @example
 * ```ts
 * declare module '@portcullis/core' {
 *   interface PortcullisContext {
 *     readonly tenant: string; // added by my requireTenant guard
 *   }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by augmentation
export interface PortcullisContext {}

/**
 * What earlier guards put in the request's context, merged in order (see `compose`): any name, with
 * the entries declared in {@link PortcullisContext} typed (and optional: the guard that adds one may
 * not have run).
 */
// eslint-disable-next-line @typescript-eslint/no-generated-empty-object-type -- empty until a package augments it
export type GuardContext = Readonly<Partial<PortcullisContext>> & Readonly<Record<string, unknown>>;

/**
 * The minimal, framework-neutral view of an incoming request that every guard receives. Adapters
 * build it cheaply from Node's `IncomingMessage` or a Web `Request`; nothing is parsed until asked
 * for (`query` is lazy).
 *
 * @example
 * ```ts
 * import type { Guard } from '@portcullis/core';
 *
 * const onlyGet: Guard = (req) =>
 *   req.method === 'GET' ? { action: 'continue' } : { action: 'respond', status: 405 };
 * ```
 */
export interface GatewayRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The path as received, without the query string, not percent-decoded. */
  readonly path: string;
  /** The query string parameters (parsed on first access). */
  readonly query: URLSearchParams;
  /**
   * A request header by case-insensitive name; repeated headers are joined with `", "` as HTTP
   * allows. `undefined` when absent.
   */
  header(name: string): string | undefined;
  /** The client address as the framework sees it (after its own trust-proxy rules), if known. */
  readonly ip: string | undefined;
  /** Context added by guards that ran before this one (e.g. a verified identity). */
  readonly context: GuardContext;
  /** Aborted when the client goes away, where the adapter can tell. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * @internal The method under which the requests Portcullis builds answer a header read by a name
 * already in lower case (see {@link lowerCaseHeader}). A prototype method, never an own property:
 * a copy such as `{ ...req, header }` does not carry it, so it reads through its own `header`.
 */
export const READ_LOWER_CASE: unique symbol = Symbol('portcullis.readLowerCaseHeader');

/** @internal A request that has the {@link READ_LOWER_CASE} method. */
interface LowerCaseReader {
  [READ_LOWER_CASE](lowerCaseName: string): string | undefined;
}

/**
 * @internal Gives a request class's prototype the {@link READ_LOWER_CASE} method, from a class's
 * static block (where it can read the class's private fields; a computed method name in another
 * file is not allowed under `isolatedDeclarations`).
 */
export function defineLowerCaseRead<T>(
  prototype: T,
  read: (this: T, lowerCaseName: string) => string | undefined,
): void {
  Object.defineProperty(prototype, READ_LOWER_CASE, { value: read });
}

/**
 * A request header by a name that is already in lower case: what `req.header(name)` answers, for
 * code that reads a few names fixed (and lowered) when it was built, on every request (the
 * router's conditions and its split's override and key). On the requests Portcullis's adapters,
 * `createGatewayRequest` and `withContext` build it skips folding the name's case (a `Map`
 * lookup) and the calls through `header`'s closures: about 80 instructions fewer per read under
 * callgrind. Any other request (a copy with its own `header`, your own object) is asked through
 * its `header`.
 *
 * @param req - The request (anything with a `header` method).
 * @param lowerCaseName - The header's name in lower case; another spelling may not be found.
 *
 * @example
 * ```ts
 * import { createGatewayRequest, lowerCaseHeader } from '@portcullis/core';
 *
 * const req = createGatewayRequest({ method: 'GET', url: '/', header: (name) => (name === 'x-user-id' ? 'u1' : undefined) });
 * lowerCaseHeader(req, 'x-user-id'); // 'u1'
 * ```
 */
export function lowerCaseHeader(req: Pick<GatewayRequest, 'header'>, lowerCaseName: string): string | undefined {
  const reader = req as Partial<LowerCaseReader>;
  // Called as a method (not `.call`): V8 inlines it where the request's class is known.
  return reader[READ_LOWER_CASE] === undefined
    ? req.header(lowerCaseName)
    : (reader as LowerCaseReader)[READ_LOWER_CASE](lowerCaseName);
}

/** The raw parts {@link createGatewayRequest} builds a {@link GatewayRequest} from. */
export interface GatewayRequestInit {
  /** HTTP method, any case. */
  method: string;
  /** Path plus optional query string (`/a/b?x=1`), or an absolute URL. */
  url: string;
  /** Header lookup by lower-case name. */
  header: (lowerCaseName: string) => string | undefined;
  /** Client address, if known. */
  ip?: string | undefined;
  /** Context from earlier guards; defaults to empty. */
  context?: GuardContext | undefined;
  /** Aborted when the client goes away. */
  signal?: AbortSignal | undefined;
}

const EMPTY_CONTEXT: GuardContext = Object.freeze({});

/**
 * Builds a {@link GatewayRequest}. Adapters use it; tests and custom integrations can too.
 *
 * @example
 * ```ts
 * import { createGatewayRequest } from '@portcullis/core';
 *
 * const headers = new Headers({ authorization: 'Bearer abc' });
 * const req = createGatewayRequest({
 *   method: 'get',
 *   url: '/users/42?fields=name',
 *   header: (name) => headers.get(name) ?? undefined,
 *   ip: '203.0.113.7',
 * });
 * req.path; // '/users/42'
 * req.query.get('fields'); // 'name'
 * ```
 */
export function createGatewayRequest(init: GatewayRequestInit): GatewayRequest {
  const { path, search } = splitUrl(init.url);
  return new BuiltRequest(
    init.method.toUpperCase(),
    path,
    search,
    init.header,
    init.ip,
    init.context ?? EMPTY_CONTEXT,
    init.signal,
  );
}

/**
 * A copy of `req` whose context is `context` (everything else shared). Used by `compose` to show
 * each guard what the guards before it added.
 *
 * @example
 * ```ts
 * import { createGatewayRequest, withContext } from '@portcullis/core';
 *
 * const req = createGatewayRequest({ method: 'GET', url: '/', header: () => undefined });
 * withContext(req, { user: 'ada' }).context; // { user: 'ada' }
 * ```
 */
export function withContext(req: GatewayRequest, context: GuardContext): GatewayRequest {
  return new ContextRequest(req, context);
}

// Classes, not object literals: a literal with a getter (the lazy `query`) is a dictionary-mode
// object in V8, so every read of `method`, `path` or `header` by every guard was a hash lookup
// (measured under callgrind in the router's benchmark). Instances of one class share one shape.
// `header` stays an own property holding a closure that does not use `this`, so
// `const { header } = req` keeps working.

/** What {@link createGatewayRequest} builds: the query string parsed on first access. */
class BuiltRequest implements GatewayRequest {
  readonly method: string;
  readonly path: string;
  readonly header: (name: string) => string | undefined;
  readonly ip: string | undefined;
  readonly context: GuardContext;
  readonly signal: AbortSignal | undefined;
  readonly #search: string;
  readonly #lookup: (lowerCaseName: string) => string | undefined;
  #query: URLSearchParams | undefined;

  constructor(
    method: string,
    path: string,
    search: string,
    lookup: (lowerCaseName: string) => string | undefined,
    ip: string | undefined,
    context: GuardContext,
    signal: AbortSignal | undefined,
  ) {
    this.method = method;
    this.path = path;
    this.header = function header(name: string): string | undefined {
      return lookup(lowerCase(name));
    };
    this.ip = ip;
    this.context = context;
    this.signal = signal;
    this.#search = search;
    this.#lookup = lookup;
  }

  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.#search);
    return this.#query;
  }

  [READ_LOWER_CASE](lowerCaseName: string): string | undefined {
    return this.#lookup(lowerCaseName);
  }
}

/** What {@link withContext} builds: `base` with another context. */
class ContextRequest implements GatewayRequest {
  readonly method: string;
  readonly path: string;
  readonly header: (name: string) => string | undefined;
  readonly ip: string | undefined;
  readonly context: GuardContext;
  readonly #base: GatewayRequest;

  constructor(base: GatewayRequest, context: GuardContext) {
    this.method = base.method;
    this.path = base.path;
    this.header = (name: string): string | undefined => base.header(name);
    this.ip = base.ip;
    this.context = context;
    this.#base = base;
  }

  get query(): URLSearchParams {
    return this.#base.query;
  }

  // Read through, not copied: an adapter's request builds its signal on first access.
  get signal(): AbortSignal | undefined {
    return this.#base.signal;
  }

  [READ_LOWER_CASE](lowerCaseName: string): string | undefined {
    return lowerCaseHeader(this.#base, lowerCaseName);
  }
}

/**
 * Header names in lower case, remembered: guards ask for the same few names on every request, and
 * a lookup costs about half of `toLowerCase()` (measured under callgrind: 79 vs 184 instructions).
 * Bounded: past {@link MAX_REMEMBERED_NAMES} names (a caller passing client input), names are
 * lowered each time.
 */
const lowerNames = new Map<string, string>();
const MAX_REMEMBERED_NAMES = 256;

/** @internal The lower-case form of a header name (adapters building their own requests). */
export function lowerCase(name: string): string {
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerNames.size < MAX_REMEMBERED_NAMES) lowerNames.set(name, lower);
  }
  return lower;
}

/** @internal A request target's path and query string (adapters building their own requests). */
export function splitUrl(url: string): { path: string; search: string } {
  let rest = url;
  // Absolute-form request targets (proxies, Web Request.url) carry scheme and authority.
  const scheme = rest.indexOf('://');
  if (scheme !== -1 && scheme < rest.indexOf('/')) {
    const slash = rest.indexOf('/', scheme + 3);
    rest = slash === -1 ? '/' : rest.slice(slash);
  }
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  if (q === -1) return { path: rest === '' ? '/' : rest, search: '' };
  const path = rest.slice(0, q);
  return { path: path === '' ? '/' : path, search: rest.slice(q + 1) };
}
