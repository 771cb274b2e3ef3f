import { lowerCaseHeader } from '@portcullis/core';
import type { PredicateValue } from './route.js';
import type { RequestView } from './request-view.js';

type Check = readonly [name: string, value: PredicateValue];

/**
 * A route's host, version and header/query/cookie conditions, compiled once. `rank` orders routes
 * that share a method and path shape (higher wins); `key` is equal for two routes exactly when no
 * request can tell their conditions apart.
 */
export class Predicates {
  readonly rank: readonly number[];
  readonly key: string;
  readonly #host: string | undefined;
  readonly #hostSuffix: string | undefined;
  readonly #headers: readonly Check[];
  readonly #query: readonly Check[];
  readonly #cookies: readonly Check[];

  constructor(host: string | undefined, headers: readonly Check[], query: readonly Check[], cookies: readonly Check[]) {
    const wildcard = host?.startsWith('*.') === true;
    this.#host = wildcard ? undefined : host;
    this.#hostSuffix = wildcard ? host.slice(1) : undefined;
    this.#headers = sorted(headers);
    this.#query = sorted(query);
    this.#cookies = sorted(cookies);
    // Exact host beats any wildcard host, a longer wildcard suffix beats a shorter one; then the
    // number of header, query and cookie conditions (a version is a header condition).
    const hostRank = host === undefined ? 0 : wildcard ? 1 + host.length : 1_000_000;
    this.rank = [hostRank, headers.length + query.length + cookies.length];
    this.key = JSON.stringify([host ?? null, this.#headers, this.#query, this.#cookies]);
  }

  /** True when there is nothing to check. */
  get empty(): boolean {
    return this.rank[0] === 0 && this.rank[1] === 0;
  }

  test(view: RequestView): boolean {
    if (this.#host !== undefined && view.host !== this.#host) return false;
    if (this.#hostSuffix !== undefined) {
      const host = view.host;
      if (host === undefined || host.length <= this.#hostSuffix.length || !host.endsWith(this.#hostSuffix))
        return false;
    }
    // Indexed loops: this runs for every request that reaches a route with conditions (also the
    // requests that fall through to the route without them), and `for…of` with destructuring
    // iterates twice per check.
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i++) {
      const check = headers[i] as Check;
      // Names were lowered when the table was built.
      if (!holds(lowerCaseHeader(view.req, check[0]), check[1])) return false;
    }
    const queries = this.#query;
    if (queries.length > 0) {
      const query = view.req.query;
      for (let i = 0; i < queries.length; i++) {
        const check = queries[i] as Check;
        if (!holds(query.get(check[0]) ?? undefined, check[1])) return false;
      }
    }
    const cookies = this.#cookies;
    for (let i = 0; i < cookies.length; i++) {
      const check = cookies[i] as Check;
      if (!holds(view.cookie(check[0]), check[1])) return false;
    }
    return true;
  }
}

function holds(actual: string | undefined, want: PredicateValue): boolean {
  return actual !== undefined && (want === true || actual === want);
}

function sorted(checks: readonly Check[]): readonly Check[] {
  return [...checks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Compares two ranks: negative when `a` wins. */
export function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const diff = (b[i] ?? 0) - (a[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
