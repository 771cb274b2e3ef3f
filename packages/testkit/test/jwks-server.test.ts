import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { generateKeyPair, isTestkitError, serveJson, startJwksServer } from '../src/index.js';
import type { JwksServer, TestKeyPair } from '../src/index.js';
import { rejectionOf } from './connectivity.js';

/** The error code undici reports as the cause of a failed fetch (ECONNREFUSED, ECONNRESET, ...). */
function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code;
}

describe('startJwksServer', () => {
  let key: TestKeyPair;
  let jwks: JwksServer;

  beforeAll(async () => {
    key = generateKeyPair('ES256', 'k1');
    jwks = await startJwksServer({ keys: [key.publicJwk] });
  });
  afterAll(async () => {
    await jwks.close();
  });
  beforeEach(async () => {
    await jwks.behave({ kind: 'ok' });
    jwks.setJwks({ keys: [key.publicJwk] });
    jwks.setHeaders({});
  });

  test('ok: serves the key set as JSON at /.well-known/jwks.json and counts fetches', async () => {
    expect(jwks.url).toBe(`http://127.0.0.1:${jwks.port}/.well-known/jwks.json`);
    const before = jwks.fetchCount;
    const response = await fetch(jwks.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ keys: [key.publicJwk] });
    expect(jwks.fetchCount).toBe(before + 1);
  });

  test('other paths get 404 and are not counted', async () => {
    const before = jwks.fetchCount;
    expect((await fetch(new URL('/other', jwks.url))).status).toBe(404);
    expect(jwks.fetchCount).toBe(before);
  });

  test('setJwks rotates the served keys and setHeaders adds headers', async () => {
    const next = generateKeyPair('EdDSA', 'k2');
    jwks.setJwks({ keys: [next.publicJwk] });
    jwks.setHeaders({ 'cache-control': 'max-age=60' });
    const response = await fetch(jwks.url);
    expect(response.headers.get('cache-control')).toBe('max-age=60');
    expect(await response.json()).toEqual({ keys: [next.publicJwk] });
  });

  test('status: answers with the scripted status (and the extra headers)', async () => {
    jwks.setHeaders({ 'retry-after': '5' });
    await jwks.behave({ kind: 'status', status: 500 });
    const before = jwks.fetchCount;
    const response = await fetch(jwks.url);
    expect(response.status).toBe(500);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(jwks.fetchCount).toBe(before + 1);
  });

  test('slow: answers normally after the delay', async () => {
    await jwks.behave({ kind: 'slow', delayMs: 20 });
    const response = await fetch(jwks.url);
    expect(await response.json()).toEqual({ keys: [key.publicJwk] });
  });

  test('slow: a client deadline shorter than the delay fires first', async () => {
    await jwks.behave({ kind: 'slow', delayMs: 60_000 });
    const error = await rejectionOf(fetch(jwks.url, { signal: AbortSignal.timeout(100) }));
    expect((error as Error).name).toBe('TimeoutError');
  });

  test('hang: the request arrives but is never answered', async () => {
    await jwks.behave({ kind: 'hang' });
    const before = jwks.fetchCount;
    const error = await rejectionOf(fetch(jwks.url, { signal: AbortSignal.timeout(100) }));
    expect((error as Error).name).toBe('TimeoutError');
    expect(jwks.fetchCount).toBe(before + 1);
  });

  test('malformed: 200 with a body that is not JSON', async () => {
    await jwks.behave({ kind: 'malformed' });
    const response = await fetch(jwks.url);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
  });

  test('huge: streams exactly `bytes` bytes of a JSON prefix, chunked by default', async () => {
    await jwks.behave({ kind: 'huge', bytes: 1_000_000 });
    const response = await fetch(jwks.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.length).toBe(1_000_000);
    expect(body.subarray(0, 10).toString()).toBe('{"keys":["');
    expect(body.subarray(10).every((byte) => byte === 'a'.charCodeAt(0))).toBe(true);
  });

  test('huge with contentLength: declares the size up front; tiny sizes are a prefix too', async () => {
    await jwks.behave({ kind: 'huge', bytes: 5, contentLength: true });
    const response = await fetch(jwks.url);
    expect(response.headers.get('content-length')).toBe('5');
    expect(await response.text()).toBe('{"key');
  });

  test('huge: a client that stops reading early does not break the server', async () => {
    await jwks.behave({ kind: 'huge', bytes: 50_000_000 });
    const controller = new AbortController();
    const response = await fetch(jwks.url, { signal: controller.signal });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.value!.length).toBeGreaterThan(0);
    controller.abort();
    await jwks.behave({ kind: 'ok' });
    expect((await fetch(jwks.url)).status).toBe(200);
  });

  test('refuse: connections are refused; ok listens again on the same port', async () => {
    await jwks.behave({ kind: 'refuse' });
    const before = jwks.fetchCount;
    const error = await rejectionOf(fetch(jwks.url));
    expect(error).toBeInstanceOf(TypeError);
    expect(causeCode(error)).toBe('ECONNREFUSED');
    expect(jwks.fetchCount).toBe(before);

    await jwks.behave({ kind: 'ok' });
    expect((await fetch(jwks.url)).status).toBe(200);
  });

  test('reset: the connection is reset without an answer', async () => {
    await jwks.behave({ kind: 'reset' });
    const before = jwks.fetchCount;
    const error = await rejectionOf(fetch(jwks.url));
    expect(error).toBeInstanceOf(TypeError);
    expect(causeCode(error)).toBe('ECONNRESET');
    expect(jwks.fetchCount).toBe(before + 1);
  });

  test('invalid behaviours are rejected with a TestkitError', async () => {
    for (const behaviour of [
      { kind: 'status', status: 42 },
      { kind: 'slow', delayMs: -1 },
      { kind: 'huge', bytes: 1.5 },
    ] as const) {
      const error = await rejectionOf(jwks.behave(behaviour));
      expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_INVALID_OPTION');
    }
  });
});

