import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { Guard } from '../guard.js';
import { Completion } from '../http/completion.js';
import { mergeContext } from '../http/context.js';
import { headerChange } from '../http/header-names.js';
import { applyNodeHeaderObject, applyNodeUpstreamHeaders, clientGone } from '../http/node-headers.js';
import { isPromiseLike } from '../http/promise-like.js';
import { serializeBody } from '../http/response-body.js';
import { assertVerdict, reportAdapterError } from '../http/run-guard.js';
import type { GuardContext } from '../request.js';
import { isFunctionOption } from '../validate.js';
import { refusePluginForm } from './plugin-form.js';
import type { ContinueVerdict, OnComplete, RespondVerdict, Verdict } from '../verdict.js';
import { FastifyGatewayRequest } from './request.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * What the Portcullis guards that ran for this request added to its context (a verified
     * identity, a tenant, …), merged in order. `null` until a `portcullis` plugin let the request
     * through.
     */
    portcullis: GuardContext | null;
  }
}

/**
 * Turns a guard (or a `compose(...)` of guards) into a Fastify 5 plugin that runs it in an
 * `onRequest` hook.
 *
 * Encapsulation: the plugin is marked `skip-override` (what `fastify-plugin` does), so its hooks
 * belong to the scope that registers it: registered on the root instance it guards every route;
 * registered inside your own plugin it guards that plugin's routes (and its children's) and nothing
 * beside them. Register it before the routes it guards.
 *
 * - `respond` answers from the hook (status, headers, body; see `RespondVerdict.body`); the route
 *   handler does not run.
 * - `continue` adds the response headers to the reply (appending to a value already set); strips
 *   the upstream headers (and the ones to strip) in every spelling (case, `_` for `-`) from every
 *   view of the request (`request.headers`, `request.raw.headersDistinct`,
 *   `request.raw.rawHeaders`), then sets the upstream headers on `request.headers` (so a client
 *   cannot spoof them); merges the context into `request.portcullis` and lets the request on.
 * - `onComplete` learns the outcome once, from Fastify's `onResponse` (final status, plus the error
 *   that `onError` saw), or `onRequestAbort` (499, `aborted: true`).
 * - A guard that throws or rejects goes to Fastify's error handler.
 *
 * The guard sees `request.url` as its path, `request.ip` as the client address (Fastify's
 * `trustProxy` applies), `request.signal` as its signal and earlier guards' context as
 * `req.context`. A synchronous guard is handled without creating a promise.
 *
 * @param guard - The guard to run for every request in the registering scope.
 * @throws InvalidOptionError when `guard` is not a function.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { respond, type Guard } from '@portcullis/core';
 * import { portcullis } from '@portcullis/core/fastify';
 *
 * const requireKey: Guard<{ apiKey: string }> = (req) => {
 *   const apiKey = req.header('x-api-key');
 *   return apiKey === undefined ? respond(401, { error: 'missing x-api-key' }) : { action: 'continue', context: { apiKey } };
 * };
 *
 * const app = Fastify();
 * app.get('/health', () => 'ok'); // outside the scope below: not guarded
 * await app.register(async (api) => {
 *   await api.register(portcullis(requireKey));
 *   api.get('/whoami', (request) => ({ apiKey: request.portcullis?.['apiKey'] }));
 * });
 * ```
 */
