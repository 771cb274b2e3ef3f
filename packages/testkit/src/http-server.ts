import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TestkitError } from './errors.js';

/**
 * Handles one request. A handler that throws or rejects gets a 500 (or a destroyed socket when the
 * response had already started), never an unhandled rejection.
 *
 * @example
 * ```ts
 * const hello: HttpHandler = (_req, res) => {
 *   res.end('hello');
 * };
 * ```
 */
export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/**
 * A local HTTP server on 127.0.0.1 for a test. Every response says `Connection: close` (a handler
 * may override it), so each request uses a fresh connection and sees the server's current state.
 *
 * @example
 * ```ts
 * await using server = await startHttpServer();
 * server.setHandler((_req, res) => {
 *   res.end('hi');
 * });
 * await fetch(server.url);
 * ```
 */
export interface HttpServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** The port, stable across {@link HttpServer.stopListening} / {@link HttpServer.resumeListening}. */
  readonly port: number;
  /** How many requests have arrived so far. */
  readonly requests: number;
  /** Replaces the handler for the requests that arrive from now on. */
  setHandler(handler: HttpHandler): void;
  /** Stops accepting connections (clients get ECONNREFUSED) and destroys open ones. */
  stopListening(): Promise<void>;
  /**
   * Listens again on the same port after {@link HttpServer.stopListening}; a no-op when listening.
   * Throws after {@link HttpServer.close}.
   */
  resumeListening(): Promise<void>;
  /** Closes the server and destroys every open socket, so hanging requests end now. Safe to call twice. */
  close(): Promise<void>;
}

/** The default handler: 404, so a test that forgot `setHandler` fails loudly. */
const notFound: HttpHandler = function notFound(_request, response) {
  response.writeHead(404, { 'content-type': 'text/plain' }).end('no handler set');
};

/**
 * Starts an HTTP server on 127.0.0.1 on a free port.
 *
 * @example
 * ```ts
 * import { startHttpServer } from '@portcullis/testkit';
 *
 * await using server = await startHttpServer((_req, res) => {
 *   res.end('ok');
 * });
 * const response = await fetch(server.url);
 * server.requests; // 1
 * ```
 */
export async function startHttpServer(handler: HttpHandler = notFound): Promise<HttpServer> {
  let current = handler;
  let requests = 0;
  let listening = false;
  let closing: Promise<void> | undefined;
  const sockets = new Set<Socket>();

  const server = createServer(function onRequest(request, response) {
    requests++;
    // No keep-alive: a client's pooled connection would otherwise race stopListening() and
    // scripted failures (it gets "socket closed" instead of the refusal the test set up).
    response.setHeader('connection', 'close');
    const fail = (): void => {
      if (response.headersSent) response.destroy();
      else response.writeHead(500, { 'content-type': 'text/plain' }).end('handler failed');
    };
    try {
      Promise.resolve(current(request, response)).catch(fail);
    } catch {
      fail();
    }
  });
  server.on('connection', function track(socket) {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const listen = async (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1' }, () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  const stopListening = async function stopListening(): Promise<void> {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    // close() only stops accepting; kept-alive connections would otherwise still be served.
    for (const socket of sockets) socket.destroy();
    await closed;
    // Clients may hold idle spare connections (undici opens them). Give an in-process client a few
    // event-loop turns (each with an I/O poll) to see their FIN, or the test's next request is sent
    // on a dead socket ("other side closed") instead of being refused.
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  };

  await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const close = async function close(): Promise<void> {
    closing ??= stopListening();
    return closing;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    setHandler: function setHandler(next: HttpHandler): void {
      current = next;
    },
    stopListening,
    resumeListening: async function resumeListening(): Promise<void> {
      if (closing) throw new TestkitError('ERR_TESTKIT_STOPPED', 'HttpServer.resumeListening: the server was closed');
      if (listening) return;
      await listen(port);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
