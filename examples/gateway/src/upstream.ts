import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running demo upstream. */
export interface DemoUpstream {
  readonly url: string;
  /** Makes every request fail with a 503 (true) or answer normally again (false). */
  setFailing(failing: boolean): void;
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
 * answer JSON, echoing the identity headers the gateway forwarded so you can see them. `setFailing`
 * turns it into a failing service (503 to everything) to show the gateway's breaker at work.
 */
export async function startDemoUpstream(name = 'catalogue'): Promise<DemoUpstream> {
  let failing = false;
  const server: Server = createServer((req, res) => {
    const [, collection = '', id] = (req.url ?? '/').split('?')[0]?.split('/') ?? [];
    res.setHeader('content-type', 'application/json');
    if (failing) {
      res.statusCode = 503;
      res.end(JSON.stringify({ error: 'the demo upstream is failing on purpose' }));
      return;
    }
    const items = CATALOGUE[collection];
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
    setFailing: (value) => {
      failing = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
