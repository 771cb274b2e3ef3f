import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { demoData, productOf } from './data.js';

/** The three demo services. */
export type ServiceName = 'users' | 'orders' | 'products';

/** Calls each service received, and the ids they asked for. */
export interface ServiceLog {
  calls: number;
  ids: number;
}

/** The running demo services: their URLs, what reached them, and a switch to make one hang. */
export interface DemoServices {
  readonly urls: Readonly<Record<ServiceName, string>>;
  readonly log: Readonly<Record<ServiceName, ServiceLog>>;
  /** While true, the service accepts requests and never answers them (until the caller gives up). */
  hang(service: ServiceName, hanging: boolean): void;
  /** Zeroes the logs. */
  resetLog(): void;
  close(): Promise<void>;
}

/** The most ids one call may ask for: a backend's own limit, which the BFF's batches stay under. */
export const MAX_IDS_PER_CALL = 100;

type Lookup = (id: string) => unknown;

/**
 * Starts the users, orders (orders and their items) and products services on 127.0.0.1, each a
 * plain HTTP server answering `GET /<resource>?ids=a,b,c` with the JSON list of what it found
 * (unknown ids left out).
 */
export async function startServices(ports: Partial<Record<ServiceName, number>> = {}): Promise<DemoServices> {
  const data = demoData();
  const log: Record<ServiceName, ServiceLog> = {
    users: { calls: 0, ids: 0 },
    orders: { calls: 0, ids: 0 },
    products: { calls: 0, ids: 0 },
  };
  const hanging = new Set<ServiceName>();
  const routes: Record<ServiceName, Record<string, Lookup>> = {
    users: { '/users': (id) => data.users.get(id) },
    orders: { '/orders': (id) => data.orders.get(id), '/items': (id) => data.items.get(id) },
    products: { '/products': productOf },
  };
  const servers = new Map<ServiceName, Server>();
  for (const name of ['users', 'orders', 'products'] as const) {
    const server = createServer((req, res) => {
      serve(name, routes[name], req, res);
    });
    await new Promise<void>((resolve) => server.listen(ports[name] ?? 0, '127.0.0.1', resolve));
    servers.set(name, server);
  }

  function serve(name: ServiceName, table: Record<string, Lookup>, req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://service');
    const lookup = table[url.pathname];
    if (req.method !== 'GET' || lookup === undefined) {
      res.writeHead(404).end();
      return;
    }
    const ids = (url.searchParams.get('ids') ?? '').split(',').filter((id) => id !== '');
    log[name].calls++;
    log[name].ids += ids.length;
    if (ids.length > MAX_IDS_PER_CALL) {
      res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'too many ids' }));
      return;
    }
    if (hanging.has(name)) return; // answered never; the caller's abort closes the socket
    const found = ids.map(lookup).filter((value) => value !== undefined);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(found));
  }

  const urls = Object.fromEntries(
    [...servers].map(([name, server]) => [name, `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`]),
  ) as Record<ServiceName, string>;
  return {
    urls,
    log,
    hang: (service, on) => {
      if (on) hanging.add(service);
      else hanging.delete(service);
    },
    resetLog: () => {
      for (const entry of Object.values(log)) {
        entry.calls = 0;
        entry.ids = 0;
      }
    },
    close: async () => {
      await Promise.all(
        [...servers.values()].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => {
                resolve();
              });
            }),
        ),
      );
    },
  };
}
