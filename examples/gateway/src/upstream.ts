import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running demo upstream. */
export interface DemoUpstream {
  readonly url: string;
  close(): Promise<void>;
}

const CATALOGUE: Readonly<Record<string, readonly object[]>> = {
  users: [
    { id: 1, name: 'Ada' },
    { id: 2, name: 'Grace' },
  ],
  products: [
    { id: 'p1', name: 'Portcullis T-shirt', price: 20 },
    { id: 'p2', name: 'Moat (small)', price: 1_000 },
  ],
  orders: [{ id: 'o1', userId: 1, items: ['p1'] }],
};

/**
 * A stand-in for the services behind the gateway: `/users`, `/products`, `/orders` (and `/{name}/{id}`)
 * answer JSON, echoing the identity headers the gateway forwarded so you can see them.
 */
export async function startDemoUpstream(name = 'catalogue'): Promise<DemoUpstream> {
  const server: Server = createServer((req, res) => {
    const [, collection = '', id] = (req.url ?? '/').split('?')[0]?.split('/') ?? [];
    const items = CATALOGUE[collection];
    res.setHeader('content-type', 'application/json');
    if (items === undefined) {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: `no such collection: /${collection}` }));
      return;
    }
    const body = id === undefined ? items : items.find((item) => String((item as { id: unknown }).id) === id);
    res.statusCode = body === undefined ? 404 : 200;
    res.end(
      JSON.stringify({
        upstream: name,
        user: req.headers['x-portcullis-user'] ?? null,
        tier: req.headers['x-portcullis-tier'] ?? null,
        data: body ?? null,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
