import { InvalidOptionError } from '@portcullis/core';
import type { FastifyRequest } from 'fastify';
import { isOrigin } from './config.js';

/** Which browser origins may call the gateway. */
export interface CorsOptions {
  /**
   * `'*'`: any origin (safe here: credentials travel in `Authorization` / `x-api-key`, which a page
   * must add itself, never in cookies a browser attaches on its own); or the exact origins allowed,
   * e.g. `['https://app.example.com']`. Required.
   */
  origins: '*' | readonly string[];
}

/** The gateway's CORS policy, validated: what every answer and preflight says. */
export interface CorsPolicy {
  readonly origins: '*' | readonly string[];
  readonly methods: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly exposedHeaders: readonly string[];
  /** Seconds a browser may keep a preflight's answer. */
  readonly maxAge: number;
}

/** Request headers a browser may send: the credentials and what a JSON client needs. */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'x-api-key', 'if-match', 'if-none-match'];

/** Response headers a page may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = [
  'ratelimit',
  'ratelimit-policy',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'retry-after',
  'www-authenticate',
  'x-portcullis-served-by',
  'etag',
  'location',
];

/** A CORS preflight: an OPTIONS that names the method the page wants to use (Fetch standard §3.2.2). */
export function isPreflight(request: FastifyRequest): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined
  );
}

/**
 * The gateway's CORS policy for `options`: the methods it forwards, the credential and JSON headers
 * a page may send, the rate-limit and identity headers it may read, no cookies (`credentials`
 * false), preflights cached 10 minutes.
 *
 * @throws InvalidOptionError when an origin is not a bare `scheme://host[:port]`.
 * @example
 * ```ts
 * corsPolicy({ origins: ['https://app.example.com'] }).maxAge; // 600
 * ```
 */
export function corsPolicy(options: CorsOptions): CorsPolicy {
  const origins = options.origins;
  if (origins !== '*') {
    for (const [i, origin] of origins.entries()) {
      if (!isOrigin(origin)) {
        throw new InvalidOptionError(`cors.origins[${String(i)}]`, origin, 'an origin such as https://app.example.com');
      }
    }
  }
  return {
    origins: origins === '*' ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    // Browsers cap it (Chromium at 2 h); 10 minutes keeps a policy change visible soon.
    maxAge: 600,
  };
}
