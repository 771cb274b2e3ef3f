import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { reportUnhandled, type Clock, type Emitter, type Outcome } from '@portcullis/core';
import type { Policy } from '@portcullis/circuit-breaker';
import type { Dispatcher } from 'undici';
import type { EndpointLease, EndpointOutcome, EndpointPicker } from '../pool/lease.js';
import {
  isNoEndpointError,
  isUpstreamFailureError,
  NoEndpointError,
  UpstreamFailureError,
  type UpstreamFailure,
} from './errors.js';
import { classifyFailure, failureStatus } from './failure.js';
import { connectionListed, HOP_BY_HOP } from './hop-by-hop.js';
import type { OriginPools } from './origin-pools.js';
import { writeProblem } from './problem-response.js';
import { RequestBody } from './request-body.js';

/**
 * How one forwarded request ended, as the forwarder reports it: a core `Outcome` (the status the
 * client got, or 499 with `aborted` when it left first; the duration; the error) plus the endpoint
 * and the number of attempts.
 *
 * @example
 * ```ts
 * import type { ForwardResult } from '@portcullis/router';
 *
 * const log = (result: ForwardResult) =>
 *   console.log(result.status, result.endpoint ?? 'no endpoint', `${String(result.attempts)} attempt(s)`);
 * ```
 */
export interface ForwardResult extends Outcome {
  /** The id of the last endpoint tried; absent when none was. */
  endpoint?: string | undefined;
  /** Endpoints tried (1 unless retried; 0 when the request never reached one). */
  attempts: number;
}

/**
 * Payload of the forwarder's `attempt` event: one exchange with one endpoint.
 *
 * @example
 * ```ts
 * import type { AttemptEvent } from '@portcullis/router';
 *
 * const failed = (event: AttemptEvent) => event.outcome.failure !== undefined || (event.outcome.status ?? 0) >= 500;
 * ```
 */
export interface AttemptEvent {
  /** The endpoint's id. */
  readonly endpoint: string;
  /** 1 for the first attempt, 2 for the first retry… */
  readonly attempt: number;
  /** The outcome reported to the endpoint's lease. */
  readonly outcome: EndpointOutcome;
  readonly method: string;
  /** The path sent upstream. */
  readonly path: string;
}

/**
 * The forwarder's events.
 *
 * @example
 * ```ts
 * import { createForwarder } from '@portcullis/router';
 *
 * const forwarder = createForwarder();
 * forwarder.events.on('attempt', ({ endpoint, attempt, outcome }) => {
 *   console.log(endpoint, attempt, outcome.status ?? outcome.failure, outcome.durationMs);
 * });
 * ```
 */
export interface ForwarderEvents {
  /** An exchange with an endpoint ended (its lease was completed). */
  attempt: AttemptEvent;
}

/** What every exchange of one forwarder shares. */
export interface ExchangeSettings {
  readonly pools: OriginPools;
  readonly clock: Clock;
  readonly retry: Policy<unknown> | undefined;
  readonly events: Emitter<ForwarderEvents>;
}

const kExchange = Symbol('portcullis.forward.exchange');

interface TrackedResponse extends ServerResponse {
  [kExchange]?: Exchange | undefined;
}

/** Thrown inside the retry policy when an attempt failed in a way another attempt may fix. */
class RetryableFailure extends UpstreamFailureError {}

/** Why an attempt ended without a response, for the attempt's promise (retry path only). */
interface AttemptSettle {
  resolve(final: UpstreamFailureError | NoEndpointError | undefined): void;
  reject(error: RetryableFailure): void;
}

