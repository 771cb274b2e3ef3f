import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '@portcullis/testkit/frameworks';
import { bearerToken, createHealth, HEALTH_STATUSES, type Health, type HealthStatus } from '../src/index.js';
import { APP_ANSWER, MOUNTS, rawRequest, serveHealth, type Mount } from './servers.js';

// One spec for node:http and the three adapters, over real sockets: status codes, content type,
// the body's shape against the IETF draft's fields, details hidden from the public and shown to
// an admitted caller, and the documented answers to odd requests.

const TOKEN = 'health-token-0123456789';
const SECRET_HOST = 'redis-7.internal.example:6379';

/** The draft's top-level fields, and the fields of its check objects. */
const TOP_LEVEL = new Set([
  'status',
  'version',
  'releaseId',
  'notes',
  'output',
  'checks',
  'links',
  'serviceId',
  'description',
]);
const CHECK_FIELDS = new Set([
  'componentId',
  'componentType',
  'observedValue',
  'observedUnit',
  'status',
  'affectedEndpoints',
  'time',
  'output',
  'links',
]);

/** Fails the test unless `body` has only the draft's fields, of the draft's types. */
function expectDraftShape(body: unknown): void {
  expect(typeof body).toBe('object');
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) expect(TOP_LEVEL.has(key), `top-level field ${key}`).toBe(true);
  expect(HEALTH_STATUSES).toContain(record['status']);
  const checks = record['checks'];
  if (checks === undefined) return;
  for (const [key, entries] of Object.entries(checks as Record<string, unknown>)) {
    // "componentName:measurementName", each part without a colon.
    expect(key.split(':').length).toBeLessThanOrEqual(2);
    expect(Array.isArray(entries)).toBe(true);
    for (const entry of entries as Record<string, unknown>[]) {
      for (const field of Object.keys(entry)) expect(CHECK_FIELDS.has(field), `check field ${field}`).toBe(true);
      expect(HEALTH_STATUSES).toContain(entry['status']);
      expect(new Date(entry['time'] as string).toISOString()).toBe(entry['time']);
      if (entry['output'] !== undefined) expect(typeof entry['output']).toBe('string');
    }
  }
}

interface World {
  readonly health: Health;
  set(name: 'db' | 'cache', status: HealthStatus): void;
}

function world(): World {
  const status: Record<string, HealthStatus> = { db: 'pass', cache: 'pass' };
  const health = createHealth({
    serviceId: 'orders-api',
    version: '2',
    checks: [
      {
        name: 'db',
        componentType: 'datastore',
        ttlMs: 0,
        check: () => ({ status: status['db'], observedValue: 3, observedUnit: 'ms' }),
      },
      {
        name: 'cache:ping',
        critical: false,
        ttlMs: 0,
        check: () => {
          if (status['cache'] === 'fail') throw new Error(`connect ECONNREFUSED ${SECRET_HOST}`);
          return status['cache'];
        },
      },
      { name: 'loop', groups: ['liveness'], check: () => 'pass' },
      { name: 'search', groups: ['search'], check: () => 'pass' },
    ],
  });
  return {
    health,
    set(name, next) {
      status[name] = next;
    },
  };
}

