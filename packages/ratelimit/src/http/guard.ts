import { CONTINUE, PROBLEM_JSON, type GatewayRequest, type Guard, type Verdict } from '@portcullis/core';
import type { Decision } from '../decision.js';
import { isInvalidCostError, isInvalidKeyError, isUnknownTierError } from '../errors.js';
import type { LimitOptions } from '../limiter.js';
import { rateLimitHeaders, retryAfterSeconds } from './headers.js';
import { presetHeaders } from './preset-headers.js';
import { resolveOptions, type RateLimitGuardOptions, type ResolvedOptions } from './options.js';
import { badRequest, tooManyRequests } from './problem.js';
import { isPromiseLike } from './promise-like.js';
import { refundOnComplete } from './refund.js';

/**
 * What the rate-limit guard adds to the request context when it lets a request through: the
 * limiter's decision (`req.portcullis.rateLimit` on Express and Fastify,
 * `c.get('portcullis').rateLimit` on Hono, `req.context.rateLimit` for later guards).
 *
 * @example
 * ```ts
 * import type { Guard } from '@portcullis/core';
 *
 * const warnWhenLow: Guard = (req) => {
 *   const decision = req.context.rateLimit; // a Decision (or undefined), typed by this package
 *   return decision !== undefined && decision.remaining < 5
 *     ? { action: 'continue', responseHeaders: new Headers({ warning: '199 - "quota almost used"' }) }
 *     : { action: 'continue' };
 * };
 * ```
 */
export type RateLimitContext = { readonly rateLimit: Decision };

declare module '@portcullis/core' {
  // Types `req.portcullis.rateLimit` (and `req.context.rateLimit`) for every app that imports this package.
  interface PortcullisContext {
    /** The rate-limit decision, set by `@portcullis/ratelimit`'s guard when it let the request through. */
    readonly rateLimit: Decision;
  }
}

type RateLimitVerdict = Verdict<RateLimitContext>;

const NO_LIMIT_OPTIONS: LimitOptions = Object.freeze({});

/**
 * A framework-neutral guard that rate limits requests with a {@link RateLimiter}; the framework
 * entry points (`@portcullis/ratelimit/express`, `/fastify`, `/hono`) wrap it as middleware, and it
 * composes with other guards (`compose(authenticate, rateLimitGuard(...))`).
 *
 * For each request, unless `skip` says otherwise: computes the key, lets allow-listed keys through,
 * and asks the limiter to charge the request's cost (with its tier and pool). Then:
 *
 * - allowed: the request continues with the rate-limit headers on its response and the decision in
 *   its context as `rateLimit`; with `skipFailedRequests` / `skipSuccessfulRequests` its units are
 *   refunded when it ends that way.
 * - denied: `429 Too Many Requests` with the headers, `Retry-After` (whole seconds, rounded up) and
 *   the `message` (problem details by default). When the cost can never fit (it exceeds what the
 *   limit admits even when unused; `retryAfterMs` is `Infinity`) the answer is still 429 so clients
 *   and dashboards see one status for "rate limited", but without `Retry-After`, and the default
 *   body says that retrying will not help.
 * - a key the limiter refuses or a bad cost from the `cost` function (`InvalidKeyError`,
 *   `InvalidCostError`): `400 Bad Request` problem details. Any other error propagates to the
 *   framework's error handler.
 *
 * With a synchronous limiter (the memory store) the guard answers synchronously: no promise.
 *
 * @param options - See {@link RateLimitGuardOptions}.
 * @throws InvalidOptionError when an option is invalid, naming it.
 *
 * @example
 * ```ts
 * import { compose, type Guard } from '@portcullis/core';
 * import { portcullis } from '@portcullis/core/express';
 * import { createRateLimiter, fixedWindow, rateLimitGuard } from '@portcullis/ratelimit';
 * import express from 'express';
 *
 * const authenticate: Guard<{ user: string }> = (req) => ({
 *   action: 'continue',
 *   context: { user: req.header('x-user') ?? 'anonymous' },
 * });
 * const perUser = rateLimitGuard({
 *   limiter: createRateLimiter({ limits: { perMinute: fixedWindow({ limit: 100, windowMs: 60_000 }) } }),
 *   key: (req) => req.context['user'] as string | undefined,
 * });
 *
 * const app = express();
 * app.use(portcullis(compose(authenticate, perUser)));
 * ```
 */
