import type { RequestOutcome } from '../canary/controller.js';
import type { Split } from '../split/split.js';

/**
 * What a header, query or cookie predicate asks of its value: an exact string, or `true` for
 * "present with any value". No regular expressions: a predicate costs one lookup and one compare.
 *
 * @example
 * ```ts
 * import type { RouteDefinition } from '@portcullis/router';
 *
 * const beta: RouteDefinition = { name: 'beta', path: '/feed', headers: { 'x-beta': '1' }, cookies: { session: true } };
 * ```
 */
export type PredicateValue = string | true;

/**
 * One route of a table, as written by the user. Every field but `name` and `path` is optional;
 * an absent matcher matches every request.
 *
 * @typeParam Meta - Whatever the route carries for later steps (an upstream name, a pool…).
 *
 * @example
 * ```ts
 * import type { RouteDefinition } from '@portcullis/router';
 *
 * const routes: RouteDefinition<{ upstream: string }>[] = [
 *   { name: 'user', path: '/users/:id', methods: ['GET'], meta: { upstream: 'users' } },
 *   { name: 'api-v2', path: '/api', prefix: true, version: '2', meta: { upstream: 'api-v2' } },
 *   { name: 'tenant', path: '/', prefix: true, host: '*.example.com', meta: { upstream: 'tenants' } },
 * ];
 * ```
 */
export interface RouteDefinition<Meta = unknown> {
  /** Unique name, used in errors, events and the request context. */
  readonly name: string;
  /**
   * Path pattern in canonical form (see `canonicalPath`): static segments, `:name` segments (one
   * whole segment each) and a final `*` segment (the rest of the path, as `params['*']`).
   */
  readonly path: string;
  /**
   * Mount `path` as a prefix: it matches `path` itself and everything below it (the rest as
   * `params['*']`). Default is false.
   */
  readonly prefix?: boolean | undefined;
  /** Upper-case methods the route answers. Default is every method. */
  readonly methods?: readonly string[] | undefined;
  /** `api.example.com` (exact) or `*.example.com` (any host ending in `.example.com`). Default: any host. */
  readonly host?: string | undefined;
  /**
   * The API version the route serves. With the table's `versioning: { header }` (the default,
   * `accept-version`) a request selects it by that header; with `versioning: 'path'` the route's
   * path is mounted under `/v<version>`. Default: unversioned (matches any version).
   */
  readonly version?: string | undefined;
  /** Request headers that must be present (`true`) or equal a value. Names are case-insensitive. */
  readonly headers?: Readonly<Record<string, PredicateValue>> | undefined;
  /** Query parameters that must be present (`true`) or equal a value (the first occurrence). */
  readonly query?: Readonly<Record<string, PredicateValue>> | undefined;
  /** Cookies that must be present (`true`) or equal a value (raw, not decoded). */
  readonly cookies?: Readonly<Record<string, PredicateValue>> | undefined;
  /** Carried as is to the match. */
  readonly meta?: Meta | undefined;
  /**
   * A traffic split: the router guard assigns each request of the route a variant with it, puts
   * the variant in the context (`variant`) and, when the guard has a `variantHeader`, upstream.
   * Default: none (no variant).
   */
  readonly split?: Split | undefined;
  /**
   * Where the guard reports each request's outcome with its variant (`record(variant, outcome)`):
   * a `createCanary` or `createRedisCanary` controller, usually driving `split`. Requires `split`.
   * Default: none.
   */
  readonly canary?: RouteCanary | undefined;
}

/**
 * What a route's `canary` must offer: `record(variant, { status, durationMs })`, as both
 * `createCanary` and `createRedisCanary` controllers do.
 *
 * @example
 * ```ts
 * import type { RouteCanary } from '@portcullis/router';
 *
 * const counts = new Map<string, number>();
 * const counting: RouteCanary = { record: (variant) => counts.set(variant, (counts.get(variant) ?? 0) + 1) };
 * ```
 */
export interface RouteCanary {
  /** Counts one request's outcome for `variant`. */
  record(variant: string, outcome: RequestOutcome): void;
}

/**
 * A route of a built table: the definition plus what the table worked out. Frozen.
 *
 * @example
 * ```ts
 * import { createRouteTable } from '@portcullis/router';
 *
 * const table = createRouteTable([{ name: 'user', path: '/users/:id' }]);
 * table.routes[0]?.name; // 'user'
 * ```
 */
export interface Route<Meta = unknown> {
  /** The definition's name. */
  readonly name: string;
  /** The definition, as given. */
  readonly definition: RouteDefinition<Meta>;
  /** The definition's `meta`. */
  readonly meta: Meta | undefined;
  /** Position in the table's definitions (0-based); the tie-breaker of precedence. */
  readonly index: number;
  /** The definition's `split`. */
  readonly split: Split | undefined;
  /** The definition's `canary`. */
  readonly canary: RouteCanary | undefined;
}
