import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { retry as retryPolicy, type Policy, type RetryOptions } from '@portcullis/circuit-breaker';
import {
  duration,
  Emitter,
  InvalidOptionError,
  isFunctionOption,
  oneOf,
  positiveInteger,
  type Clock,
} from '@portcullis/core';
import { Pool, type Dispatcher } from 'undici';
import type { EndpointPicker } from '../pool/lease.js';
import { RequestFramingError } from './errors.js';
import { Exchange, type ExchangeSettings, type ForwarderEvents, type ForwardResult } from './exchange.js';
import { appendForwarded, FORWARDING_NAMES, type ForwardedHeaders } from './forwarded.js';
import { framingProblem } from './framing.js';
import { connectionListed, HOP_BY_HOP } from './hop-by-hop.js';
import { OriginPools } from './origin-pools.js';
import { writeProblem } from './problem-response.js';
import { trustCheck, type TrustCheck, type TrustedProxies } from './trusted-proxies.js';
import { forwardUpgrade } from './upgrade.js';

/**
 * Options of {@link createForwarder}. Every one is optional.
 *
 * @example
 * ```ts
 * import type { ForwarderOptions } from '@portcullis/router';
 *
 * const options: ForwarderOptions = {
 *   connectTimeoutMs: 2_000,
 *   headersTimeoutMs: 10_000,
 *   trustedProxies: ['10.0.0.0/8'],
 *   retry: { maxAttempts: 3, backoff: { initialMs: 25, maxMs: 250 }, budget: { ratio: 0.1 } },
 * };
 * ```
 */
export interface ForwarderOptions {
  /** Time to open a connection to an endpoint, in ms; past it the request fails with 504. Default 5000. */
  connectTimeoutMs?: number | undefined;
  /**
   * Time for an endpoint to send its response headers once the request was sent, in ms (undici's
   * `headersTimeout`); past it, 504. Default 60000 (nginx's `proxy_read_timeout`).
   */
  headersTimeoutMs?: number | undefined;
  /**
   * The longest pause between two chunks of an endpoint's response body, in ms (undici's
   * `bodyTimeout`); past it the response is cut (or, before it started, answered 504). `0`: none.
   * Default 60000.
   */
  bodyTimeoutMs?: number | undefined;
  /**
   * Which direct peers are proxies whose `X-Forwarded-*` and `Forwarded` headers are kept and
   * appended to; see {@link TrustedProxies}. Default: none (every client's copies are replaced).
   */
  trustedProxies?: TrustedProxies | undefined;
  /** Which forwarding headers to send; see {@link ForwardedHeaders}. Default `'both'`. */
  forwardedHeaders?: ForwardedHeaders | undefined;
  /**
   * Send the client's `Host` upstream. Default false: the endpoint's own `host:port` (the client's
   * goes in `X-Forwarded-Host` and `Forwarded`).
   */
  preserveHost?: boolean | undefined;
  /**
   * Retries on another endpoint when an attempt was refused, reset or timed out before any byte of
   * the answer went to the client, for the methods in `retryMethods` and while the request body
   * (if any) was not sent yet: a `retry(...)` policy from `@portcullis/circuit-breaker` (or any
   * policy, such as a `pipeline` of retry and a breaker), the options of one, or `false`. The
   * retry policy's budget bounds retries to a share of the traffic. Default:
   * `retry({ maxAttempts: 2, backoff: { initialMs: 25, maxMs: 250 } })` (one retry, within the
   * default budget of 10 + 20% of the calls per 10 s).
   */
  retry?: Policy<unknown> | RetryOptions | false | undefined;
  /**
   * The methods retried (upper case). Default: the idempotent ones of RFC 9110, `GET`, `HEAD`,
   * `OPTIONS`, `TRACE`, `PUT`, `DELETE`. A route may opt in others (`ForwardOptions.retry`).
   */
  retryMethods?: readonly string[] | undefined;
  /** Connections kept per endpoint (undici `Pool` `connections`), whole number >= 1. Default 128. */
  connectionsPerOrigin?: number | undefined;
  /**
   * Endpoints with a pool at once; past it the least recently created pool is closed gracefully.
   * Whole number >= 1. Default 1024.
   */
  maxOrigins?: number | undefined;
  /** How long an idle keep-alive connection is kept, in ms. Default 4000 (undici's). */
  keepAliveTimeoutMs?: number | undefined;
  /**
   * TLS options for `https` endpoints (`ca`, `servername`, `rejectUnauthorized`…), for the pools
   * and for upgrades. Default: Node's (the system's CAs, verification on).
   */
  connect?: Omit<ConnectionOptions, 'timeout'> | undefined;
  /**
   * Makes the dispatcher for one origin, given the pool options the forwarder would use (to add
   * interceptors, or share one `Agent`). Default: `new Pool(origin, options)`.
   */
  createPool?: ((origin: string, options: Pool.Options) => Dispatcher) | undefined;
  /** Measures durations. Default: `performance.now()`. */
  clock?: Clock | undefined;
}