describe.each(MOUNTS)('health endpoints on %s', (mount: Mount) => {
  let server: RunningServer;
  let w: World;
  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${server.url}${path}`, { headers });
  const admitted = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    w = world();
    server = await serveHealth(mount, w.health, { details: bearerToken(TOKEN), deadlineMs: 2_000 });
  });
  afterAll(async () => {
    await server.close();
  });

  test('200 for pass and warn, 503 for fail; application/health+json, no-store; the public sees the status alone', async () => {
    w.set('db', 'pass');
    w.set('cache', 'pass');
    let res = await get('/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/health+json');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: 'pass' });

    w.set('cache', 'fail'); // not critical: degraded
    res = await get('/health/ready');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: 'warn' });
    expect(text).not.toContain('internal');

    w.set('db', 'fail');
    res = await get('/health/ready?verbose');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'fail' });
    w.set('db', 'pass');
    w.set('cache', 'pass');
  });

  test('an admitted caller gets the draft fields and the checks; outputs only with ?verbose', async () => {
    w.set('cache', 'fail');
    const res = await get('/health', admitted);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expectDraftShape(body);
    expect(body).toMatchObject({ status: 'warn', serviceId: 'orders-api', version: '2' });
    const checks = body['checks'] as Record<string, Record<string, unknown>[]>;
    expect(Object.keys(checks)).toEqual(['db', 'cache:ping', 'loop', 'search']);
    expect(checks['db']?.[0]).toMatchObject({
      status: 'pass',
      componentType: 'datastore',
      observedValue: 3,
      observedUnit: 'ms',
    });
    expect(checks['cache:ping']?.[0]?.['status']).toBe('fail');
    expect(JSON.stringify(body)).not.toContain(SECRET_HOST);

    const verbose = (await (await get('/health?verbose', admitted)).json()) as Record<string, unknown>;
    expectDraftShape(verbose);
    const entry = (verbose['checks'] as Record<string, Record<string, unknown>[]>)['cache:ping']?.[0];
    expect(entry?.['output']).toContain(SECRET_HOST);
    w.set('cache', 'pass');
  });

  test('liveness, startup, custom groups and one check by its (encoded) name', async () => {
    w.set('db', 'fail');
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health/liveness')).status).toBe(200);
    expect((await get('/health/search')).status).toBe(200);
    expect((await get('/health/ready/loop')).status).toBe(404); // not in readiness
    expect((await get('/health/live/loop')).status).toBe(200);
    w.set('db', 'pass');
    w.set('cache', 'fail');
    // A check's own path answers its own status, critical or not.
    const own = await get('/health/ready/cache%3Aping', admitted);
    expect(own.status).toBe(503);
    expect(Object.keys(((await own.json()) as { checks: object }).checks)).toEqual(['cache:ping']);
    expect((await get('/health/ready/cache:ping')).status).toBe(503);
    expect((await get('/health/ready/db/')).status).toBe(200);
    expect((await get('/health/startup')).status).toBe(200);
    w.set('cache', 'pass');
  });

  test('HEAD answers like GET without a body; other methods get 405 with Allow', async () => {
    const head = await fetch(`${server.url}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/health+json');
    expect(await head.text()).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const res = await fetch(`${server.url}/health/ready`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  test('paths that name nothing get 404, the path never echoed; other paths reach the app', async () => {
    const long = `/health/ready/${'a'.repeat(5_000)}`;
    for (const path of [
      '/health/nope',
      '/health/ready/nope',
      '/health/ready/db/extra',
      '/health/ready/%00',
      '/health/ready%2Fdb',
      '/health/ready/__proto__',
      '/health/constructor',
      long,
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toBe('application/problem+json');
      const text = await res.text();
      expect(text).not.toContain('nope');
      expect(text).not.toContain('aaaa');
    }
    // A malformed escape: Fastify answers it itself (400) before any hook runs.
    const malformed = await get('/health/ready/%E0%A4%A');
    expect(malformed.status).toBe(mount === 'fastify' ? 400 : 404);
    // (Fastify's own answer echoes the path; ours never does.)
    if (mount !== 'fastify') expect(await malformed.text()).not.toContain('E0%A4');
    expect(await (await get('/other')).text()).toBe(APP_ANSWER);
    // Only the base path and below: a longer first segment is someone else's.
    expect((await get('/healthz')).status).toBe(404);
    expect(await (await get('/healthz')).text()).not.toContain('"status":"');
  });

  test('dot segments the client did not normalise, and two copies of the token header', async () => {
    const dots = await rawRequest(server.url, 'GET /health/ready/%2e%2e HTTP/1.1');
    // Hono sees the request as a WHATWG URL, which resolves "%2e%2e" to "..": the base path.
    expect(dots.status).toBe(mount === 'hono' ? 200 : 404);
    if (mount === 'hono') expect(JSON.parse(dots.body)).toEqual({ status: 'pass' });

    // A method Node's parser does not know never reaches a listener: Node answers 400 itself.
    expect((await rawRequest(server.url, 'FOO /health HTTP/1.1')).status).toBe(400);

    const twice = await rawRequest(
      server.url,
      `GET /health HTTP/1.1\r\nauthorization: Bearer ${TOKEN}\r\nauthorization: Bearer other-token-abcdefgh`,
    );
    expect(twice.status).toBe(200);
    expect(JSON.parse(twice.body)).toEqual({ status: 'pass' });
    const once = await rawRequest(server.url, `GET /health HTTP/1.1\r\nauthorization: Bearer ${TOKEN}`);
    expect(Object.keys(JSON.parse(once.body) as object)).toContain('checks');
  });
});
