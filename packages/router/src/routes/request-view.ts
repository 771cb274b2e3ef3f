import { lowerCaseHeader } from '@portcullis/core';
/**
 * The parts of a request the route table reads: a `GatewayRequest` from `@portcullis/core` is one.
 *
 * @example
 * ```ts
 * import { createGatewayRequest } from '@portcullis/core';
 * import type { MatchRequest } from '@portcullis/router';
 *
 * const req: MatchRequest = createGatewayRequest({ method: 'GET', url: '/users/7', header: () => undefined });
 * ```
 */
export interface MatchRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The path as received, without the query string, not decoded. */
  readonly path: string;
  /** The query string parameters. */
  readonly query: URLSearchParams;
  /** A request header by case-insensitive name. */
  header(name: string): string | undefined;
}

/** One request as the predicates see it: host and cookies parsed once, on first use. */
export class RequestView {
  readonly req: MatchRequest;
  #host: string | undefined | null = null;
  #cookies: Map<string, string> | null = null;

  constructor(req: MatchRequest) {
    this.req = req;
  }

  /** Lower-case host without port or trailing dot; undefined without a `Host` header. */
  get host(): string | undefined {
    if (this.#host === null) this.#host = normaliseHost(lowerCaseHeader(this.req, 'host'));
    return this.#host;
  }

  cookie(name: string): string | undefined {
    this.#cookies ??= parseCookies(lowerCaseHeader(this.req, 'cookie'));
    return this.#cookies.get(name);
  }
}

/** Lower-case, without the port and a trailing dot (`API.Example.com.:8080` → `api.example.com`). */
export function normaliseHost(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  // Most hosts arrive in this form already: one scan instead of four string calls.
  return isNormalHost(value) ? value : normaliseHostByRule(value);
}

/**
 * Whether `value` is its own normal form: lower-case letters, digits, `-` and `.` only (no port,
 * no brackets, no space, nothing to lower-case), not ending with a dot. Non-empty.
 */
function isNormalHost(value: string): boolean {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (!((code >= 97 && code <= 122) || (code >= 45 && code <= 57 && code !== 47))) return false;
  }
  return value.charCodeAt(length - 1) !== 46;
}

/** {@link normaliseHost} by the full rule, for a non-empty value (exported for its tests). */
export function normaliseHostByRule(value: string): string | undefined {
  let host = value.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end === -1 ? host : host.slice(0, end + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host === '' ? undefined : host;
}

// Linear in the header's length; the first occurrence of a name wins (RFC 6265 §5.4 orders by
// path length, which a server cannot see, so "first" is the common convention).
function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined) return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    if (name !== '' && !cookies.has(name)) cookies.set(name, pair.slice(eq + 1).trim());
  }
  return cookies;
}
