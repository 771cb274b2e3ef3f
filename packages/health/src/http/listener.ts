import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createGatewayRequest,
  problemDetails,
  PROBLEM_JSON,
  reportUnhandled,
  type GatewayRequest,
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

function gatewayRequest(req: IncomingMessage): GatewayRequest {
  return createGatewayRequest({
    method: req.method ?? 'GET',
    url: req.url ?? '/',
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
  if (verdict.headers !== undefined) for (const [name, value] of verdict.headers) res.setHeader(name, value);
  res.end(verdict.body as string);
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