/**
 * What to forward a request to, per request.
 *
 * @example
 * ```ts
 * import { fixedEndpoints, type ForwardOptions } from '@portcullis/router';
 *
 * const options: ForwardOptions = { endpoints: fixedEndpoints(['http://127.0.0.1:3001']), path: '/users/7?x=1' };
 * ```
 */
export interface ForwardOptions {
  /** Where the endpoints come from: an upstream pool, or {@link fixedEndpoints}. */
  readonly endpoints: EndpointPicker;
  /**
   * The path and query to send upstream, as they are: give it a canonical path (`canonicalPath`),
   * as `createForwardHandler` does with the route guard's, so the upstream reads the path the
   * gateway routed.
   */
  readonly path: string;
  /** The key for the hashing balancers (a user id, a cookie…). Default: none. */
  readonly key?: string | undefined;
  /**
   * Whether a failed attempt may be retried: `true` opts a non-idempotent method in, `false`
   * turns retries off. Default: per the forwarder's `retryMethods`.
   */
  readonly retry?: boolean | undefined;
}

/**
 * Forwards requests to endpoints; see {@link createForwarder}.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createForwarder, fixedEndpoints } from '@portcullis/router';
 *
 * const forwarder = createForwarder();
 * const endpoints = fixedEndpoints(['http://127.0.0.1:3001']);
 * // A raw path, for brevity: createForwardHandler forwards the route guard's canonical path.
 * createServer((req, res) => forwarder.forward(req, res, { endpoints, path: req.url ?? '/' })).listen(8080);
 * ```
 */
export interface Forwarder {
  /**
   * Forwards `req` and streams the answer into `res`; `done` learns how it ended (once). Never
   * throws for a failed exchange: the client gets 400 (ambiguous framing), 502, 503 or 504 as
   * problem details, and the endpoint's lease learns the outcome.
   */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    options: ForwardOptions,
    done?: (result: ForwardResult) => void,
  ): void;
  /**
   * Forwards an HTTP upgrade (WebSocket), from a server's `upgrade` event: the endpoint's `101`
   * is relayed and the two sockets are piped together; any other answer is relayed as is. `done`
   * learns how it ended when both sockets closed.
   */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    options: ForwardOptions,
    done?: (result: ForwardResult) => void,
  ): void;
  /** One event per attempt (see {@link ForwarderEvents}). */
  readonly events: Emitter<ForwarderEvents>;
  /** Closes the connection pools (requests in flight finish); later requests get 503. */
  close(): Promise<void>;
}

const IDEMPOTENT = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'];

/** Request headers never copied upstream as they are: hop-by-hop, the forwarding ones, `Host`, `Expect`. */
const NOT_COPIED: ReadonlySet<string> = new Set([...HOP_BY_HOP, ...FORWARDING_NAMES, 'host', 'expect']);

const performanceClock: Clock = {
  now: function now(): number {
    return performance.now();
  },
};

/** Everything {@link forwardUpgrade} and the header builder read from the forwarder's settings. */
export interface ForwardSettings extends ExchangeSettings {
  readonly trusted: TrustCheck;
  readonly forwardedHeaders: ForwardedHeaders;
  readonly preserveHost: boolean;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  /** TLS options for `https` endpoints (the `connect` option), for upgrades' own connections. */
  readonly tls: Readonly<Record<string, unknown>> | undefined;
}

