import type { IncomingMessage, ServerResponse } from 'node:http';
import { TestkitError } from './errors.js';
import { startHttpServer } from './http-server.js';

/**
 * How a {@link JsonServer} answers, switched at runtime with {@link JsonServer.behave}:
 *
 * - `ok`: 200 with the current JSON body.
 * - `status`: that status with a small JSON error body.
 * - `slow`: waits `delayMs`, then answers like `ok`; closing the server cancels the wait.
 * - `hang`: never answers; the request ends only when the client gives up or the server closes.
 * - `malformed`: 200 with a body that is not valid JSON.
 * - `huge`: 200 with `bytes` bytes that are a prefix of valid JSON (`{"keys":["aaaa…`), streamed
 *   in chunks and chunked-encoded unless `contentLength` is true (then the length is declared up
 *   front, to exercise a client's early rejection).
 * - `refuse`: stops listening, so connections are refused; switching to another mode listens
 *   again on the same port.
 * - `reset`: accepts the request, then resets the connection without answering.
 *
 * @example
 * ```ts
 * const modes: JsonServerBehaviour[] = [{ kind: 'status', status: 503 }, { kind: 'slow', delayMs: 200 }];
 * ```
 */
export type JsonServerBehaviour =
  | { readonly kind: 'ok' }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'hang' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'huge'; readonly bytes: number; readonly contentLength?: boolean }
  | { readonly kind: 'refuse' }
  | { readonly kind: 'reset' };

/**
 * Options for {@link serveJson}.
 *
 * @example
 * ```ts
 * const options: ServeJsonOptions = { path: '/config.json', headers: { 'cache-control': 'no-store' } };
 * ```
 */
export interface ServeJsonOptions {
  /** The path the body is served at; other paths get 404 and are not counted. Default is `/`. */
  path?: string;
  /** Headers added to every answer that has a status (e.g. `cache-control`). Default is none. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * A local server that serves one JSON document and can be told to misbehave.
 *
 * @example
 * ```ts
 * await using server = await serveJson({ ok: true });
 * await server.behave({ kind: 'refuse' });
 * await server.behave({ kind: 'ok' }); // listening again, same URL
 * ```
 */
export interface JsonServer extends AsyncDisposable {
  /** The full URL of the document, e.g. `http://127.0.0.1:40123/`. */
  readonly url: string;
  /** The port (stable across `refuse`). */
  readonly port: number;
  /** Requests that reached the document's path, whatever the behaviour (refused ones never arrive). */
  readonly fetchCount: number;
  /** Replaces the document served from now on. */
  setBody(body: unknown): void;
  /** Replaces the extra headers sent from now on. */
  setHeaders(headers: Readonly<Record<string, string>>): void;
  /** Switches behaviour; resolves once it is in effect (for `refuse`, once the port is closed). */
  behave(behaviour: JsonServerBehaviour): Promise<void>;
  /** Closes the server, cancels pending `slow` waits and destroys open sockets. Safe to call twice. */
  close(): Promise<void>;
}

const HUGE_CHUNK_BYTES = 64 * 1024;
const HUGE_PREFIX = '{"keys":["';

/**
 * Starts a local server that serves `body` as JSON at `path`, with scriptable failure modes
 * ({@link JsonServerBehaviour}) for testing clients' timeouts, retries and size limits.
 *
 * @example
 * ```ts
 * import { serveJson } from '@portcullis/testkit';
 *
 * await using server = await serveJson({ hello: 'world' }, { path: '/config.json' });
 * await server.behave({ kind: 'status', status: 503 });
 * (await fetch(server.url)).status; // 503
 * ```
 */
export async function serveJson(body: unknown, options: ServeJsonOptions = {}): Promise<JsonServer> {
  const path = options.path ?? '/';
  let document = JSON.stringify(body);
  let headers: Readonly<Record<string, string>> = options.headers ?? {};
  let behaviour: JsonServerBehaviour = { kind: 'ok' };
  let fetchCount = 0;
  const pendingWaits = new Set<{ timer: NodeJS.Timeout; response: ServerResponse }>();

  const answer = (response: ServerResponse, status: number, text: string): void => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
  };

