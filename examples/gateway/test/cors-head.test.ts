import type { IncomingHttpHeaders } from 'node:http';
import { startHttpServer, type HttpServer } from '@portcullis/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { rawRequest, startTestGateway, type TestGateway } from './harness.js';

let upstream: HttpServer;
let gw: TestGateway;
const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
const ORIGIN = 'https://app.example.com';
const CATALOGUE = JSON.stringify({ users: [{ id: 1, name: 'Ada' }], padding: 'x'.repeat(1_000) });

beforeAll(async () => {
  upstream = await startHttpServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { allow: 'GET, HEAD, OPTIONS' }).end();
      return;
    }
    // Node leaves the body out of a HEAD answer and keeps the GET's content-length.
    res.writeHead(200, {
      'content-type': 'application/json',
      etag: '"v1"',
      vary: 'Accept-Encoding',
      'content-length': Buffer.byteLength(CATALOGUE),
    });
    res.end(CATALOGUE);
  });
  gw = await startTestGateway({ upstreamUrl: upstream.url, parts: { cors: { origins: [ORIGIN] } } });
});

afterAll(async () => {
  await gw.close();
  await upstream.close();
});

beforeEach(() => {
  seen.length = 0;
});

describe('CORS', () => {
  test('a preflight is answered by the gateway, without credentials and without reaching the upstream', async () => {
    const res = await rawRequest(`${gw.base}/api/users`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(res.headers['access-control-allow-methods']).toMatch(/POST/);
    const allowed = String(res.headers['access-control-allow-headers']).toLowerCase();
    expect(allowed).toContain('authorization');
    expect(allowed).toContain('content-type');
    expect(allowed).toContain('x-api-key');
    expect(Number(res.headers['access-control-max-age'])).toBeGreaterThan(0);
    expect(seen).toEqual([]);
  });

  test('answers, refusals and 429s carry the CORS headers, so a browser can read them', async () => {
    const ok = await fetch(`${gw.base}/api/users`, { headers: { origin: ORIGIN, 'x-api-key': 'demo-pro' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).not.toBeNull();
    const exposed = (ok.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    for (const name of ['ratelimit', 'ratelimit-policy', 'retry-after', 'x-portcullis-served-by', 'www-authenticate']) {
      expect(exposed).toContain(name);
    }
    const refused = await fetch(`${gw.base}/api/users`, { headers: { origin: ORIGIN } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).not.toBeNull();
    let limited: Response | undefined;
    for (let i = 0; i < 10 && limited === undefined; i++) {
      const res = await fetch(`${gw.base}/api/users`, { headers: { origin: ORIGIN, 'x-api-key': 'demo-free' } });
      if (res.status === 429) limited = res;
    }
    expect(limited?.headers.get('access-control-allow-origin')).not.toBeNull();
  });

  test('an OPTIONS request that is not a preflight goes to the upstream like any other', async () => {
    const res = await rawRequest(`${gw.base}/api/users`, { method: 'OPTIONS', headers: { 'x-api-key': 'demo-pro' } });
    expect(res.status).toBe(204);
    expect(res.headers['allow']).toBe('GET, HEAD, OPTIONS');
    expect(seen.map((s) => s.method)).toEqual(['OPTIONS']);
  });

  test('an origin that is not allowed gets no CORS headers (the browser then withholds the answer)', async () => {
    const res = await rawRequest(`${gw.base}/api/users`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(seen).toEqual([]);
  });

  test('the upstream’s headers are relayed, its Vary merged with the gateway’s Vary: Origin', async () => {
    const res = await fetch(`${gw.base}/api/users`, { headers: { origin: ORIGIN, 'x-api-key': 'demo-enterprise' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v1"');
    const vary = (res.headers.get('vary') ?? '').toLowerCase().split(/\s*,\s*/);
    expect(vary).toContain('origin');
    expect(vary).toContain('accept-encoding');
  });

  test('the README’s gateway allows any origin (credentials travel in headers, never in cookies)', async () => {
    await using demo = await startTestGateway();
    const res = await rawRequest(`${demo.base}/api/users`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-api-key',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('HEAD', () => {
  test('answers with the GET’s content-length and headers, and no body', async () => {
    const get = await rawRequest(`${gw.base}/api/users`, { headers: { 'x-api-key': 'demo-enterprise' } });
    const head = await rawRequest(`${gw.base}/api/users`, {
      method: 'HEAD',
      headers: { 'x-api-key': 'demo-enterprise' },
    });
    expect(get.status).toBe(200);
    expect(get.body.toString()).toBe(CATALOGUE);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(CATALOGUE)));
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['etag']).toBe('"v1"');
    expect(head.body.length).toBe(0);
    expect(seen.map((s) => s.method)).toEqual(['GET', 'HEAD']);
  });

  test('HEAD on the demo upstream (the README’s gateway) reports the GET’s length too', async () => {
    await using demo = await startTestGateway();
    const get = await rawRequest(`${demo.base}/api/users`, { headers: { 'x-api-key': 'demo-enterprise' } });
    const head = await rawRequest(`${demo.base}/api/users`, {
      method: 'HEAD',
      headers: { 'x-api-key': 'demo-enterprise' },
    });
    expect(Number(head.headers['content-length'])).toBe(get.body.length);
    expect(get.body.length).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
  });
});
