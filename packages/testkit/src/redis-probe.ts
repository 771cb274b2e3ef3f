import { Redis } from 'ioredis';

/**
 * Runs `use` with a short-lived, fail-fast ioredis connection to `url` and disconnects afterwards.
 * Fail-fast (no reconnects, no offline queue, no ready check) because the callers poll servers that
 * may not be up yet, and a probe that quietly retried would hide that.
 *
 * @example
 * ```ts
 * const pong = await withProbe('redis://127.0.0.1:6379', (client) => client.ping());
 * ```
 */
export async function withProbe<T>(url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    commandTimeout: 5_000,
    retryStrategy: () => null,
  });
  // Connection failures are expected while polling; they surface as the rejected connect() below.
  client.on('error', ignore);
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/**
 * The `field:value` lines of an INFO or CLUSTER INFO reply, as a map.
 *
 * @example
 * ```ts
 * parseInfo('cluster_state:ok\r\ncluster_slots_assigned:16384').get('cluster_state'); // 'ok'
 * ```
 */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * Resolves after `ms` milliseconds; used between readiness polls.
 *
 * @example
 * ```ts
 * await sleep(25);
 * ```
 */
export async function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function ignore(): void {
  // Deliberately empty: see the comment where it is attached.
}