describe('JWKS server close()', () => {
  test('cancels pending slow answers and ends hanging requests', async () => {
    const jwks = await startJwksServer({ keys: [] });
    await jwks.behave({ kind: 'slow', delayMs: 60_000 });
    // rejectionOf() attaches the handler now: the rejection happens during close(), before any await.
    const slow = rejectionOf(fetch(jwks.url));
    await vi.waitFor(() => {
      expect(jwks.fetchCount).toBe(1);
    });
    await jwks.behave({ kind: 'hang' });
    const hanging = rejectionOf(fetch(jwks.url));
    await vi.waitFor(() => {
      expect(jwks.fetchCount).toBe(2);
    });

    await jwks.close();
    // Both would otherwise outlive the test timeout; they fail as soon as the sockets are destroyed.
    expect(await slow).toBeInstanceOf(TypeError);
    expect(await hanging).toBeInstanceOf(TypeError);
  });

  test('can close while refusing, and twice', async () => {
    const jwks = await startJwksServer({ keys: [] });
    await jwks.behave({ kind: 'refuse' });
    await jwks.close();
    await jwks[Symbol.asyncDispose]();
    expect(causeCode(await rejectionOf(fetch(jwks.url)))).toBe('ECONNREFUSED');
  });
});

describe('serveJson', () => {
  test('serves any JSON document at "/" by default, or at the given path', async () => {
    const root = await serveJson({ hello: 'world' });
    const nested = await serveJson([1, 2], { path: '/config.json', headers: { 'x-test': 'yes' } });
    try {
      expect(root.url).toBe(`http://127.0.0.1:${root.port}/`);
      expect(await (await fetch(root.url)).json()).toEqual({ hello: 'world' });
      root.setBody({ hello: 'again' });
      expect(await (await fetch(root.url)).json()).toEqual({ hello: 'again' });

      const response = await fetch(nested.url);
      expect(nested.url.endsWith('/config.json')).toBe(true);
      expect(response.headers.get('x-test')).toBe('yes');
      expect(await response.json()).toEqual([1, 2]);
    } finally {
      await root.close();
      await nested.close();
    }
  });
});
