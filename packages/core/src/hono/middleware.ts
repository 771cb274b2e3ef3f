import type { Context, MiddlewareHandler, Next } from 'hono';
import type { StatusCode } from 'hono/utils/http-status';
import type { Guard } from '../guard.js';
import { Completion } from '../http/completion.js';
import { mergeContext } from '../http/context.js';
import { LazyGatewayRequest } from '../http/lazy-request.js';
import { isPromiseLike } from '../http/promise-like.js';
import { serializeBody } from '../http/response-body.js';
import { assertVerdict } from '../http/run-guard.js';
import { applyNodeUpstreamHeaders, type NodeRequestHeaders } from '../http/node-headers.js';
import { applyWebUpstreamHeaders } from '../http/web-headers.js';
import { createGatewayRequest, type GatewayRequest, type GuardContext } from '../request.js';
import { isFunctionOption } from '../validate.js';
import type { ContinueVerdict, RespondVerdict, Verdict } from '../verdict.js';
import type { PortcullisEnv } from './env.js';

/**
 * Options of the Hono `portcullis` middleware.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { getConnInfo } from 'hono/bun';
 * import { portcullis } from '@portcullis/core/hono';
 *
 * const app = new Hono().use(portcullis(myGuard, { ip: (c) => getConnInfo(c).remote.address }));
 * ```
 */
export interface HonoPortcullisOptions {
  /**
   * The client address guards see as `req.ip`. Hono has no runtime-neutral notion of it; pass your
   * runtime's (e.g. `(c) => getConnInfo(c).remote.address` from `hono/bun` or
   * `@hono/node-server/conninfo`, or a trusted proxy header).
   *
   * Default: on `@hono/node-server`, the socket's remote address (`c.env.incoming.socket`);
   * elsewhere `undefined`.
   */
  ip?: ((c: Context) => string | undefined) | undefined;
}

type AnyContext = Context<PortcullisEnv>;

/**
 * Turns a guard (or a `compose(...)` of guards) into Hono 4 middleware.
 *
 * - `respond` returns the response at once (status, headers, body; see `RespondVerdict.body`); the
 *   handler does not run.
 * - `continue` adds the response headers to the response (appended; they survive a handler that
 *   returns its own `Response`, and an error response), strips and then sets the upstream headers
 *   on the request in every spelling (case, `_` for `-`): `c.req.header()` and `c.req.raw.headers`
 *   see them, so a client cannot spoof them (where the runtime's request headers are immutable,
 *   `c.req.raw` is replaced by a copy); on `@hono/node-server`, Node's request `c.env.incoming` is
 *   changed as the Express adapter changes `req`; merges the context into `c.get('portcullis')`
 *   and calls `next()`.
 * - `onComplete` learns the outcome once: after `next()` from `c.res.status` and `c.error` (the
 *   error that reached `app.onError`), or with 499 and `aborted: true` when `c.req.raw.signal`
 *   aborts first (`@hono/node-server` aborts it when the client disconnects). With a streamed body
 *   the outcome is reported when the handler returned, not when the last byte left.
 * - A guard that throws or rejects goes to `app.onError`.
 *
 * The guard sees the request URL's path and query, `c.req.raw.signal` as its signal and earlier
 * guards' context as `req.context`; for `req.ip` see {@link HonoPortcullisOptions.ip}.
 *
 * @param guard - The guard to run for every request reaching this middleware.
 * @param options - See {@link HonoPortcullisOptions}.
 * @throws InvalidOptionError when `guard` or `options.ip` is not a function.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { respond, type Guard } from '@portcullis/core';
 * import { portcullis } from '@portcullis/core/hono';
 *
 * const requireKey: Guard<{ apiKey: string }> = (req) => {
 *   const apiKey = req.header('x-api-key');
 *   return apiKey === undefined ? respond(401, { error: 'missing x-api-key' }) : { action: 'continue', context: { apiKey } };
 * };
 *
 * const app = new Hono().use(portcullis(requireKey));
 * app.get('/whoami', (c) => c.json({ apiKey: c.get('portcullis').apiKey ?? null }));
 * ```
 */
export function portcullis<Ctx extends object = GuardContext>(
  guard: Guard<Ctx>,
  options: HonoPortcullisOptions = {},
): MiddlewareHandler<PortcullisEnv<GuardContext & Partial<Ctx>>> {
  isFunctionOption(guard, 'guard');
  const ipOf = options.ip === undefined ? nodeServerIp : isFunctionOption(options.ip, 'ip');
  const run = guard as Guard;

  function portcullisMiddleware(c: AnyContext, next: Next): Promise<Response | undefined> {
    // A synchronous throw propagates from here, and Hono routes it to `app.onError` like a rejection.
    const verdict = run(gatewayRequest(c, ipOf));
    if (isPromiseLike(verdict)) {
      return Promise.resolve(verdict).then(function onVerdict(resolved) {
        return settle(c, next, resolved);
      });
    }
    return settle(c, next, verdict);
  }
  // The context type depends on the guard; at run time it is the same middleware. (typescript-eslint
  // sees the assertion as unnecessary where tsc requires it: the types differ in Hono's `set`.)
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  return portcullisMiddleware as unknown as MiddlewareHandler<PortcullisEnv<GuardContext & Partial<Ctx>>>;
}

