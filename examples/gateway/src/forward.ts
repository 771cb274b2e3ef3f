import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import {
  consecutiveFailures,
  createBreaker,
  fallback,
  isBrokenCircuitError,
  pipeline,
  retry,
  timeout,
  type Breaker,
} from '@portcullis/circuit-breaker';
import { PROBLEM_JSON, problemDetails, systemClock, type Clock } from '@portcullis/core';
import { Agent } from 'undici';
import { createFallbackCache, type CacheLookup, type FallbackCacheOptions } from './fallback-cache.js';
import { relayedResponseHeaders, upstreamRequestHeaders, type RelayedHeaders } from './http-headers.js';

/** An upstream answer as the gateway relays it. */
export interface UpstreamAnswer {
  readonly status: number;
  /** The upstream's headers, less hop-by-hop ones (or the gateway's own, for its refusals). */
  readonly headers: RelayedHeaders;
  /** Whole when it was small enough to keep (or came from the cache); otherwise streamed as it arrives. */
  readonly body: Buffer | Readable;
  /** Why the upstream did not answer this one itself: a cached copy, or a fast refusal. */
  readonly servedBy?: 'cache' | 'breaker';
  /** For a refusal: seconds until the breaker lets a request through again. */
  readonly retryAfterSeconds?: number;
}

/** A request to forward. */
export interface Forwarded {
  readonly method: string;
  /** Path and query on the upstream. */
  readonly path: string;
  /** The client's headers (hop-by-hop ones are dropped here). */
  readonly headers: IncomingHttpHeaders;
  /** The client's request body, streamed to the upstream as it arrives (when `headers` announce one). */
  readonly body?: Readable | undefined;
  /**
   * Who is asking, as far as the upstream's answer may depend on it (identity, tenant): the
   * fallback cache keeps and serves answers per scope. `undefined`: nothing is cached for it.
   */
  readonly scope?: string | undefined;
  /** The client went away: stop retrying, cancel the upstream call. */
  readonly signal?: AbortSignal | undefined;
}

/** Forwards requests to one upstream through a breaker; see {@link resilientForwarder}. */
export interface Forwarder {
  forward(request: Forwarded): Promise<UpstreamAnswer>;
  /** The breaker, for health and metrics (`breaker.snapshot()`). */
  readonly breaker: Breaker;
  /** Closes the connections to the upstream. */
  close(): Promise<void>;
}

/** Options of {@link resilientForwarder}. */
export interface ForwarderOptions {
  /** Names the upstream in the breaker and in problem details. Default `'upstream'`. */
  name?: string | undefined;
  /** Time for the breaker and retry. Default: the system clock. */
  clock?: Clock | undefined;
  /** The last-good-answer cache; see {@link FallbackCacheOptions}. */
  fallbackCache?: FallbackCacheOptions | undefined;
}

/** An upstream 5xx travels as this error inside the pipeline, so breaker and retry see a failure. */
class UpstreamError extends Error {
  constructor(readonly answer: UpstreamAnswer) {
    super(`upstream answered ${String(answer.status)}`);
  }
}

/** Time for an attempt to get the upstream's answer headers, in ms. */
const ATTEMPT_MS = 2_000;

/** How much of an upstream's 5xx body is relayed; past that the gateway says so itself. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Forwarding to one upstream, composed as fallback ∘ retry ∘ breaker ∘ timeout:
 *
 * - bodies go through as they are, streamed both ways, whatever their type: the gateway neither
 *   parses nor limits them (that is the upstream's business);
 * - every attempt has 2 s to get the upstream's answer headers (`timeout` aborts the request; for
 *   a request with a body, the 2 s start when the body has been sent);
 * - 3 failures in a row (5xx, timeouts, refused connections) open the breaker for 5 s, then one
 *   probe decides (growing to 60 s while the upstream stays down): while open, calls are refused at
 *   once instead of piling up on a dead service;
 * - reads (GET and HEAD without a body) are retried once after a jittered pause, within a retry
 *   budget (at most 20% extra calls), so retries cannot amplify an outage; anything with a body is
 *   sent once (a stream cannot be replayed);
 * - when everything fails, a read gets the last good answer to exactly that request for that
 *   caller (see {@link createFallbackCache}; marked `servedBy: 'cache'`), anything else a fast 503
 *   with `Retry-After` when the breaker is open, or the upstream's own 5xx otherwise.
 *
 * @example
 * ```ts
 * const forwarder = resilientForwarder('http://127.0.0.1:9000', { name: 'catalogue' });
 * const answer = await forwarder.forward({ method: 'GET', path: '/users?page=2', headers: {}, scope: 'alice' });
 * await forwarder.close();
 * ```
 */
