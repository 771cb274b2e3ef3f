import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { RetryBudget, RetryBudgetExceededError } from '@portcullis/circuit-breaker';
import { PROBLEM_JSON, problemDetails, systemClock, type Clock } from '@portcullis/core';
import { classifyFailure, type EndpointLease, type EndpointOutcome, type EndpointPicker } from '@portcullis/router';
import { Agent } from 'undici';
import type { Cancellation, CancelSignal } from './cancel.js';
import { Deadlines } from './deadlines.js';
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
  readonly servedBy?: 'cache' | 'unavailable';
  /** The instance that answered (its pool id, `127.0.0.1:9001`). */
  readonly endpoint?: string;
  /** For a refusal: seconds until an instance may take requests again. */
  readonly retryAfterSeconds?: number;
}

/** A request to forward. */
export interface Forwarded {
  /** The service's endpoints: its upstream pool. */
  readonly endpoints: EndpointPicker;
  /** Names the service in problem details. */
  readonly service: string;
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
  /**
   * The client went away: stop retrying, cancel the upstream call. An `AbortSignal`, or a
   * `Cancellation` (cancel.ts), which costs far less per request.
   */
  readonly signal?: CancelSignal | undefined;
}

/** Forwards requests to the instances of upstream pools; see {@link resilientForwarder}. */
export interface Forwarder {
  forward(request: Forwarded): Promise<UpstreamAnswer>;
  /**
   * Attempts per service so far, and how many failed (a 5xx, refused, reset or timed out; a client
   * leaving is neither), for `/demo/forwarding` and metrics.
   */
  stats(): Record<string, AttemptStats>;
  /** Closes the connections to the upstreams. */
  close(): Promise<void>;
}

/** Attempts to one service's instances; see {@link Forwarder.stats}. */
export interface AttemptStats {
  attempts: number;
  failures: number;
}

/** Options of {@link resilientForwarder}. */
export interface ForwarderOptions {
  /** Time for retry backoff and the fallback cache. Default: the system clock. */
  clock?: Clock | undefined;
  /** The last-good-answer cache; see {@link FallbackCacheOptions}. */
  fallbackCache?: FallbackCacheOptions | undefined;
  /** Seconds a fast 503 tells the client to wait (`Retry-After`) when no instance can take it. Default 5. */
  retryAfterSeconds?: number | undefined;
}

/** An upstream 5xx travels as this error inside the pipeline, so that retry sees a failure. */
class UpstreamError extends Error {
  constructor(readonly answer: UpstreamAnswer) {
    super(`upstream answered ${String(answer.status)}`);
  }
}

/** No instance of the service could be offered: every breaker open (or the pool empty). */
class NoInstanceError extends Error {
  constructor(readonly service: string) {
    super(`no instance of ${service} can take requests`);
  }
}

/** Time for an attempt to get the upstream's answer headers, in ms. */
const ATTEMPT_MS = 2_000;

/** A read's retry waits a uniform random time below this, in ms (full jitter). */
const RETRY_BACKOFF_MS = 50;

/** How much of an upstream's 5xx body is relayed; past that the gateway says so itself. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Forwarding to upstream pools, fallback ∘ retry ∘ timeout around one attempt (as plain code: the
 * policies' per-call promises, controllers and timers cost more than the rest of a request), and
 * each attempt on the instance its pool hands out (least-request; unhealthy, ejected and
 * breaker-open instances left out):
 *
 * - bodies go through as they are, streamed both ways, whatever their type: the gateway neither
 *   parses nor limits them (that is the upstream's business);
 * - every attempt has 2 s to get the upstream's answer headers (its signal aborts at the deadline,
 *   one timer for all attempts; for a request with a body, undici's `headersTimeout`: the 2 s
 *   start when the body has been sent);
 * - every attempt's outcome goes back to the instance's lease: its status, or `refused`, `reset`,
 *   `timeout` (the client leaving is `aborted`, never held against the instance). The pool ejects
 *   an instance that keeps failing and opens its breaker; when no instance is left, the answer is
 *   a fast 503 with `Retry-After`, at once, instead of requests piling up on a dead service;
 * - reads (GET and HEAD without a body) are retried once on another instance after a jittered
 *   pause, within a retry budget (at most 20 % extra calls), so retries cannot amplify an outage;
 *   anything with a body is sent once (a stream cannot be replayed);
 * - when everything fails, a read gets the last good answer to exactly that request for that
 *   caller (see {@link createFallbackCache}; marked `servedBy: 'cache'`), anything else the fast
 *   503 or the upstream's own 5xx.
 *
 * @example
 * ```ts
 * const forwarder = resilientForwarder();
 * const endpoints = fixedEndpoints(['http://127.0.0.1:9000']);
 * const answer = await forwarder.forward({ endpoints, service: 'users', method: 'GET', path: '/users?page=2', headers: {}, scope: 'alice' });
 * await forwarder.close();
 * ```
 */