function requestSignal(c: AnyContext): AbortSignal {
  return c.req.raw.signal;
}

/** `@hono/node-server` passes Node's request as `c.env.incoming`. */
function nodeServerIp(c: AnyContext): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

function gatewayRequest(c: AnyContext, ipOf: (c: AnyContext) => string | undefined): GatewayRequest {
  const raw = c.req.raw;
  const base = createGatewayRequest({
    method: raw.method,
    url: raw.url,
    header: function header(name) {
      // Read through `c.req.raw` each time: an earlier middleware may have replaced it.
      return c.req.raw.headers.get(name) ?? undefined;
    },
    ip: ipOf(c),
    // Unset (undefined) when no Portcullis middleware ran before, whatever the env type says.
    context: c.get('portcullis'),
  });
  return new LazyGatewayRequest(base, c, requestSignal);
}

function settle(c: AnyContext, next: Next, verdict: Verdict): Promise<Response | undefined> {
  assertVerdict(verdict);
  if (verdict.action === 'respond') return Promise.resolve(answer(c, verdict));
  letThrough(c, verdict);
  if (verdict.onComplete === undefined) return next() as Promise<undefined>;
  return nextThenComplete(c, next, new Completion(verdict.onComplete));
}

function letThrough(c: AnyContext, verdict: ContinueVerdict): void {
  const { stripUpstreamHeaders: strip, upstreamHeaders: upstream } = verdict;
  if (strip !== undefined || upstream !== undefined) setUpstreamHeaders(c, strip, upstream);
  if (verdict.responseHeaders !== undefined) {
    // Through `c.res`, not `c.header()` alone: headers Hono merely "prepares" are lost when the
    // handler returns a `Response` of its own, while those on `c.res` are copied onto it.
    const headers = c.finalized ? undefined : c.res.headers;
    for (const [name, value] of verdict.responseHeaders) {
      if (headers === undefined) c.header(name, value, { append: true });
      else headers.append(name, value);
    }
  }
  c.set('portcullis', mergeContext(c.get('portcullis'), verdict.context));
}

function setUpstreamHeaders(c: AnyContext, strip: readonly string[] | undefined, upstream: Headers | undefined): void {
  try {
    applyWebUpstreamHeaders(c.req.raw.headers, strip, upstream);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // Immutable request headers (e.g. Cloudflare Workers, Deno): carry on with a copy.
    const headers = new Headers(c.req.raw.headers);
    applyWebUpstreamHeaders(headers, strip, upstream);
    c.req.raw = new Request(c.req.raw, { headers });
  }
  // On `@hono/node-server` a handler can also read Node's request (`c.env.incoming`): the same
  // change there, after the Web headers (which may have copied the raw list before).
  const incoming = nodeIncoming(c);
  if (incoming !== undefined) applyNodeUpstreamHeaders(incoming, strip, upstream);
}

function nodeIncoming(c: AnyContext): NodeRequestHeaders | undefined {
  const env = c.env as { incoming?: Partial<NodeRequestHeaders> } | undefined;
  const incoming = env?.incoming;
  return typeof incoming?.headers === 'object' && Array.isArray(incoming.rawHeaders)
    ? (incoming as NodeRequestHeaders)
    : undefined;
}

function answer(c: AnyContext, verdict: RespondVerdict): Response {
  const { body, contentType } = serializeBody(verdict);
  const headers = new Headers(verdict.headers);
  if (contentType !== undefined) headers.set('content-type', contentType);
  // `c.newResponse` keeps headers earlier middleware put on `c.res` (another guard's response
  // headers). Hono types `status` as its union of known codes; a verdict's may be any valid one.
  const response = c.newResponse(webBody(body), { status: verdict.status as StatusCode, headers });
  if (verdict.onComplete !== undefined) {
    const completion = new Completion(verdict.onComplete);
    if (c.req.raw.signal.aborted) completion.abort();
    else completion.finish(response.status);
  }
  return response;
}

/** Web `Response` takes no views of a `SharedArrayBuffer`; those (only) are copied. */
function webBody(body: string | Uint8Array | undefined): string | Uint8Array<ArrayBuffer> | null {
  if (body === undefined) return null;
  if (typeof body === 'string') return body;
  return body.buffer instanceof ArrayBuffer ? (body as Uint8Array<ArrayBuffer>) : new Uint8Array(body);
}

async function nextThenComplete(c: AnyContext, next: Next, completion: Completion): Promise<undefined> {
  const signal = c.req.raw.signal;
  function onAbort(): void {
    completion.abort();
  }
  if (signal.aborted) completion.abort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await next();
  } catch (error) {
    // Hono hands only `Error`s to `app.onError`; anything else ends up as the server's 500.
    completion.finish(500, error);
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  completion.finish(c.res.status, c.error);
  return undefined;
}