export function resilientForwarder(upstreamUrl: string, options: ForwarderOptions = {}): Forwarder {
  const name = options.name ?? 'upstream';
  const clock = options.clock ?? systemClock;
  const cache = createFallbackCache({ clock, ...options.fallbackCache });
  const upstream = new URL(upstreamUrl);
  const basePath = upstream.pathname.replace(/\/$/, '');
  const agent = new Agent({ connect: { timeout: ATTEMPT_MS } });
  const breaker = createBreaker({
    name,
    trip: consecutiveFailures(3),
    openDuration: { initialMs: 5_000, multiplier: 2, maxMs: 60_000 },
    halfOpen: { maxProbes: 1, successesToClose: 1, maxWaitMs: 5_000 },
    clock,
  });
  // Reads: retry ∘ breaker ∘ timeout (the fallback is added per request: it needs the request).
  const reads = pipeline(
    retry({ maxAttempts: 2, backoff: { initialMs: 50, maxMs: 500, jitter: 'full' }, clock }),
    breaker,
    timeout({ ms: ATTEMPT_MS }),
  );
  // Other methods are not retried (not idempotent) but do go through the breaker and the timeout.
  const writes = pipeline(breaker, timeout({ ms: ATTEMPT_MS }));
  // A request with a body is sent once (its stream cannot be replayed), and its time runs from the
  // end of the upload (undici's headersTimeout), not from its start.
  const uploads = breaker;

  async function attempt(request: Forwarded, lookup: CacheLookup, signal: AbortSignal): Promise<UpstreamAnswer> {
    // Origin and path apart: the path goes out exactly as the client sent it (a URL would
    // normalise dot segments, and could leave a base path).
    const res = await agent.request({
      origin: upstream.origin,
      path: `${basePath}${request.path}`,
      method: request.method,
      headers: upstreamRequestHeaders(request.headers, request.body !== undefined),
      body: request.body ?? null,
      signal,
      // Counted from the end of the request body (undici restarts it as the body is written), so
      // a client that uploads slowly is not taken for an upstream that answers slowly.
      headersTimeout: ATTEMPT_MS,
    });
    const headers = relayedResponseHeaders(res.headers);
    if (res.statusCode >= 500) {
      const read = await readUpTo(res.body, MAX_ERROR_BODY);
      if (read.whole !== undefined) throw new UpstreamError({ status: res.statusCode, headers, body: read.whole });
      read.rest.destroy();
      throw new UpstreamError(problemAnswer(res.statusCode, `${name} failed with a ${String(res.statusCode)}`));
    }
    if (!cache.accepts(lookup, res.statusCode, headers)) return { status: res.statusCode, headers, body: res.body };
    // Small enough to keep: read it whole (still within the attempt's time); otherwise stream it on.
    const read = await readUpTo(res.body, cache.maxEntryBytes);
    if (read.whole === undefined) return { status: res.statusCode, headers, body: read.rest };
    const answer = { status: res.statusCode, headers, body: read.whole };
    cache.set(lookup, answer);
    return answer;
  }

  function problemAnswer(status: number, detail: string, extra: Partial<UpstreamAnswer> = {}): UpstreamAnswer {
    return {
      status,
      headers: { 'content-type': PROBLEM_JSON },
      body: Buffer.from(JSON.stringify(problemDetails(status, detail))),
      ...extra,
    };
  }

  /** What to send when the upstream could not answer: the cached copy, a refusal, or its own 5xx. */
  function answerFor(error: unknown, cached: UpstreamAnswer | undefined): UpstreamAnswer {
    if (cached !== undefined) return { ...cached, servedBy: 'cache' };
    if (isBrokenCircuitError(error)) {
      const waitMs = error.retryAt === undefined ? 1_000 : Math.max(0, error.retryAt - clock.now());
      return problemAnswer(503, `${name} is unavailable`, {
        servedBy: 'breaker',
        retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      });
    }
    if (error instanceof UpstreamError) return error.answer;
    return problemAnswer(502, `${name} could not be reached`);
  }

  return {
    breaker,
    async forward(request) {
      const options = request.signal === undefined ? {} : { signal: request.signal };
      const lookup: CacheLookup = {
        scope: request.scope,
        method: request.method,
        path: request.path,
        headers: request.headers,
      };
      const call = ({ signal }: { signal: AbortSignal }): Promise<UpstreamAnswer> => attempt(request, lookup, signal);
      if (request.body !== undefined) {
        return uploads.execute(call, options).catch((error: unknown) => answerFor(error, undefined));
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return writes.execute(call, options).catch((error: unknown) => answerFor(error, undefined));
      }
      return pipeline(
        fallback((error: unknown) => answerFor(error, cache.get(lookup))),
        reads,
      ).execute(call, options);
    },
    close: () => agent.close(),
  };
}

/** The body's start, up to `limit` bytes: `whole` when that was all of it, else the body to stream on. */
async function readUpTo(
  body: Readable,
  limit: number,
): Promise<{ whole: Buffer; rest?: never } | { whole?: never; rest: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const source = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    const next = await source.next();
    if (next.done === true) return { whole: Buffer.concat(chunks, size) };
    chunks.push(next.value);
    size += next.value.length;
    if (size > limit) return { rest: Readable.from(resume(chunks, source), { objectMode: false }) };
  }
}

/** What was read, then the rest; closing early (the client left) closes the upstream's body too. */
async function* resume(head: readonly Buffer[], source: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* head;
    for (;;) {
      const next = await source.next();
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    await source.return?.();
  }
}
