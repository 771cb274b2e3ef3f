import { describe, expect, test, vi } from 'vitest';
import { isTestkitError, startHttpServer } from '../src/index.js';
import { probePort, rejectionOf } from './connectivity.js';

describe('startHttpServer', () => {
  test('listens on 127.0.0.1 and answers 404 until a handler is set', async () => {
    const server = await startHttpServer();
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect((await fetch(server.url)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  test('serves with the given handler, counts requests, and setHandler swaps it', async () => {
    const server = await startHttpServer((_request, response) => {
      response.end('first');
    });
    try {
      expect(server.requests).toBe(0);
      expect(await (await fetch(server.url)).text()).toBe('first');
      server.setHandler((request, response) => {
        response.end(`second ${request.url ?? ''}`);
      });
      expect(await (await fetch(`${server.url}/path`)).text()).toBe('second /path');
      expect(server.requests).toBe(2);
    } finally {
      await server.close();
    }
  });

  test('a handler that throws or rejects gets a 500 instead of crashing the run', async () => {
    const server = await startHttpServer(() => {
      throw new Error('sync boom');
    });
    try {
      expect((await fetch(server.url)).status).toBe(500);
      server.setHandler(async () => {
        await Promise.resolve();
        throw new Error('async boom');
      });
      expect((await fetch(server.url)).status).toBe(500);
    } finally {
      await server.close();
    }
  });

  test('close() destroys open sockets, so a request the handler never answers fails', async () => {
    const server = await startHttpServer(() => undefined);
    // rejectionOf() handles the rejection now: it happens during close(), before the next await.
    const pending = rejectionOf(fetch(server.url));
    await vi.waitFor(() => {
      expect(server.requests).toBe(1);
    });
    await server.close();
    await server.close();
    expect(await pending).toBeInstanceOf(TypeError);
    expect(await probePort(server.port)).toBe('refused');
  });

  test('Symbol.asyncDispose closes the server', async () => {
    const server = await startHttpServer();
    await server[Symbol.asyncDispose]();
    expect(await probePort(server.port)).toBe('refused');
  });

  test('stopListening() refuses connections; resumeListening() serves the same port again', async () => {
    const server = await startHttpServer((_request, response) => {
      response.end('up');
    });
    try {
      expect(await (await fetch(server.url)).text()).toBe('up');
      await server.stopListening();
      expect(await probePort(server.port)).toBe('refused');
      await server.resumeListening();
      await server.resumeListening();
      expect(await (await fetch(server.url)).text()).toBe('up');
    } finally {
      await server.close();
    }
    const error = await rejectionOf(server.resumeListening());
    expect(isTestkitError(error) && error.code).toBe('ERR_TESTKIT_STOPPED');
  });
});
