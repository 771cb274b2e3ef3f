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
import { LRUCache } from 'lru-cache';

/** An upstream answer as the gateway relays it. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: Buffer;
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
  readonly headers: Headers;
  /** The client went away: stop retrying, cancel the upstream call. */
  readonly signal?: AbortSignal | undefined;
}

/** Forwards requests to one upstream through a breaker; see {@link resilientForwarder}. */
export interface Forwarder {
  forward(request: Forwarded): Promise<UpstreamAnswer>;
  /** The breaker, for health and metrics (`breaker.snapshot()`). */
  readonly breaker: Breaker;
}

/** An upstream 5xx travels as this error inside the pipeline, so breaker and retry see a failure. */
class UpstreamError extends Error {
  constructor(readonly answer: UpstreamAnswer) {
    super(`upstream answered ${String(answer.status)}`);
  }
}

/**
 * Forwarding to one upstream, composed as fallback ∘ retry ∘ breaker ∘ timeout:
 *
 * - every attempt has 2 s (`timeout` aborts the fetch);
 * - 3 failures in a row (5xx, timeouts, refused connections) open the breaker for 5 s, then one
 *   probe decides (growing to 60 s while the upstream stays down): while open, calls are refused at
 *   once instead of piling up on a dead service;
 * - reads (GET) are retried once after a jittered pause, within a retry budget (at most 20% extra
 *   calls), so retries cannot amplify an outage;
 * - when everything fails, a read gets the last good answer for that path (bounded cache, marked
 *   `servedBy: 'cache'`), a write a fast 503 with `Retry-After` when the breaker is open — or the
 *   upstream's own 5xx otherwise.
 */
export function resilientForwarder(upstreamUrl: string, name = 'upstream', clock: Clock = systemClock): Forwarder {
  const lastGood = new LRUCache<string, UpstreamAnswer>({ max: 1_000 });
  const breaker = createBreaker({
    name,
    trip: consecutiveFailures(3),
    openDuration: { initialMs: 5_000, multiplier: 2, maxMs: 60_000 },
    halfOpen: { maxProbes: 1, successesToClose: 1, maxWaitMs: 5_000 },
    clock,
  });
  // Reads: retry ∘ breaker ∘ timeout (the fallback is added per request: it needs the path).
  const reads = pipeline(
    retry({ maxAttempts: 2, backoff: { initialMs: 50, maxMs: 500, jitter: 'full' }, clock }),
    breaker,
    timeout({ ms: 2_000 }),
  );
  // Writes are not retried (not idempotent) but do go through the breaker and the timeout.
  const writes = pipeline(breaker, timeout({ ms: 2_000 }));

  async function attempt(request: Forwarded, signal: AbortSignal): Promise<UpstreamAnswer> {
    const res = await fetch(`${upstreamUrl}${request.path}`, {
      method: request.method,
      headers: request.headers,
      signal,
    });
    const answer: UpstreamAnswer = {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: Buffer.from(await res.arrayBuffer()),
    };
    if (res.status >= 500) throw new UpstreamError(answer);
    return answer;
  }

  /** What to send when the upstream could not answer: the cached copy, a refusal, or its own 5xx. */
  function answerFor(error: unknown, cached: UpstreamAnswer | undefined): UpstreamAnswer {
    if (cached !== undefined) return { ...cached, servedBy: 'cache' };
    if (isBrokenCircuitError(error)) {
      const waitMs = error.retryAt === undefined ? 1_000 : Math.max(0, error.retryAt - clock.now());
      return {
        status: 503,
        contentType: PROBLEM_JSON,
        body: Buffer.from(JSON.stringify(problemDetails(503, `${name} is unavailable`))),
        servedBy: 'breaker',
        retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      };
    }
    if (error instanceof UpstreamError) return error.answer;
    return {
      status: 502,
      contentType: PROBLEM_JSON,
      body: Buffer.from(JSON.stringify(problemDetails(502, `${name} could not be reached`))),
    };
  }

  return {
    breaker,
    async forward(request) {
      const options = request.signal === undefined ? {} : { signal: request.signal };
      const call = ({ signal }: { signal: AbortSignal }): Promise<UpstreamAnswer> => attempt(request, signal);
      if (request.method !== 'GET')
        return writes.execute(call, options).catch((error: unknown) => answerFor(error, undefined));
      const answer = await pipeline(
        fallback((error: unknown) => answerFor(error, lastGood.get(request.path))),
        reads,
      ).execute(call, options);
      if (answer.servedBy === undefined && answer.status < 500) lastGood.set(request.path, answer);
      return answer;
    },
  };
}