/**
 * A forwarder: sends requests to the endpoints an {@link EndpointPicker} hands out, over one
 * keep-alive undici `Pool` per endpoint, streaming bodies both ways (never buffered whole).
 *
 * - **Headers**: hop-by-hop ones (`Connection`, `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`,
 *   `Transfer-Encoding`, `Upgrade`, and every name the `Connection` header lists) are dropped both
 *   ways; `X-Forwarded-For/Proto/Host` and `Forwarded` are set for this hop (kept and appended to
 *   only from `trustedProxies`).
 * - **Framing**: a request with ambiguous framing (see {@link RequestFramingError}) is answered
 *   `400` with `Connection: close` and never reaches an endpoint.
 * - **Failures**: refused or reset → `502`; connect, headers or body timeout → `504`; no endpoint
 *   → `503`; each as problem details. A failure after the answer started cuts the response.
 * - **Client abort**: the upstream request is aborted, reported as `aborted` (never counted
 *   against the endpoint).
 * - **Retries**: see {@link ForwarderOptions.retry}; each retry asks the picker for another
 *   endpoint (`avoid`).
 * - **Outcomes**: each attempt completes its lease once (status or failure kind, duration), and
 *   is emitted as an `attempt` event.
 *
 * @param options - See {@link ForwarderOptions}.
 * @throws InvalidOptionError naming the option when one is invalid.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createForwarder, fixedEndpoints } from '@portcullis/router';
 *
 * const forwarder = createForwarder({ trustedProxies: ['loopback'] });
 * const endpoints = fixedEndpoints(['http://127.0.0.1:3001', 'http://127.0.0.1:3002']);
 * // A raw path, for brevity: createForwardHandler forwards the route guard's canonical path.
 * const server = createServer((req, res) => {
 *   forwarder.forward(req, res, { endpoints, path: req.url ?? '/' }, (result) => console.log(result.status));
 * });
 * server.on('upgrade', (req, socket, head) => forwarder.upgrade(req, socket, head, { endpoints, path: req.url ?? '/' }));
 * server.listen(8080);
 * ```
 */
export function createForwarder(options: ForwarderOptions = {}): Forwarder {
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', options, 'an object');
  }
  const connectTimeoutMs = duration(options.connectTimeoutMs ?? 5_000, 'connectTimeoutMs');
  const headersTimeoutMs = duration(options.headersTimeoutMs ?? 60_000, 'headersTimeoutMs');
  const bodyTimeoutMs = duration(options.bodyTimeoutMs ?? 60_000, 'bodyTimeoutMs');
  const keepAliveTimeoutMs = duration(options.keepAliveTimeoutMs ?? 4_000, 'keepAliveTimeoutMs');
  const connections = positiveInteger(options.connectionsPerOrigin ?? 128, 'connectionsPerOrigin');
  const maxOrigins = positiveInteger(options.maxOrigins ?? 1024, 'maxOrigins');
  const forwardedHeaders = oneOf(
    options.forwardedHeaders ?? 'both',
    ['both', 'x-forwarded', 'forwarded', 'none'] as const,
    'forwardedHeaders',
  );
  const preserveHost = options.preserveHost ?? false;
  if (typeof preserveHost !== 'boolean') throw new InvalidOptionError('preserveHost', preserveHost, 'a boolean');
  const retryMethods = new Set(methodList(options.retryMethods ?? IDEMPOTENT, 'retryMethods'));
  const retry = retryOption(options.retry);
  const clock = options.clock ?? performanceClock;
  if (typeof (clock as Partial<Clock>).now !== 'function') {
    throw new InvalidOptionError('clock', options.clock, 'a Clock ({ now(): number })');
  }
  const connect: unknown = options.connect;
  if (connect !== undefined && (typeof connect !== 'object' || connect === null)) {
    throw new InvalidOptionError('connect', connect, 'an object of TLS options');
  }
  const create = options.createPool === undefined ? undefined : isFunctionOption(options.createPool, 'createPool');
  const poolOptions: Pool.Options = {
    connections,
    pipelining: 1,
    keepAliveTimeout: keepAliveTimeoutMs,
    headersTimeout: headersTimeoutMs,
    bodyTimeout: bodyTimeoutMs,
    // Node's TLS options as undici's connector takes them (its type is stricter about undefined).
    connect: { ...options.connect, timeout: connectTimeoutMs } as NonNullable<Pool.Options['connect']>,
  };
  const pools = new OriginPools(
    maxOrigins,
    create === undefined
      ? function createPool(origin) {
          return new Pool(origin, poolOptions);
        }
      : function createCustomPool(origin) {
          return create(origin, { ...poolOptions });
        },
  );
  const settings: ForwardSettings = {
    pools,
    clock,
    retry,
    events: new Emitter<ForwarderEvents>(),
    trusted: trustCheck(options.trustedProxies),
    forwardedHeaders,
    preserveHost,
    connectTimeoutMs,
    headersTimeoutMs,
    tls: options.connect,
  };

  return {
    events: settings.events,
    forward: function forward(req, res, call, done): void {
      const problem = framingProblem(req);
      if (problem !== undefined || isPoisoned(req.socket)) {
        refuseFraming(req, res, problem ?? 'an earlier request on this connection was refused', done);
        return;
      }
      if (res.destroyed) {
        // The client left while earlier guards were deciding: nothing to send anywhere.
        done?.({ status: 499, durationMs: 0, attempts: 0, aborted: true });
        return;
      }
      const headers = req.headers;
      const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] ?? '0') !== '0';
      if (hasBody && (req.readableDidRead || req.destroyed)) {
        writeProblem(res, 500, 'The request body was read before it could be forwarded.', true);
        done?.({ status: 500, durationMs: 0, attempts: 0, error: new Error('request body already read') });
        return;
      }
      const dispatch: Dispatcher.DispatchOptions = {
        path: call.path,
        method: req.method as Dispatcher.HttpMethod,
        headers: upstreamHeaders(settings, req, hasBody),
        body: null,
      };
      const exchange = new Exchange(settings, req, res, call.endpoints, dispatch, call.key, hasBody, done);
      const retried = retry !== undefined && (call.retry ?? retryMethods.has(dispatch.method));
      if (retried) exchange.runWithRetries(retry);
      else exchange.run();
    },
    upgrade: function upgrade(req, socket, head, call, done): void {
      forwardUpgrade(settings, req, socket, head, call, upstreamHeaders(settings, req, false), done);
    },
    close: function close(): Promise<void> {
      return pools.close();
    },
  };
}