export function resilientForwarder(options: ForwarderOptions = {}): Forwarder {
  const clock = options.clock ?? systemClock;
  const retryAfterSeconds = options.retryAfterSeconds ?? 5;
  const cache = createFallbackCache({ clock, ...options.fallbackCache });
  const agent = new Agent({ connect: { timeout: ATTEMPT_MS } });
  // Keyed by service name: the gateway's configuration, never client input.
  const stats = new Map<string, AttemptStats>();
  // Reads are retried once within this budget (at most 20 % extra calls over 10 s, and 10 whatever
  // the traffic): the retry policy's, run as a plain loop below, since a policy's promises, abort
  // listeners and per-attempt controllers cost more than the rest of the request.
  const budget = new RetryBudget({ ratio: 0.2 }, clock.now());
  // Each attempt's 2 s, all under one timer (an AbortController and a timer per attempt cost more).
  const deadlines = new Deadlines(ATTEMPT_MS);

  async function attempt(
    request: Forwarded,
    lookup: CacheLookup,
    signal: CancelSignal | undefined,
    tried: Set<string>,
  ): Promise<UpstreamAnswer> {
    const lease = request.endpoints.acquire(undefined, tried);
    if (lease === undefined) throw new NoInstanceError(request.service);
    tried.add(lease.id);
    let counted = stats.get(request.service);
    if (counted === undefined) stats.set(request.service, (counted = { attempts: 0, failures: 0 }));
    const outcome = new AttemptOutcome(lease, counted, request, signal);
    let res;
    try {
      // Origin and path apart: the path goes out as the router decided it (a URL would normalise
      // it again).
      res = await agent.request({
        origin: lease.origin,
        path: request.path,
        method: request.method,
        headers: upstreamRequestHeaders(request.headers, request.body !== undefined),
        body: request.body ?? null,
        // undici reads `aborted`, `reason` and the abort listener of a signal, which a Cancellation has.
        signal,
        // Counted from the end of the request body (undici restarts it as the body is written), so
        // a client that uploads slowly is not taken for an upstream that answers slowly.
        headersTimeout: ATTEMPT_MS,
      });
    } catch (error) {
      return outcome.failed(error);
    }
    const headers = relayedResponseHeaders(res.headers);
    const status = res.statusCode;
    if (status >= 500) {
      const read = await readUpTo(res.body, MAX_ERROR_BODY).catch((error: unknown) => outcome.failed(error));
      outcome.done(status);
      if (read.whole !== undefined) throw new UpstreamError({ status, headers, body: read.whole, endpoint: lease.id });
      read.rest.destroy();
      throw new UpstreamError(problemAnswer(status, `${request.service} failed with a ${String(status)}`));
    }
    if (!cache.accepts(lookup, status, headers)) {
      // Streamed on: the lease ends with the body (the balancer counts the instance busy until then).
      res.body.once('close', () => {
        outcome.done(status);
      });
      return { status, headers, body: res.body, endpoint: lease.id };
    }
    // Small enough to keep: read it whole (still within the attempt's time); otherwise stream it on.
    const read = await readUpTo(res.body, cache.maxEntryBytes).catch((error: unknown) => outcome.failed(error));
    if (read.whole === undefined) {
      read.rest.once('close', () => {
        outcome.done(status);
      });
      return { status, headers, body: read.rest, endpoint: lease.id };
    }
    outcome.done(status);
    const answer = { status, headers, body: read.whole, endpoint: lease.id };
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
  function answerFor(request: Forwarded, error: unknown, cached: UpstreamAnswer | undefined): UpstreamAnswer {
    if (cached !== undefined) return { ...cached, servedBy: 'cache' };
    if (error instanceof NoInstanceError) {
      return problemAnswer(503, `${request.service} is unavailable: no instance can take requests now`, {
        servedBy: 'unavailable',
        retryAfterSeconds,
      });
    }
    if (error instanceof UpstreamError) return error.answer;
    return problemAnswer(502, `${request.service} could not be reached`);
  }

  /**
   * One attempt with its 2 s (from the start; for the answer headers and, when the body is read
   * whole, the body too): its signal aborts at the deadline or when the client leaves.
   */
  async function timedAttempt(request: Forwarded, lookup: CacheLookup, tried: Set<string>): Promise<UpstreamAnswer> {
    const client = request.signal;
    if (client?.aborted === true) throw client.reason;
    const signal = deadlines.start();
    const link = client === undefined ? undefined : new AbortLink(client, signal);
    try {
      return await attempt(request, lookup, signal, tried);
    } finally {
      deadlines.settle(signal);
      link?.unlink();
    }
  }

  /**
   * A read: an attempt, and when it fails (but for want of an instance, or the client leaving) one
   * retry on another instance after a jittered pause, if the budget allows one (a refusal is a
   * `RetryBudgetExceededError`, as the retry policy's).
   */
  async function read(request: Forwarded, lookup: CacheLookup): Promise<UpstreamAnswer> {
    if (clientLeft(request)) throw request.signal?.reason;
    budget.recordCall(clock.now());
    // Instances this request has tried: a retry goes to another one while there is one.
    const tried = new Set<string>();
    try {
      return await timedAttempt(request, lookup, tried);
    } catch (error) {
      if (clientLeft(request) || error instanceof NoInstanceError) throw error;
      if (!budget.tryRetry(clock.now())) throw new RetryBudgetExceededError(1, error);
      await pause(Math.random() * RETRY_BACKOFF_MS, request.signal);
      return timedAttempt(request, lookup, tried);
    }
  }

  return {
    async forward(request) {
      const lookup: CacheLookup = {
        scope: request.scope,
        method: request.method,
        path: request.path,
        headers: request.headers,
      };
      if (request.body !== undefined) {
        // Sent once; its time runs from the end of the upload (undici's headersTimeout).
        return attempt(request, lookup, request.signal, new Set()).catch((error: unknown) =>
          answerFor(request, error, undefined),
        );
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        // Not retried (not idempotent), but with the attempt's time.
        return timedAttempt(request, lookup, new Set()).catch((error: unknown) => answerFor(request, error, undefined));
      }
      // The fallback: the cached copy or a refusal, unless the client left.
      return read(request, lookup).catch((error: unknown) => {
        if (clientLeft(request)) throw error;
        return answerFor(request, error, cache.get(lookup));
      });
    },
    stats: () => Object.fromEntries([...stats].map(([service, counted]) => [service, { ...counted }])),
    close: () => {
      deadlines.close();
      return agent.close();
    },
  };
}

// The per-attempt and per-body state below lives in small classes rather than in closures made per
// request: under tsx (the benches, `pnpm dev`), every named closure is also wrapped in an
// `Object.defineProperty` call that names it, on every request.

/** Where an attempt's outcome goes, once: its lease (with its duration) and its service's counts. */
class AttemptOutcome {
  readonly #lease: EndpointLease;
  readonly #stats: AttemptStats;
  readonly #request: Forwarded;
  readonly #signal: CancelSignal | undefined;
  readonly #started = performance.now();
  #completed = false;

  constructor(lease: EndpointLease, stats: AttemptStats, request: Forwarded, signal: CancelSignal | undefined) {
    this.#lease = lease;
    this.#stats = stats;
    this.#request = request;
    this.#signal = signal;
  }

  /** The upstream answered with `status` (its body read or relayed whole). */
  done(status: number): void {
    this.#complete(status, undefined);
  }

  /** The exchange failed before its answer was complete: the outcome goes to the lease, then on. */
  failed(error: unknown): never {
    // The client left: not the instance's fault. Our own deadline passed: a timeout.
    const failure = clientLeft(this.#request)
      ? 'aborted'
      : this.#signal?.aborted === true
        ? 'timeout'
        : classifyFailure(error);
    this.#complete(undefined, failure);
    throw error;
  }

  #complete(status: number | undefined, failure: EndpointOutcome['failure']): void {
    if (this.#completed) return;
    this.#completed = true;
    this.#stats.attempts++;
    if ((failure !== undefined && failure !== 'aborted') || (status ?? 0) >= 500) this.#stats.failures++;
    const durationMs = performance.now() - this.#started;
    this.#lease.complete(status === undefined ? { failure, durationMs } : { status, durationMs });
  }
}

/** Aborts `to` with `from`'s reason when `from` aborts, until unlinked. */
class AbortLink {
  readonly #from: CancelSignal;
  readonly #listener: () => void;

  constructor(from: CancelSignal, to: Cancellation) {
    this.#from = from;
    this.#listener = () => {
      to.abort(from.reason);
    };
    from.addEventListener('abort', this.#listener);
  }

  unlink(): void {
    this.#from.removeEventListener('abort', this.#listener);
  }
}

/** Whether the client went away (a function: its signal changes under the compiler's narrowing). */
function clientLeft(request: Forwarded): boolean {
  return request.signal?.aborted === true;
}

/** Waits `ms`; rejects at once with the client's reason when it leaves. */
function pause(ms: number, client: CancelSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onGone = (): void => {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the abort reason, as it came
      reject(client?.reason);
    };
    const timer = setTimeout(() => {
      client?.removeEventListener('abort', onGone);
      resolve();
    }, ms);
    client?.addEventListener('abort', onGone);
  });
}

