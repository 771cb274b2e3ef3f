import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { startHttpServer, type HttpServer } from '@portcullis/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { rawRequest, startTestGateway, type TestGateway } from './harness.js';

/** What the upstream received. */
interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

let echo: HttpServer;
let gw: TestGateway;
const received: Received[] = [];
const key = { 'x-api-key': 'demo-enterprise' };

beforeAll(async () => {
  // Echoes the body back with its length and digest, after reading all of it.
  echo = await startHttpServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const chunk of req) parts.push(chunk as Buffer);
    const body = Buffer.concat(parts);
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    // Takes the body, then never answers.
    if (req.url === '/users/hang') return;
    res.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream');
    res.setHeader('x-echo-bytes', String(body.length));
    res.setHeader('x-echo-sha256', sha256(body));
    res.end(body);
  });
  gw = await startTestGateway({ upstreamUrl: echo.url });
});

afterAll(async () => {
  await gw.close();
  await echo.close();
});

beforeEach(() => {
  received.length = 0;
});

const failures = async (): Promise<number> =>
  ((await (await fetch(`${gw.base}/demo/forwarding`)).json()) as Record<string, { failures: number } | undefined>).users
    ?.failures ?? 0;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function lastReceived(): Received {
  const last = received.at(-1);
  if (last === undefined) throw new Error('the upstream received nothing');
  return last;
}

