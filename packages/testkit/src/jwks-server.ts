import { serveJson } from './json-server.js';
import type { JsonServerBehaviour } from './json-server.js';

/**
 * A JSON Web Key Set document. Loosely typed on purpose: tests also serve sets with broken keys.
 *
 * @example
 * ```ts
 * const jwks: JwksDocument = { keys: [pair.publicJwk] };
 * ```
 */
export interface JwksDocument {
  readonly keys: readonly unknown[];
}

/**
 * Options for {@link startJwksServer}.
 *
 * @example
 * ```ts
 * const options: StartJwksServerOptions = { headers: { 'cache-control': 'max-age=60' } };
 * ```
 */
export interface StartJwksServerOptions {
  /** Path of the key set. Default is `/.well-known/jwks.json`. */
  path?: string;
  /** Headers added to every answer that has a status (e.g. `cache-control: max-age=60`). Default is none. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * A local JWKS endpoint with scriptable failure modes.
 *
 * @example
 * ```ts
 * await using jwks = await startJwksServer({ keys: [key.publicJwk] });
 * jwks.setJwks({ keys: [rotated.publicJwk] });
 * jwks.fetchCount; // requests so far
 * ```
 */
export interface JwksServer extends AsyncDisposable {
  /** The key set's URL, e.g. `http://127.0.0.1:40123/.well-known/jwks.json`. */
  readonly url: string;
  /** The port (stable across `refuse`). */
  readonly port: number;
  /** Requests that reached the key set's path, whatever the behaviour. */
  readonly fetchCount: number;
  /** Replaces the key set served from now on (key rotation). */
  setJwks(jwks: JwksDocument): void;
  /** Replaces the extra headers sent from now on. */
  setHeaders(headers: Readonly<Record<string, string>>): void;
  /** Switches behaviour; see {@link JsonServerBehaviour}. Resolves once it is in effect. */
  behave(behaviour: JsonServerBehaviour): Promise<void>;
  /** Closes the server, cancels pending `slow` answers and destroys open sockets. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a local JWKS endpoint serving `initialJwks`, for testing a remote key set client:
 * rotation with {@link JwksServer.setJwks}, outages and abuse with {@link JwksServer.behave}.
 *
 * @example
 * ```ts
 * import { generateKeyPair, startJwksServer } from '@portcullis/testkit';
 *
 * const key = generateKeyPair('ES256', 'k1');
 * await using jwks = await startJwksServer({ keys: [key.publicJwk] });
 * await jwks.behave({ kind: 'hang' });
 * ```
 */
export async function startJwksServer(
  initialJwks: JwksDocument,
  options: StartJwksServerOptions = {},
): Promise<JwksServer> {
  const server = await serveJson(initialJwks, {
    path: options.path ?? '/.well-known/jwks.json',
    headers: options.headers ?? {},
  });
  return {
    url: server.url,
    port: server.port,
    get fetchCount() {
      return server.fetchCount;
    },
    setJwks: function setJwks(jwks: JwksDocument): void {
      server.setBody(jwks);
    },
    setHeaders: function setHeaders(headers: Readonly<Record<string, string>>): void {
      server.setHeaders(headers);
    },
    behave: async function behave(behaviour: JsonServerBehaviour): Promise<void> {
      await server.behave(behaviour);
    },
    close: async function close(): Promise<void> {
      await server.close();
    },
    [Symbol.asyncDispose]: async function asyncDispose(): Promise<void> {
      await server.close();
    },
  };
}
