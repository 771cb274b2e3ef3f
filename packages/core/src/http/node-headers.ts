import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/**
 * A request header from Node's header object by lower-case name, repeated values joined with
 * `", "`. Checks the value's type rather than own-ness: the object has a prototype, so names like
 * `constructor` must not leak functions.
 */
export function nodeHeader(headers: IncomingHttpHeaders, lowerCaseName: string): string | undefined {
  const value: unknown = headers[lowerCaseName];
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? value.join(', ') : undefined;
}

/**
 * Applies a `continue` verdict's request-header changes to Node's header object in place: the
 * strip list first, then the upstream headers, so a guard may strip a name and set it afresh and a
 * client-sent copy of an upstream header never survives. Names are lower-cased as Node stores them.
 */
export function applyNodeUpstreamHeaders(
  headers: IncomingHttpHeaders,
  strip: readonly string[] | undefined,
  upstream: Headers | undefined,
): void {
  if (strip !== undefined) for (const name of strip) Reflect.deleteProperty(headers, name.toLowerCase());
  // Headers iterates lower-case names; Node joins repeated request headers with ", " the same way.
  if (upstream !== undefined) for (const [name, value] of upstream) headers[name] = value;
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