/** What {@link readUpTo} gives: `whole` when that was all of the body, else the body to stream on. */
type ReadUpTo = { whole: Buffer; rest?: never } | { whole?: never; rest: Readable };

/** The body's start, up to `limit` bytes: `whole` when that was all of it, else the body to stream on. */
function readUpTo(body: Readable, limit: number): Promise<ReadUpTo> {
  // Listeners rather than an async iterator: one promise per body instead of one per chunk.
  return new Promise((resolve, reject) => {
    new BodyReader(body, limit, resolve, reject).listen();
  });
}

/** The listeners of {@link readUpTo}: made once per body, in the constructor (see the note above). */
class BodyReader {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  readonly #body: Readable;
  readonly #onData: (chunk: Buffer) => void;
  readonly #onEnd: () => void;
  readonly #onError: (error: Error) => void;

  constructor(body: Readable, limit: number, resolve: (read: ReadUpTo) => void, reject: (error: Error) => void) {
    this.#body = body;
    this.#onData = (chunk) => {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      if (this.#size <= limit) return;
      this.#stop();
      body.pause();
      resolve({
        rest: Readable.from(resume(this.#chunks, body[Symbol.asyncIterator]() as AsyncIterator<Buffer>), {
          objectMode: false,
        }),
      });
    };
    this.#onEnd = () => {
      this.#stop();
      resolve({ whole: Buffer.concat(this.#chunks, this.#size) });
    };
    this.#onError = (error) => {
      this.#stop();
      reject(error);
    };
  }

  listen(): void {
    this.#body.on('data', this.#onData);
    this.#body.once('end', this.#onEnd);
    this.#body.once('error', this.#onError);
  }

  #stop(): void {
    this.#body.off('data', this.#onData);
    this.#body.off('end', this.#onEnd);
    this.#body.off('error', this.#onError);
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
