import { fc, test } from '@fast-check/vitest';
import cors, { type FastifyCorsOptions, type FastifyCorsOptionsDelegateCallback } from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { gatewayCors } from './cors-hook.js';
import { corsPolicy, isPreflight, type CorsOptions } from './cors.js';
import { problemNotFound } from './problems.js';

const ALLOWED = ['https://app.example.com', 'http://localhost:5173'];

/** What the gateway did before: @fastify/cors 11 with options decided per request (preflight or not). */
function fastifyCorsOptions(
  options: CorsOptions,
): (request: unknown, callback: (e: null, o: FastifyCorsOptions) => void) => void {
  const policy = corsPolicy(options);
  const base: FastifyCorsOptions = {
    origin: policy.origins === '*' ? '*' : [...policy.origins],
    methods: [...policy.methods],
    allowedHeaders: [...policy.allowedHeaders],
    exposedHeaders: [...policy.exposedHeaders],
    credentials: false,
    maxAge: policy.maxAge,
  };
  return function corsFor(request, callback) {
    callback(null, { ...base, preflight: isPreflight(request as Parameters<typeof isPreflight>[0]) });
  };
}

/** A root with the CORS under test, a hook before it that may set `Vary`, a route and the gateway's 404. */
async function app(withCors: (app: FastifyInstance) => Promise<void>): Promise<{ app: FastifyInstance; base: string }> {
  const app = Fastify({ logger: false });
  app.setNotFoundHandler(problemNotFound);
  app.addHook('onRequest', (request, reply, done) => {
    const vary = request.headers['x-test-vary'];
    if (typeof vary === 'string') reply.header('vary', vary);
    done();
  });
  await withCors(app);
  app.all('/api/*', (_request, reply) => reply.send('routed'));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base };
}

const setups = new Map<
  string,
  { before: { app: FastifyInstance; base: string }; after: { app: FastifyInstance; base: string } }
>();

beforeAll(async () => {
  for (const [name, options] of [
    ['any', { origins: '*' }],
    ['listed', { origins: ALLOWED }],
  ] as const) {
    setups.set(name, {
      before: await app(async (root) => {
        await root.register(cors, () => fastifyCorsOptions(options) as FastifyCorsOptionsDelegateCallback);
      }),
      after: await app((root) => {
        gatewayCors(root, options);
        return Promise.resolve();
      }),
    });
  }
});

afterAll(async () => {
  for (const { before, after } of setups.values()) await Promise.all([before.app.close(), after.app.close()]);
});

async function ask(
  base: string,
  req: { method: string; path: string; headers: Record<string, string> },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const res = await request(`${base}${req.path}`, { method: req.method as 'GET', headers: req.headers });
  const body = await res.body.text();
  const headers: Record<string, unknown> = { ...res.headers };
  delete headers['date'];
  return { status: res.statusCode, headers, body };
}

const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

describe('the gateway’s own CORS hook', () => {
  test.prop(
    [
      fc.constantFrom('any', 'listed'),
      fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'OPTIONS', 'OPTIONS'),
      fc.constantFrom('/api/users', '/nowhere', '/'),
      optional(fc.constantFrom(...ALLOWED, 'https://evil.example', 'null')),
      optional(fc.constantFrom('GET', 'POST', 'DELETE')),
      optional(fc.constantFrom('x-api-key', 'authorization, content-type')),
      optional(fc.constantFrom('Accept-Encoding', '*', 'origin', 'Accept, Origin', 'a, *', 'Accept,  Cookie')),
    ],
    { numRuns: 300 },
  )(
    'answers exactly as @fastify/cors did with the per-request options: status, every header, body',
    async (setup, method, path, origin, requestMethod, requestHeaders, vary) => {
      const headers: Record<string, string> = {};
      if (origin !== undefined) headers['origin'] = origin;
      if (requestMethod !== undefined) headers['access-control-request-method'] = requestMethod;
      if (requestHeaders !== undefined) headers['access-control-request-headers'] = requestHeaders;
      if (vary !== undefined) headers['x-test-vary'] = vary;
      const { before, after } = setups.get(setup) ?? expect.unreachable();
      const req = { method, path, headers };
      expect(await ask(after.base, req)).toEqual(await ask(before.base, req));
    },
  );
});