export function rateLimitGuard(options: RateLimitGuardOptions): Guard<RateLimitContext> {
  const settings = resolveOptions(options);
  const { limiter, keyOf, allowList } = settings;

  return function rateLimit(req: GatewayRequest): RateLimitVerdict | PromiseLike<RateLimitVerdict> {
    if (settings.skip?.(req) === true) return CONTINUE;
    let key: string | undefined;
    try {
      key = keyOf(req);
    } catch (error) {
      return refuse(error);
    }
    if (key === undefined) {
      return settings.denyMissingKey
        ? answerBadRequest(`Cannot rate limit this request: it has ${settings.missingKey}.`)
        : CONTINUE;
    }
    if (allowList.has(key)) return CONTINUE;
    let result: Decision | PromiseLike<Decision>;
    try {
      result = limiter.limit(key, limitOptions(req, settings));
    } catch (error) {
      return refuse(error);
    }
    if (!isPromiseLike(result)) return decide(settings, req, result);
    return result.then(function decided(decision) {
      return decide(settings, req, decision);
    }, refuse);
  };
}

function limitOptions(req: GatewayRequest, { cost, tier, pool }: ResolvedOptions): LimitOptions {
  if (cost === 1 && tier === undefined && pool === undefined) return NO_LIMIT_OPTIONS;
  const limitOpts: { cost?: number; tier?: string; pool?: string } = {
    cost: typeof cost === 'number' ? cost : cost(req),
  };
  const tierName = tier?.(req);
  if (tierName !== undefined) limitOpts.tier = tierName;
  const poolName = pool?.(req);
  if (poolName !== undefined) limitOpts.pool = poolName;
  return limitOpts;
}

function decide(settings: ResolvedOptions, req: GatewayRequest, decision: Decision): RateLimitVerdict {
  // Built valid and in order: the allowed path only iterates them (see PresetHeaders).
  const headers = presetHeaders(settings.headers === false ? [] : rateLimitHeaders(decision, settings.headers));
  if (decision.allowed) {
    const { refund } = settings;
    return {
      action: 'continue',
      responseHeaders: settings.headers === false ? undefined : headers,
      upstreamHeaders: countedHeader(settings, req),
      context: { rateLimit: decision },
      onComplete:
        refund !== undefined && decision.cost > 0 ? refundOnComplete(settings.limiter, decision, refund) : undefined,
    };
  }
  if (Number.isFinite(decision.retryAfterMs)) {
    headers.set('retry-after', String(retryAfterSeconds(decision.retryAfterMs)));
  }
  const { message } = settings;
  if (message === undefined) {
    headers.set('content-type', PROBLEM_JSON);
    return { action: 'respond', status: 429, headers, body: tooManyRequests(decision) };
  }
  return {
    action: 'respond',
    status: 429,
    headers,
    body: typeof message === 'function' ? message(decision, req) : message,
  };
}

/**
 * For a header key: the header as counted, set for the handler and upstream. Setting it strips every
 * other copy and spelling (`X_Api_Key` for `x-api-key`), so what is served is what was limited.
 */
function countedHeader({ keyHeader }: ResolvedOptions, req: GatewayRequest): Headers | undefined {
  if (keyHeader === undefined) return undefined;
  const value = req.header(keyHeader);
  return value === undefined ? undefined : new Headers([[keyHeader, value]]);
}

/** Bad input the limiter refused becomes a 400; anything else is a real failure and propagates. */
function refuse(error: unknown): RateLimitVerdict {
  if (isInvalidKeyError(error) || isInvalidCostError(error) || isUnknownTierError(error)) {
    return answerBadRequest(error.message);
  }
  throw error;
}

function answerBadRequest(detail: string): RateLimitVerdict {
  return {
    action: 'respond',
    status: 400,
    headers: new Headers({ 'content-type': PROBLEM_JSON }),
    body: badRequest(detail),
  };
}
