import { createServer } from 'node:net';
import { TestkitError } from './errors.js';

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: the OS picks one for a listener on port 0,
 * which is then closed. Another process can still take it before the caller binds, so callers that
 * spawn servers retry on "address in use".
 *
 * @example
 * ```ts
 * import { freePort } from '@portcullis/testkit';
 *
 * const port = await freePort();
 * ```
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, function onListening() {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(function onClosed(error) {
        if (error) reject(error);
        else resolve(port);
      });
    });
  });
}

/**
 * True when `port` can be bound on `host` right now (`EADDRINUSE` / `EACCES` mean it cannot).
 *
 * @example
 * ```ts
 * import { isPortFree } from '@portcullis/testkit';
 *
 * await isPortFree(6379); // false while a local Redis runs
 * ```
 */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', function onError(error: NodeJS.ErrnoException) {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    });
    server.listen({ port, host, exclusive: true }, function onListening() {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** Redis Cluster nodes talk to each other on their client port + 10000 (the cluster bus). */
const CLUSTER_BUS_OFFSET = 10_000;

/**
 * A free port whose cluster bus port (port + 10000) is free too and not in `exclude`, for Redis
 * Cluster nodes. Ephemeral ports above 55535 have no room for a bus port, so this draws again.
 *
 * @example
 * ```ts
 * import { freeClusterPort } from '@portcullis/testkit';
 *
 * const port = await freeClusterPort(new Set());
 * ```
 */
export async function freeClusterPort(exclude: ReadonlySet<number>, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freePort(host);
    const bus = port + CLUSTER_BUS_OFFSET;
    if (bus > 65_535 || exclude.has(port) || exclude.has(bus)) continue;
    if (await isPortFree(bus, host)) return port;
  }
  throw new TestkitError(
    'ERR_TESTKIT_START_FAILED',
    'freeClusterPort: no port pair (port, port + 10000) was free after 100 attempts',
  );
}
