import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running demo upstream. */
export interface DemoUpstream {
  readonly url: string;
  /** Which instance this is (`orders-v2-1`), as its answers say. */
  readonly instance: string;
  /** Makes every request fail with a 503, `/health` included (true), or answer normally again (false). */
  setFailing(failing: boolean): void;
  /**
   * A bad release, for the canary demo: `errorRate` of the requests (0 to 1) answer 500 and every
   * answer waits `latencyMs` first; `/health` stays green (a bad release usually passes its health
   * check). `{ errorRate: 0, latencyMs: 0 }` heals it.
   */
  setChaos(chaos: DemoChaos): void;
  close(): Promise<void>;
}

/** What {@link DemoUpstream.setChaos} injects. */
export interface DemoChaos {
  readonly errorRate: number;
  readonly latencyMs: number;
}

/** Options of {@link startDemoUpstream}. */
export interface DemoUpstreamOptions {
  /** The instance's name in its answers. Default: the service's name. */
  instance?: string | undefined;
  /** The version it says it runs (`v1`, `v2`). Default `'v1'`. */
  version?: string | undefined;
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

/** Largest body the demo reads back to you as JSON; a larger one is only counted and hashed. */
const ECHO_LIMIT = 4_096;

function answer(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  // Set explicitly: for HEAD, Node would otherwise send no length at all.
  res.setHeader('content-length', bytes.length);
  res.end(bytes);
}

/** What a write received, so that a demo user sees their body arrived intact. */
async function received(req: IncomingMessage): Promise<object> {
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (bytes < ECHO_LIMIT) head.push(chunk);
    bytes += chunk.length;
  }
  const text = bytes <= ECHO_LIMIT ? Buffer.concat(head).toString('utf8') : undefined;
  let json: unknown;
  try {
    json = text === undefined || text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: shown as text (the demo upstream, not the gateway, decides what it accepts).
  }
  return {
    contentType: req.headers['content-type'] ?? null,
    bytes,
    sha256: hash.digest('hex'),
    ...(json !== undefined ? { json } : text !== undefined && text !== '' ? { text } : {}),
  };
}

/**
 * A stand-in for the services behind the gateway: `GET /users`, `/products`, `/orders` (and
 * `/{name}/{id}`) answer JSON, echoing the identity headers the gateway forwarded so you can see
 * them, and the instance and version that answered; `GET /health` answers the instance's health; HEAD answers the same headers without the body; a write (`POST`, `PUT`, `PATCH`, `DELETE`)
 * answers `201` with what it received (content type, size, SHA-256, and the body itself when small).
 * `setFailing` turns it into a failing service (503 to everything) to show the gateway's breaker at
 * work.
 *
 * @example
 * ```ts
 * const upstream = await startDemoUpstream();
 * await fetch(`${upstream.url}/users/1`);
 * await upstream.close();
 * ```
 */
export async function startDemoUpstream(name = 'catalogue', options: DemoUpstreamOptions = {}): Promise<DemoUpstream> {
  const instance = options.instance ?? name;
  const version = options.version ?? 'v1';
  let failing = false;
  let chaos: DemoChaos = { errorRate: 0, latencyMs: 0 };
  const server: Server = createServer((req, res) => {
    const [, collection = '', id] = (req.url ?? '/').split('?')[0]?.split('/') ?? [];
    // The demo's remote control, for a gateway in another process (`startSeveral`): the gateway
    // never forwards here (its routes are /users, /products, /orders only).
    if (collection === '_demo' && id === 'chaos' && req.method === 'POST') {
      req.resume();
      const query = new URL(req.url ?? '/', 'http://demo').searchParams;
      if (query.has('failing')) failing = query.get('failing') === 'true';
      if (query.has('errorRate') || query.has('latencyMs')) {
        setChaosValue({
          errorRate: Number(query.get('errorRate') ?? 0),
          latencyMs: Number(query.get('latencyMs') ?? 0),
        });
      }
      answer(res, 200, { instance, failing, chaos });
      return;
    }
    if (collection === 'health' && id === undefined) {
      req.resume();
      answer(res, failing ? 503 : 200, { status: failing ? 'fail' : 'pass', instance, version });
      return;
    }
    if (failing) {
      req.resume();
      answer(res, 503, { error: 'the demo upstream is failing on purpose', instance });
      return;
    }
    const { errorRate, latencyMs } = chaos;
    if (latencyMs > 0 || errorRate > 0) {
      setTimeout(() => {
        if (Math.random() < errorRate) {
          req.resume();
          answer(res, 500, { error: 'the demo release is bad on purpose', instance, version });
        } else {
          serve(req, res, collection, id);
        }
      }, latencyMs);
      return;
    }
    serve(req, res, collection, id);
  });

  function setChaosValue(value: DemoChaos): void {
    const errorRate = Number.isFinite(value.errorRate) ? Math.min(1, Math.max(0, value.errorRate)) : 0;
    const latencyMs = Number.isFinite(value.latencyMs) ? Math.min(10_000, Math.max(0, value.latencyMs)) : 0;
    chaos = { errorRate, latencyMs };
  }

  function serve(req: IncomingMessage, res: ServerResponse, collection: string, id: string | undefined): void {
    const identity = {
      instance,
      version,
      user: req.headers['x-portcullis-user'] ?? null,
      tier: req.headers['x-portcullis-tier'] ?? null,
    };
    const items = CATALOGUE[collection];
    if (items === undefined) {
      req.resume();
      answer(res, 404, { error: `no such collection: /${collection}` });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      received(req).then(
        (body) => {
          answer(res, 201, { upstream: name, ...identity, method: req.method, collection, received: body });
        },
        () => {
          res.destroy();
        },
      );
      return;
    }
    const body = id === undefined ? items : items.find((item) => String((item as { id: unknown }).id) === id);
    // For HEAD, Node sends the same headers (content-length included) and leaves the body out.
    answer(res, body === undefined ? 404 : 200, { upstream: name, ...identity, data: body ?? null });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    instance,
    setFailing: (value) => {
      failing = value;
    },
    setChaos: setChaosValue,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