/**
 * The request headers for the upstream, built once per request as undici's flat list: the
 * client's (as guards left them in `req.headers`) less the ones not copied, then the forwarding
 * headers for this hop.
 */
export function upstreamHeaders(settings: ForwardSettings, req: IncomingMessage, hasBody: boolean): string[] {
  const headers = req.headers;
  const listed = connectionListed(headers.connection);
  const out: string[] = [];
  for (const name of Object.keys(headers)) {
    if (NOT_COPIED.has(name) || (listed !== undefined && listed.has(name))) continue;
    // Without a body, undici frames the request itself (and a stray length would mislead it).
    if (!hasBody && name === 'content-length') continue;
    const value = headers[name];
    if (value !== undefined) out.push(name, typeof value === 'string' ? value : value.join(', '));
  }
  if (settings.preserveHost && headers.host !== undefined) out.push('host', headers.host);
  const socket = req.socket as Partial<TLSSocket> | null;
  const peer = socket?.remoteAddress;
  appendForwarded(out, headers, peer, settings.trusted(peer), socket?.encrypted === true, settings.forwardedHeaders);
  return out;
}

const kPoisoned = Symbol('portcullis.forward.poisoned');

/**
 * Whether the connection carried a request with ambiguous framing: whatever the parser read after
 * it (a "pipelined" request) may be the smuggled tail of that request's body, so nothing more from
 * that connection is forwarded.
 */
function isPoisoned(socket: Socket | null): boolean {
  return (socket as { [kPoisoned]?: boolean } | null)?.[kPoisoned] === true;
}

function refuseFraming(
  req: IncomingMessage,
  res: ServerResponse,
  reason: string,
  done: ((result: ForwardResult) => void) | undefined,
): void {
  const socket = req.socket as (Socket & { [kPoisoned]?: boolean }) | null;
  if (socket !== null) {
    socket[kPoisoned] = true;
    // Closed once the 400 is out, so no later request on it is even parsed for long.
    res.once('finish', () => {
      socket.destroySoon();
    });
  }
  writeProblem(res, 400, `The request's framing is ambiguous: ${reason}.`, true);
  done?.({ status: 400, durationMs: 0, attempts: 0, error: new RequestFramingError(reason) });
}

function methodList(value: unknown, option: string): readonly string[] {
  if (!Array.isArray(value) || !value.every((m) => typeof m === 'string' && /^[A-Z]{1,20}$/.test(m))) {
    throw new InvalidOptionError(option, value, 'an array of upper-case method names');
  }
  return value as string[];
}

const DEFAULT_RETRY: RetryOptions = { maxAttempts: 2, backoff: { initialMs: 25, maxMs: 250 }, name: 'forward' };

function retryOption(value: Policy<unknown> | RetryOptions | false | undefined): Policy<unknown> | undefined {
  if (value === false) return undefined;
  if (value === undefined) return retryPolicy(DEFAULT_RETRY);
  if (typeof value !== 'object' || (value as unknown) === null) {
    throw new InvalidOptionError('retry', value, 'a retry policy, retry options or false');
  }
  // A policy from any copy of @portcullis/circuit-breaker (ESM or CJS build): by its shape.
  if (typeof (value as Partial<Policy<unknown>>).execute === 'function') return value as Policy<unknown>;
  return retryPolicy(value as RetryOptions);
}
