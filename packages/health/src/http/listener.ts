import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createGatewayRequest,
  problemDetails,
  PROBLEM_JSON,
  reportUnhandled,
  type GatewayRequest,
  type GuardContext,
  type Verdict,
} from '@portcullis/core';
import type { Health } from '../health.js';
import { healthGuard, type HealthEndpointOptions } from './guard.js';

/**
 * A `node:http` request listener for the health endpoints (see `healthListener`): answers health
 * paths, calls `next` (or answers 404) for the others.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHealth, healthListener, type HealthListener } from '@portcullis/health';
 *
 * const listener: HealthListener = healthListener(createHealth());
 * createServer(listener).listen(3000);
 * ```
 */
export type HealthListener = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

/**
 * The health endpoints as a plain `node:http` listener, no framework: requests under the base path
 * are answered as `healthGuard` answers them; any other goes to `next()` when given, else gets a
 * `404`. The client address the `details` predicate sees is the socket's (no proxy headers are
 * trusted).
 *
 * @param health - From `createHealth`.
 * @param options - See {@link HealthEndpointOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHealth, healthListener } from '@portcullis/health';
 *
 * const health = createHealth({ checks: [{ name: 'db', check: () => 'pass' }] });
 * const answerHealth = healthListener(health);
 * createServer((req, res) => {
 *   answerHealth(req, res, () => {
 *     res.end('the app'); // everything that is not /health…
 *   });
 * }).listen(3000);
 * ```
 */
export function healthListener(health: Health, options?: HealthEndpointOptions): HealthListener {
  const guard = healthGuard(health, options);
  return function healthRequestListener(req: IncomingMessage, res: ServerResponse, next?: () => void): void {
    let verdict: Verdict | PromiseLike<Verdict>;
    try {
      verdict = guard(gatewayRequest(req));
    } catch (error) {
      fail(res, error);
      return;
    }
    if (isThenable(verdict)) {
      verdict.then(
        (done) => {
          send(res, done, next);
        },
        (error: unknown) => {
          fail(res, error);
        },
      );
    } else send(res, verdict, next);
  };
}

const NO_CONTEXT: GuardContext = Object.freeze({});

/**
 * The request view the guard gets, straight from Node's request: one object with its methods on
 * the prototype (a probe every second should not cost a closure per header lookup). The path is
 * the request target up to `?`; absolute-form targets (`GET http://host/health`) go through
 * `createGatewayRequest`, which knows them.
 */
class NodeRequestView implements GatewayRequest {
  readonly method: string;
  readonly path: string;
  readonly ip: string | undefined;
  readonly context: GuardContext = NO_CONTEXT;
  readonly #req: IncomingMessage;
  readonly #search: string;
  #query: URLSearchParams | undefined;

  constructor(req: IncomingMessage, url: string, q: number) {
    this.#req = req;
    this.method = req.method ?? 'GET';
    this.path = q === -1 ? url : url.slice(0, q);
    this.#search = q === -1 ? '' : url.slice(q + 1);
    this.ip = req.socket.remoteAddress;
  }

  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.#search);
    return this.#query;
  }

  header(name: string): string | undefined {
    const values = this.#req.headersDistinct[name.toLowerCase()];
    return values === undefined ? undefined : values.join(', ');
  }
}

function gatewayRequest(req: IncomingMessage): GatewayRequest {
  const url = req.url ?? '/';
  const hash = url.indexOf('#');
  if (url.charCodeAt(0) === 47 /* / */ && hash === -1) return new NodeRequestView(req, url, url.indexOf('?'));
  return createGatewayRequest({
    method: req.method ?? 'GET',
    url,
    header: (name) => {
      const values = req.headersDistinct[name];
      return values === undefined ? undefined : values.join(', ');
    },
    ip: req.socket.remoteAddress,
  });
}

function isThenable(value: Verdict | PromiseLike<Verdict>): value is PromiseLike<Verdict> {
  return typeof (value as Partial<PromiseLike<Verdict>>).then === 'function';
}

function send(res: ServerResponse, verdict: Verdict, next: (() => void) | undefined): void {
  if (verdict.action === 'continue') {
    if (next !== undefined) next();
    else sendProblem(res, 404, 'Not found');
    return;
  }
  if (res.headersSent || res.destroyed) return;
  res.statusCode = verdict.status;
  if (verdict.headers !== undefined) for (const [name, value] of pairs(verdict.headers)) res.setHeader(name, value);
  res.end(verdict.body as string);
}

/** The pairs of a `Headers`, kept per instance: the health answers share one (iterating it sorts it each time). */
const PAIRS = new WeakMap<Headers, readonly (readonly [string, string])[]>();

function pairs(headers: Headers): readonly (readonly [string, string])[] {
  let list = PAIRS.get(headers);
  if (list === undefined) {
    list = [...headers];
    PAIRS.set(headers, list);
  }
  return list;
}

function sendProblem(res: ServerResponse, status: number, detail: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': PROBLEM_JSON, 'cache-control': 'no-store' });
  res.end(JSON.stringify(problemDetails(status, detail)));
}

function fail(res: ServerResponse, error: unknown): void {
  reportUnhandled(error, 'health listener');
  sendProblem(res, 500, 'The health endpoint failed');
}
