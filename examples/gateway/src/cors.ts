import type {
  FastifyCorsOptions,
  FastifyCorsOptionsDelegateCallback,
  FastifyPluginOptionsDelegate,
} from '@fastify/cors';
import { InvalidOptionError } from '@portcullis/core';
import { isOrigin } from './config.js';
import type { FastifyRequest } from 'fastify';

/** Which browser origins may call the gateway. */
export interface CorsOptions {
  /**
   * `'*'`: any origin (safe here: credentials travel in `Authorization` / `x-api-key`, which a page
   * must add itself, never in cookies a browser attaches on its own); or the exact origins allowed,
   * e.g. `['https://app.example.com']`. Required.
   */
  origins: '*' | readonly string[];
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
function isPreflight(request: FastifyRequest): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined
  );
}

/**
 * The `@fastify/cors` options for the gateway, decided per request: register them on the root
 * instance before any guard (`@fastify/cors` answers in an `onRequest` hook), so that preflights
 * are answered without credentials (a browser sends none with them) and every answer, refusals and
 * 429s included, carries the headers a page needs to read it. An OPTIONS request that is not a
 * preflight goes on to the route like any other request.
 *
 * @throws InvalidOptionError when an origin is not a bare `scheme://host[:port]`.
 * @example
 * ```ts
 * await app.register(cors, corsOptions({ origins: ['https://app.example.com'] }));
 * ```
 */
export function corsOptions(options: CorsOptions): FastifyPluginOptionsDelegate<FastifyCorsOptionsDelegateCallback> {
  const origins = options.origins;
  if (origins !== '*') {
    for (const [i, origin] of origins.entries()) {
      if (!isOrigin(origin)) {
        throw new InvalidOptionError(`cors.origins[${String(i)}]`, origin, 'an origin such as https://app.example.com');
      }
    }
  }
  const base: FastifyCorsOptions = {
    origin: origins === '*' ? '*' : [...origins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    // Browsers cap it (Chromium at 2 h); 10 minutes keeps a policy change visible soon.
    maxAge: 600,
  };
  // Both answers built once (@fastify/cors copies what it is given).
  const preflight: FastifyCorsOptions = { ...base, preflight: true };
  const other: FastifyCorsOptions = { ...base, preflight: false };
  return () =>
    function corsFor(request, callback) {
      callback(null, isPreflight(request) ? preflight : other);
    };
}