/**
 * One forwarded request: picks an endpoint, sends the request there through the origin's pool,
 * streams the answer to the client, and reports how it went: to the endpoint's lease (once per
 * attempt), to the forwarder's events and to `done`. It is undici's dispatch handler itself, and
 * the response's listeners find it on the response, so a request allocates no closures (the retry
 * path aside).
 *
 * States: an attempt is in flight while `#lease` is set; the answer is streaming once
 * `#responded`; between attempts (a retry's backoff) neither. `#finished` ends it all.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly #settings: ExchangeSettings;
  readonly #req: IncomingMessage;
  readonly #res: TrackedResponse;
  readonly #endpoints: EndpointPicker;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #key: string | undefined;
  readonly #hasBody: boolean;
  readonly #done: ((result: ForwardResult) => void) | undefined;
  readonly #startedAt: number;

  #attempts = 0;
  #avoid: Set<string> | undefined;
  #endpoint: string | undefined;
  #body: RequestBody | undefined;
  #lease: EndpointLease | undefined;
  #leaseStartedAt = 0;
  #controller: Dispatcher.DispatchController | undefined;
  /** Set while a retried attempt is in flight and has not answered yet. */
  #settle: AttemptSettle | undefined;
  #lastFailure: UpstreamFailureError | undefined;
  /** Response headers went to the client: from here on nothing can be retried or re-answered. */
  #responded = false;
  #clientGone = false;
  #finished = false;

  constructor(
    settings: ExchangeSettings,
    req: IncomingMessage,
    res: ServerResponse,
    endpoints: EndpointPicker,
    options: Dispatcher.DispatchOptions,
    key: string | undefined,
    hasBody: boolean,
    done: ((result: ForwardResult) => void) | undefined,
  ) {
    this.#settings = settings;
    this.#req = req;
    this.#res = res;
    this.#endpoints = endpoints;
    this.#options = options;
    this.#key = key;
    this.#hasBody = hasBody;
    this.#done = done;
    this.#startedAt = settings.clock.now();
    this.#res[kExchange] = this;
    res.on('close', onResponseClose);
  }

  /** Sends the request once, without retries. */
  run(): void {
    const failure = this.#attempt();
    if (failure !== undefined) this.#fail(failure);
  }

  /** Sends the request through the retry policy: again, elsewhere, while attempts fail retryably. */
  runWithRetries(retry: Policy<unknown>): void {
    // Closures made on the retry path only (the policy calls a function and settles a promise).
    const afterRetries = (result: unknown): void => {
      this.#afterRetries(result);
    };
    retry.execute(() => this.#retriedAttempt()).then(afterRetries, afterRetries);
  }

  /**
   * One attempt under the retry policy. Resolves when the answer started (`undefined`) or with a
   * failure no retry can fix; rejects with a {@link RetryableFailure}.
   */
  #retriedAttempt(): Promise<UpstreamFailureError | NoEndpointError | undefined> {
    if (this.#responded) return Promise.resolve(undefined);
    if (this.#clientGone) return Promise.resolve(this.#failure('aborted', clientAbort()));
    // A body already (partly) sent cannot be sent again.
    if (this.#body?.started === true) return Promise.resolve(this.#lastFailure);
    return new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
      const failure = this.#attempt();
      if (failure !== undefined) {
        this.#settle = undefined;
        // No endpoint left for a retry: the client hears about the failure that caused it.
        resolve(isNoEndpointError(failure) ? (this.#lastFailure ?? failure) : failure);
      }
    });
  }

  #afterRetries(result: unknown): void {
    this.#settle = undefined;
    if (this.#responded || this.#finished) return;
    this.#fail(unwrapRetryError(result) ?? this.#lastFailure ?? new NoEndpointError());
  }

  /** Starts one attempt; returns the failure when it could not even be sent. */
  #attempt(): NoEndpointError | UpstreamFailureError | undefined {
    const lease = this.#endpoints.acquire(this.#key, this.#avoid);
    if (lease === undefined) return new NoEndpointError();
    this.#attempts++;
    this.#lease = lease;
    this.#endpoint = lease.id;
    (this.#avoid ??= new Set()).add(lease.id);
    this.#leaseStartedAt = this.#settings.clock.now();
    this.#controller = undefined;
    let pool: Dispatcher | undefined;
    try {
      pool = this.#settings.pools.get(lease.origin);
    } catch (error) {
      return this.#failAttempt('other', error);
    }
    if (pool === undefined) return this.#failAttempt('other', new Error('the forwarder is closed'));
    const options = this.#options;
    if (this.#hasBody) options.body = this.#body = new RequestBody(this.#req);
    pool.dispatch(options, this);
    return undefined;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#clientGone) controller.abort(clientAbort());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#controller = controller;
    const res = this.#res;
    if (this.#clientGone || res.destroyed) {
      this.#clientGone = true;
      controller.abort(clientAbort());
      return;
    }
    const names = Object.keys(headers);
    try {
      const listed = connectionListed(headers.connection);
      for (const name of names) {
        if (HOP_BY_HOP.has(name) || listed?.has(name) === true) continue;
        const value = headers[name];
        // Appended: headers a guard already put on the response (rate limits, CORS) stay.
        if (value !== undefined) res.appendHeader(name, value);
      }
      // The upstream answered before the client finished sending its body: the rest of that body
      // would be left on the connection, so it is closed once the answer is out.
      if (this.#hasBody && !this.#req.complete) res.setHeader('connection', 'close');
      res.writeHead(statusCode);
    } catch (error) {
      // An answer Node cannot relay (a status or header it refuses) is the upstream's failure: 502.
      for (const name of names) res.removeHeader(name);
      controller.abort(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#responded = true;
    res.on('drain', onResponseDrain);
    const settle = this.#settle;
    if (settle !== undefined) {
      this.#settle = undefined;
      settle.resolve(undefined);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    const status = this.#res.statusCode;
    this.#completeLease({ status, durationMs: this.#leaseElapsed() });
    this.#res.end();
    this.#finish(status, undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#body?.detach();
    const failure = this.#failAttempt(this.#clientGone ? 'aborted' : classifyFailure(error), error);
    if (this.#responded) {
      // Part of the answer went out: the client can only learn of the failure by the cut.
      this.#res.destroy();
      this.#finish(failureStatus(failure.failure), failure);
      return;
    }
    this.#lastFailure = failure;
    const settle = this.#settle;
    if (settle === undefined) {
      this.#fail(failure);
      return;
    }
    this.#settle = undefined;
    if (this.#retryable(failure)) settle.reject(new RetryableFailure(failure.failure, failure.endpoint, error));
    else settle.resolve(failure);
  }

  /** The client went away: the response closed before it finished. */
  clientClosed(): void {
    if (this.#finished || this.#res.writableFinished) return;
    this.#clientGone = true;
    // In flight: abort it (undici then reports the error, which ends the exchange). Between
    // attempts, the retry loop sees the flag when its backoff ends.
    const controller = this.#controller;
    if (this.#lease !== undefined && controller !== undefined) controller.abort(clientAbort());
  }

  /** The client's socket drained: let undici read more of the upstream's answer. */
  resumeResponse(): void {
    this.#controller?.resume();
  }

  #retryable(failure: UpstreamFailureError): boolean {
    const kind = failure.failure;
    return (kind === 'refused' || kind === 'reset' || kind === 'timeout') && this.#body?.started !== true;
  }

  #failure(kind: UpstreamFailure, cause: unknown): UpstreamFailureError {
    return new UpstreamFailureError(kind, this.#endpoint ?? '', cause);
  }

  /**
   * Reports the attempt's outcome to its lease (once) and to the events: a failure kind, or the
   * status. A lease that throws is reported, never allowed to break the exchange.
   */
  #completeLease(outcome: EndpointOutcome): void {
    const lease = this.#lease;
    if (lease === undefined) return;
    this.#lease = undefined;
    try {
      lease.complete(outcome);
    } catch (error) {
      reportUnhandled(error, 'endpoint lease');
    }
    const { events } = this.#settings;
    if (events.has('attempt')) {
      const { method, path } = this.#options;
      events.emit('attempt', { endpoint: lease.id, attempt: this.#attempts, outcome, method, path });
    }
  }

  /** Completes the attempt's lease with a failure and returns it as an error. */
  #failAttempt(kind: UpstreamFailure, cause: unknown): UpstreamFailureError {
    this.#completeLease({ failure: kind, durationMs: this.#leaseElapsed() });
    return this.#failure(kind, cause);
  }

  #leaseElapsed(): number {
    return Math.max(0, this.#settings.clock.now() - this.#leaseStartedAt);
  }

  /** Answers a request that got no response from any endpoint. */
  #fail(error: NoEndpointError | UpstreamFailureError): void {
    this.#body?.detach();
    if (this.#clientGone) {
      this.#finish(499, error);
      return;
    }
    const noEndpoint = isNoEndpointError(error);
    const status = noEndpoint ? 503 : failureStatus(error.failure);
    const detail = noEndpoint
      ? 'The upstream has no endpoint available.'
      : status === 504
        ? 'The upstream did not answer in time.'
        : 'The upstream could not be reached.';
    // A request whose body was not read to its end leaves the connection unusable.
    writeProblem(this.#res, status, detail, !this.#req.complete);
    this.#finish(status, error);
  }

  #finish(status: number, error: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    const res = this.#res;
    res.off('close', onResponseClose);
    res.off('drain', onResponseDrain);
    res[kExchange] = undefined;
    const done = this.#done;
    if (done === undefined) return;
    const result: ForwardResult = {
      status: this.#clientGone ? 499 : status,
      durationMs: Math.max(0, this.#settings.clock.now() - this.#startedAt),
      attempts: this.#attempts,
      endpoint: this.#endpoint,
    };
    if (this.#clientGone) result.aborted = true;
    if (error !== undefined) result.error = error;
    done(result);
  }
}

function unwrapRetryError(result: unknown): UpstreamFailureError | NoEndpointError | undefined {
  if (isUpstreamFailureError(result) || isNoEndpointError(result)) return result;
  // A RetryBudgetExceededError carries the last failure as its cause.
  const cause = (result as { cause?: unknown } | null | undefined)?.cause;
  return isUpstreamFailureError(cause) ? cause : undefined;
}

function clientAbort(): Error {
  return new Error('The client went away');
}

// Module-level listeners (the response carries its exchange): no closure per request.
function onResponseClose(this: TrackedResponse): void {
  this[kExchange]?.clientClosed();
}

function onResponseDrain(this: TrackedResponse): void {
  this[kExchange]?.resumeResponse();
}
