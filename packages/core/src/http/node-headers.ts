import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { headerChange, isProtected, type HeaderChange } from './header-names.js';

/** The parts of Node's `IncomingMessage` that hold request headers: three views of one header list. */
export interface NodeRequestHeaders {
  /** Lower-case name → value; repeats joined with `", "` (or kept in an array), some discarded. */
  headers: IncomingHttpHeaders;
  /** Names and values as received, alternating: every copy, in every spelling. */
  rawHeaders: string[];
  /** Lower-case name → every value (Node ≥ 18.3); built from `rawHeaders` on first read. */
  readonly headersDistinct?: Record<string, string[] | undefined>;
}

// Names of which Node keeps only the first copy in `headers` (the rest are discarded): see
// `message.headers` in Node's documentation.
const FIRST_COPY_ONLY = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/**
 * A request header by lower-case name, repeated values joined with `", "`, as a `GatewayRequest`
 * promises on every adapter. For the names Node keeps only the first copy of (`authorization`,
 * `host`, …), the copies are read from `rawHeaders`, so a guard sees that a client sent two (as
 * it would on a Web `Request`) instead of silently the first. Checks the value's type rather than
 * own-ness: the object has a prototype, so names like `constructor` must not leak functions.
 */
export function nodeHeader(req: NodeRequestHeaders, lowerCaseName: string): string | undefined {
  const value: unknown = req.headers[lowerCaseName];
  if (typeof value === 'string')
    return FIRST_COPY_ONLY.has(lowerCaseName) ? everyCopy(req, lowerCaseName, value) : value;
  return Array.isArray(value) ? value.join(', ') : undefined;
}

function everyCopy(req: NodeRequestHeaders, name: string, kept: string): string {
  const raw = req.rawHeaders;
  let first: string | undefined;
  let joined = '';
  let copies = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const rawName = raw[i] as string;
    if (rawName.length !== name.length || rawName.toLowerCase() !== name) continue;
    const rawValue = raw[i + 1] as string;
    first ??= rawValue;
    joined = copies === 0 ? rawValue : `${joined}, ${rawValue}`;
    copies++;
  }
  // A middleware that replaced the header since has the last word.
  return copies > 1 && first === kept ? joined : kept;
}

/**
 * Applies a `continue` verdict's request-header changes to a Node request in place. Every header
 * whose name, ignoring case and `_` versus `-`, is one the verdict strips or sets is removed (so
 * `X_User_Id` goes with `x-user-id`) from every view a handler or a forwarder can read: `headers`,
 * `headersDistinct` and `rawHeaders`. Then the upstream headers are set in `headers`, the view
 * `req.get()`, Fastify's `request.headers` and proxies built on them read; the raw views keep
 * what the client sent, less the protected names. A client-sent copy survives in no view.
 */
export function applyNodeUpstreamHeaders(
  req: NodeRequestHeaders,
  strip: readonly string[] | undefined,
  upstream: Headers | undefined,
): void {
  const change = headerChange(strip, upstream);
  if (change === undefined) return;
  // Node builds `headers` and `headersDistinct` from `rawHeaders` on first read, counting on the
  // length it parsed: both are read (built) before the raw list changes, which is only when the
  // client sent a protected name (building `headersDistinct` costs microseconds: not on every
  // request).
  const { headers } = req;
  applyNodeHeaderObject(headers, change);
  const raw = req.rawHeaders;
  let found = false;
  for (let i = 0; i < raw.length && !found; i += 2) found = isProtected(change, raw[i] as string);
  if (!found) return;
  const distinct = req.headersDistinct;
  if (distinct !== undefined) {
    for (const name of Object.keys(distinct)) if (isProtected(change, name)) Reflect.deleteProperty(distinct, name);
  }
  let kept = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (isProtected(change, raw[i] as string)) continue;
    raw[kept++] = raw[i] as string;
    raw[kept++] = raw[i + 1] as string;
  }
  raw.length = kept;
}

/**
 * The same change on a lone Node-style header object (lower-case names), such as `req.headers`,
 * or the headers Fastify keeps apart when `request.headers` is assigned: protected names stripped
 * in every spelling, then the upstream headers set.
 */
export function applyNodeHeaderObject(headers: IncomingHttpHeaders, change: HeaderChange): void {
  for (const name of Object.keys(headers)) {
    if (isProtected(change, name)) Reflect.deleteProperty(headers, name);
  }
  // Headers iterates lower-case names; Node joins repeated request headers with ", " the same way.
  for (const [name, value] of change.set) headers[name] = value;
}

/**
 * Sets a `respond` verdict's headers on a Node response. Values replace what an earlier middleware
 * set for the same name (the verdict's own headers win), except `set-cookie`, which accumulates.
 */
export function setNodeResponseHeaders(res: ServerResponse, headers: Headers | undefined): void {
  if (headers === undefined) return;
  for (const [name, value] of headers) {
    if (name === 'set-cookie') res.appendHeader(name, value);
    else res.setHeader(name, value);
  }
}

/**
 * True when the client disconnected before the response finished: Node destroys the response when
 * its socket closes. Adapters check it when an asynchronous guard answers, because the `close`
 * event may already have fired while the guard was thinking.
 */
export function clientGone(res: ServerResponse): boolean {
  return res.destroyed && !res.writableFinished;
}
