import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Guard } from '../guard.js';
import { mergeContext } from '../http/context.js';
import { LazyGatewayRequest } from '../http/lazy-request.js';
import { applyNodeUpstreamHeaders, nodeHeader, setNodeResponseHeaders } from '../http/node-headers.js';
import { nodeResponseSignal, trackNodeResponse } from '../http/node-response.js';
import { serializeBody } from '../http/response-body.js';
import { assertVerdict, runGuard } from '../http/run-guard.js';
import { createGatewayRequest, type GatewayRequest, type GuardContext } from '../request.js';
import { isFunctionOption } from '../validate.js';
import type { ContinueVerdict, RespondVerdict } from '../verdict.js';

declare global {
  // Express types its request through this global namespace; augmenting it is the documented way.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * What the Portcullis guards that ran for this request added to its context (a verified
       * identity, a tenant, …), merged in order. `undefined` until a `portcullis` middleware let the
       * request through.
       */
      portcullis?: GuardContext;
    }
  }
}

/**
 * Turns a guard (or a `compose(...)` of guards) into Express 5 middleware.
 *
 * - `respond` answers at once (status, headers, body; see `RespondVerdict.body`); the route
 *   handler does not run.
 * - `continue` appends the response headers to the response; strips the upstream headers (and
 *   the ones to strip) in every spelling (case, `_` for `-`) from every view of the request
 *   (`req.headers`, `req.headersDistinct`, `req.rawHeaders`), then sets the upstream headers on
 *   `req.headers` (so `req.get()` and anything proxying `req.headers` see them, and a client
 *   cannot spoof them); merges the context into `req.portcullis`; calls `next()`.
 * - `onComplete` learns the final status and duration once: when the response finished (whatever
 *   status the handler or Express's error handler sent; Express does not tell earlier middleware
 *   about a handler's error, so `outcome.error` is absent), or with 499 and `aborted: true` when the
 *   client disconnected first.
 * - A guard that throws or rejects goes to `next(error)`, i.e. to your error-handling middleware.
 *
 * The guard sees `req.originalUrl` as its path (unaffected by the mount path), `req.ip` as its
 * client address (so Express's `trust proxy` setting applies) and earlier middleware's context as
 * `req.context`. A synchronous guard is handled without creating a promise.
 *
 * @param guard - The guard to run for every request reaching this middleware.
 * @throws InvalidOptionError when `guard` is not a function.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { respond, type Guard } from '@portcullis/core';
 * import { portcullis } from '@portcullis/core/express';
 *
 * const requireKey: Guard<{ apiKey: string }> = (req) => {
 *   const apiKey = req.header('x-api-key');
 *   return apiKey === undefined ? respond(401, { error: 'missing x-api-key' }) : { action: 'continue', context: { apiKey } };
 * };
 *
 * const app = express();
 * app.use(portcullis(requireKey));
 * app.get('/whoami', (req, res) => {
 *   res.json({ apiKey: req.portcullis?.['apiKey'] });
 * });
 * ```
 */
export function portcullis(guard: Guard<object>): RequestHandler {
  isFunctionOption(guard, 'guard');
  return function portcullisMiddleware(req: Request, res: Response, next: NextFunction): void {
    runGuard(
      guard,
      gatewayRequest(req),
      function onVerdict(verdict) {
        let proceed: boolean;
        try {
          assertVerdict(verdict);
          proceed = verdict.action === 'continue' ? letThrough(req, res, verdict) : answer(res, verdict);
        } catch (error) {
          next(error);
          return;
        }
        if (proceed) next();
      },
      next,
    );
  };
}

function expressSignal(req: Request): AbortSignal | undefined {
  return req.res === undefined ? undefined : nodeResponseSignal(req.res);
}

function gatewayRequest(req: Request): GatewayRequest {
  const base = createGatewayRequest({
    method: req.method,
    // The path as the client sent it; `req.url` has the mount path of `app.use('/api', ...)` cut off.
    url: req.originalUrl,
    header: function header(name) {
      return nodeHeader(req, name);
    },
    ip: req.ip,
    context: req.portcullis,
  });
  return new LazyGatewayRequest(base, req, expressSignal);
}

/** Applies a `continue` verdict; returns true (the request goes on). */
function letThrough(req: Request, res: Response, verdict: ContinueVerdict): true {
  trackNodeResponse(res, verdict.onComplete);
  applyNodeUpstreamHeaders(req, verdict.stripUpstreamHeaders, verdict.upstreamHeaders);
  if (verdict.responseHeaders !== undefined) {
    for (const [name, value] of verdict.responseHeaders) res.appendHeader(name, value);
  }
  req.portcullis = mergeContext(req.portcullis, verdict.context);
  return true;
}

/** Sends a `respond` verdict; returns false (the request stops here). */
function answer(res: Response, verdict: RespondVerdict): false {
  // Tracked first: should sending fail, the error response that follows is still reported.
  trackNodeResponse(res, verdict.onComplete);
  const { body, contentType } = serializeBody(verdict);
  res.statusCode = verdict.status;
  setNodeResponseHeaders(res, verdict.headers);
  if (contentType !== undefined) res.setHeader('content-type', contentType);
  // `res.end` rather than `res.send`: the verdict decides the headers, not Express's ETag/charset logic.
  if (body === undefined) res.end();
  else res.end(body);
  return false;
}