describe('request bodies are forwarded as they are, streamed, whatever their type', () => {
  test('JSON reaches the upstream byte for byte, and the client gets its answer', async () => {
    const body = Buffer.from(JSON.stringify({ items: ['p1', 'p2'], note: 'gift ✓' }));
    const res = await rawRequest(`${gw.base}/api/orders`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    const got = lastReceived();
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/orders');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.body.equals(body)).toBe(true);
    expect(res.body.equals(body)).toBe(true);
  });

  test('invalid JSON is the upstream’s business, not a gateway 400', async () => {
    const body = Buffer.from('{"items": [oops');
    const res = await rawRequest(`${gw.base}/api/orders`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(lastReceived().body.equals(body)).toBe(true);
  });

  test.each([
    ['text/plain; charset=utf-8', Buffer.from('hello, upstream')],
    ['application/x-www-form-urlencoded', Buffer.from('a=1&b=%20two')],
    ['application/vnd.portcullis.unknown+cbor', randomBytes(300)],
    ['image/png', randomBytes(1_000)],
    [
      'multipart/form-data; boundary=xyz',
      Buffer.from('--xyz\r\ncontent-disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n'),
    ],
  ])('%s is forwarded, not refused with a 415', async (contentType, body) => {
    const res = await rawRequest(`${gw.base}/api/users/uploads`, {
      method: 'PUT',
      headers: { ...key, 'content-type': contentType },
      body,
    });
    expect(res.status).toBe(200);
    const got = lastReceived();
    expect(got.headers['content-type']).toBe(contentType);
    expect(got.body.equals(body)).toBe(true);
    expect(res.body.equals(body)).toBe(true);
  });

  test('a body without a content type is forwarded too', async () => {
    const body = randomBytes(64);
    const res = await rawRequest(`${gw.base}/api/users/uploads`, { method: 'POST', headers: key, body });
    expect(res.status).toBe(200);
    expect(lastReceived().body.equals(body)).toBe(true);
  });

  test('several MB of random bytes arrive intact (past any parser limit)', async () => {
    const body = randomBytes(5 * 1024 * 1024 + 7);
    const res = await rawRequest(`${gw.base}/api/users/uploads/big`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/octet-stream' },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-echo-sha256']).toBe(sha256(body));
    expect(lastReceived().body.length).toBe(body.length);
    expect(sha256(res.body)).toBe(sha256(body));
  });

  test('a chunked body is streamed through intact', async () => {
    const chunks = [randomBytes(10), randomBytes(70_000), Buffer.from('{"tail":true}'), randomBytes(1)];
    const whole = Buffer.concat(chunks);
    const res = await rawRequest(`${gw.base}/api/users/uploads/chunked`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      chunks,
    });
    expect(res.status).toBe(200);
    expect(lastReceived().body.equals(whole)).toBe(true);
    expect(res.body.equals(whole)).toBe(true);
  });

  test('an empty JSON body is forwarded empty, not refused', async () => {
    const res = await rawRequest(`${gw.base}/api/orders`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body: new Uint8Array(0),
    });
    expect(res.status).toBe(200);
    const got = lastReceived();
    expect(got.body.length).toBe(0);
    expect(res.headers['x-echo-bytes']).toBe('0');
  });

  test('a malformed content type is refused with problem+json, never with the framework’s own format', async () => {
    const res = await rawRequest(`${gw.base}/api/orders`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'not a media type' },
      body: Buffer.from('x'),
    });
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(res.body.toString())).toMatchObject({ status: 415 });
  });

  test('any bytes, any content type, any method with a body, whole or chunked: identical at the upstream and back', async () => {
    const contentType = fc.option(
      fc.constantFrom(
        'application/json',
        'text/plain; charset=utf-8',
        'application/octet-stream',
        'application/x-www-form-urlencoded',
        'application/vnd.example+xml',
        'audio/ogg',
      ),
      { nil: undefined },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 100_000 }),
        contentType,
        fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'),
        fc.integer({ min: 0, max: 4 }),
        async (body, type, method, splits) => {
          received.length = 0;
          const headers: Record<string, string> = { ...key, ...(type === undefined ? {} : { 'content-type': type }) };
          // splits > 0: chunked, cut into splits + 1 pieces; 0: one write with a content-length.
          const step = Math.ceil(body.length / (splits + 1));
          const chunks =
            splits === 0
              ? undefined
              : Array.from({ length: splits + 1 }, (_, i) => body.subarray(i * step, (i + 1) * step));
          const res = await rawRequest(`${gw.base}/api/users/things/x?n=1`, {
            method,
            headers,
            ...(chunks === undefined ? { body } : { chunks }),
          });
          expect(res.status).toBe(200);
          const got = lastReceived();
          expect(got.method).toBe(method);
          expect(got.url).toBe('/users/things/x?n=1');
          expect(sha256(got.body)).toBe(sha256(body));
          expect(sha256(res.body)).toBe(sha256(body));
        },
      ),
      { numRuns: 60 },
    );
  });

  test('a GET with a body is forwarded with it (and neither retried nor cached)', async () => {
    const body = Buffer.from('{"query":"{ users { id } }"}');
    const res = await rawRequest(`${gw.base}/api/products/search`, {
      headers: { ...key, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(lastReceived().method).toBe('GET');
    expect(lastReceived().body.equals(body)).toBe(true);
  });

  test('the upstream gets the path the router decided on (canonical) and the query exactly as sent', async () => {
    const res = await rawRequest(gw.base, { rawPath: '/api/users/a/../b/%2e%2e/c%7e?x=1&x=2&y=%20', headers: key });
    expect(res.status).toBe(200);
    expect(lastReceived().url).toBe('/users/c~?x=1&x=2&y=%20');
  });

  test('a path that climbs out of its route reaches the route it names, never an upstream path the router did not see', async () => {
    // `/api/products/../users/1` is `/api/users/1`: the users route (and its limits) decide, and
    // the users service reads /users/1.
    received.length = 0;
    const res = await rawRequest(gw.base, { rawPath: '/api/products/%2e%2e/users/1', headers: key });
    expect(res.status).toBe(200);
    expect(lastReceived().url).toBe('/users/1');
    // An encoded separator or a climb above the root is refused before anything is forwarded.
    received.length = 0;
    for (const rawPath of ['/api/users/..%2F..%2Fadmin', '/api/users/../../../admin', '/api/users/a%5Cb']) {
      const refused = await rawRequest(gw.base, { rawPath, headers: key });
      expect(refused.status).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    expect(received).toEqual([]);
  });

  test('a slow upload is not an upstream failure: the time to answer starts when the body has been sent', async () => {
    const before = await failures();
    const parts = [Buffer.from('{"part":1,'), Buffer.from('"part":2,'), Buffer.from('"end":true}')];
    const res = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(
        `${gw.base}/api/users/uploads/slow`,
        { method: 'POST', headers: { ...key, 'content-type': 'application/json' }, agent: false },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) });
          });
        },
      );
      req.on('error', reject);
      // Longer in all than the 2 s an attempt has to get the upstream's answer.
      void (async () => {
        for (const part of parts) {
          req.write(part);
          await pause(1_100);
        }
        req.end();
      })();
    });
    expect(res.status).toBe(200);
    expect(res.body.equals(Buffer.concat(parts))).toBe(true);
    expect(await failures()).toBe(before);
  }, 15_000);

  test('an upstream that takes the body and never answers gets a 5xx problem, counted as a failure', async () => {
    const before = await failures();
    const res = await rawRequest(`${gw.base}/api/users/hang`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'text/plain' },
      body: Buffer.from('anyone there?'),
    });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(await failures()).toBe(before + 1);
  }, 15_000);
});