  const respond = function respond(request: IncomingMessage, response: ServerResponse): void {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== path) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    fetchCount++;
    switch (behaviour.kind) {
      case 'ok':
      case 'refuse':
        // A request can only arrive in `refuse` mode on a connection that was already open.
        answer(response, 200, document);
        return;
      case 'status':
        answer(response, behaviour.status, JSON.stringify({ error: `scripted status ${behaviour.status}` }));
        return;
      case 'slow': {
        const wait = {
          timer: setTimeout(() => {
            pendingWaits.delete(wait);
            if (!response.destroyed) answer(response, 200, document);
          }, behaviour.delayMs),
          response,
        };
        pendingWaits.add(wait);
        return;
      }
      case 'hang':
        return;
      case 'malformed':
        answer(response, 200, '{"keys": [ this is not json');
        return;
      case 'huge':
        streamHuge(response, behaviour.bytes, behaviour.contentLength ?? false, headers);
        return;
      case 'reset':
        // A TCP RST, not a clean FIN: the client sees ECONNRESET / "other side closed".
        request.socket.resetAndDestroy();
        return;
    }
  };

  const http = await startHttpServer(respond);
  const url = new URL(path, http.url).toString();

  const close = async function close(): Promise<void> {
    for (const wait of pendingWaits) clearTimeout(wait.timer);
    pendingWaits.clear();
    await http.close();
  };

  return {
    url,
    port: http.port,
    get fetchCount() {
      return fetchCount;
    },
    setBody: function setBody(next: unknown): void {
      document = JSON.stringify(next);
    },
    setHeaders: function setHeaders(next: Readonly<Record<string, string>>): void {
      headers = next;
    },
    behave: async function behave(next: JsonServerBehaviour): Promise<void> {
      behaviour = validBehaviour(next);
      if (next.kind === 'refuse') await http.stopListening();
      else await http.resumeListening();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Rejects nonsense up front, where the test can see it, instead of as a 500 inside the server. */
function validBehaviour(behaviour: JsonServerBehaviour): JsonServerBehaviour {
  const invalid = (option: string, value: unknown, expected: string): never => {
    throw new TestkitError(
      'ERR_TESTKIT_INVALID_OPTION',
      `behave({ kind: '${behaviour.kind}' }): "${option}" must be ${expected}, got ${String(value)}`,
    );
  };
  switch (behaviour.kind) {
    case 'status':
      if (!Number.isInteger(behaviour.status) || behaviour.status < 100 || behaviour.status > 599) {
        invalid('status', behaviour.status, 'an integer HTTP status in [100, 599]');
      }
      break;
    case 'slow':
      if (!Number.isFinite(behaviour.delayMs) || behaviour.delayMs < 0) {
        invalid('delayMs', behaviour.delayMs, 'a finite number >= 0');
      }
      break;
    case 'huge':
      if (!Number.isSafeInteger(behaviour.bytes) || behaviour.bytes < 0) {
        invalid('bytes', behaviour.bytes, 'an integer >= 0');
      }
      break;
    default:
      break;
  }
  return behaviour;
}

/** Writes `bytes` bytes of unfinished JSON in chunks, honouring backpressure, until the client leaves. */
function streamHuge(
  response: ServerResponse,
  bytes: number,
  declareLength: boolean,
  headers: Readonly<Record<string, string>>,
): void {
  response.writeHead(200, {
    'content-type': 'application/json',
    ...headers,
    ...(declareLength ? { 'content-length': String(bytes) } : {}),
  });
  let remaining = bytes;
  let first = true;
  const pump = (): void => {
    while (remaining > 0 && !response.destroyed) {
      const size = Math.min(remaining, HUGE_CHUNK_BYTES);
      const chunk = first
        ? (HUGE_PREFIX + 'a'.repeat(Math.max(0, size - HUGE_PREFIX.length))).slice(0, size)
        : 'a'.repeat(size);
      first = false;
      remaining -= size;
      if (!response.write(chunk)) {
        response.once('drain', pump);
        return;
      }
    }
    if (!response.destroyed) response.end();
  };
  pump();
}