export function portcullis(guard: Guard<object>): FastifyPluginCallback {
  const refusal = refusePluginForm(guard, 'guard', 'app.register(portcullis(guard))');
  if (refusal !== undefined) return refusal;
  isFunctionOption(guard, 'guard');
  function portcullisPlugin(instance: FastifyInstance, _options: unknown, done: (error?: Error) => void): void {
    // Per registration: the same plugin registered in two scopes must not share request state.
    const completions = new WeakMap<FastifyRequest, Completion>();
    if (!instance.hasRequestDecorator('portcullis')) instance.decorateRequest('portcullis', null);

    instance.addHook('onRequest', function portcullisOnRequest(request, reply, next) {
      let verdict: Verdict | PromiseLike<Verdict>;
      try {
        // A context type is any object; at run time it is read as a property bag.
        verdict = guard(new FastifyGatewayRequest(request)) as Verdict | PromiseLike<Verdict>;
      } catch (error) {
        next(toError(error));
        return;
      }
      // A synchronous verdict is applied here: no promise and no closure per request.
      if (!isPromiseLike(verdict)) {
        onVerdict(completions, request, reply, next, verdict);
        return;
      }
      Promise.resolve(verdict)
        .then(
          function onLaterVerdict(later) {
            onVerdict(completions, request, reply, next, later);
          },
          function onGuardError(error: unknown) {
            next(toError(error));
          },
        )
        .catch(reportAdapterError);
    });
    instance.addHook('onError', function portcullisOnError(request, _reply, error, next) {
      completions.get(request)?.recordError(error);
      next();
    });
    instance.addHook('onResponse', function portcullisOnResponse(request, reply, next) {
      completions.get(request)?.finish(reply.statusCode);
      next();
    });
    instance.addHook('onRequestAbort', function portcullisOnRequestAbort(request, next) {
      completions.get(request)?.abort();
      next();
    });
    done();
  }
  // What fastify-plugin does, without the dependency: run in the registering scope, not a child.
  Object.assign(portcullisPlugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'portcullis',
  });
  return portcullisPlugin;
}

/** Checks and applies a guard's verdict, then lets the request on or not. */
function onVerdict(
  completions: WeakMap<FastifyRequest, Completion>,
  request: FastifyRequest,
  reply: FastifyReply,
  next: (error?: Error) => void,
  verdict: unknown,
): void {
  let proceed: boolean;
  try {
    assertVerdict(verdict);
    track(completions, request, reply, verdict.onComplete);
    proceed = verdict.action === 'continue' ? letThrough(request, reply, verdict) : answer(reply, verdict);
  } catch (error) {
    next(toError(error));
    return;
  }
  if (proceed) next();
}

function track(
  completions: WeakMap<FastifyRequest, Completion>,
  request: FastifyRequest,
  reply: FastifyReply,
  onComplete: OnComplete | undefined,
): void {
  if (onComplete === undefined) return;
  const completion = new Completion(onComplete);
  // An asynchronous guard may answer after the client left; `onRequestAbort` has fired by then.
  if (clientGone(reply.raw)) completion.abort();
  else completions.set(request, completion);
}

/** Applies a `continue` verdict; returns true (the request goes on). */
function letThrough(request: FastifyRequest, reply: FastifyReply, verdict: ContinueVerdict): true {
  const { stripUpstreamHeaders: strip, upstreamHeaders: upstream } = verdict;
  if (strip !== undefined || upstream !== undefined) {
    applyNodeUpstreamHeaders(request.raw, strip, upstream);
    // Headers assigned through Fastify's `request.headers` setter are kept apart and win over the
    // raw ones, so they must not keep a stripped or client-sent value either.
    const assigned = (request as { additionalHeaders?: IncomingHttpHeaders }).additionalHeaders;
    const change = assigned === undefined ? undefined : headerChange(strip, upstream);
    if (assigned !== undefined && change !== undefined) applyNodeHeaderObject(assigned, change);
  }
  if (verdict.responseHeaders !== undefined) {
    for (const [name, value] of verdict.responseHeaders) appendReplyHeader(reply, name, value);
  }
  request.portcullis = mergeContext(request.portcullis, verdict.context);
  return true;
}

/** `reply.header` replaces a value (except `set-cookie`); the verdict's headers are added instead. */
function appendReplyHeader(reply: FastifyReply, name: string, value: string): void {
  const current = reply.getHeader(name);
  if (current === undefined || name === 'set-cookie') reply.header(name, value);
  else if (Array.isArray(current)) reply.header(name, [...current, value]);
  else reply.header(name, [String(current), value]);
}

/** Sends a `respond` verdict from the hook; returns false (the request stops here). */
function answer(reply: FastifyReply, verdict: RespondVerdict): false {
  const { body, contentType } = serializeBody(verdict);
  reply.code(verdict.status);
  if (verdict.headers !== undefined) for (const [name, value] of verdict.headers) reply.header(name, value);
  if (contentType !== undefined) reply.header('content-type', contentType);
  // As a Buffer even for text: Fastify sends Buffers untouched, whereas a string with a JSON-like
  // content type would get "; charset=utf-8" appended or go through a reply serializer.
  if (body === undefined) reply.send();
  else
    reply.send(
      typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    );
  return false;
}

/** Fastify's hook callbacks take an `Error`; a guard may throw anything. */
function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}
