import { serveExpress, serveFastify, serveHono, type RunningServer } from '@portcullis/testkit/frameworks';
import { describe, expect, onTestFinished, test, vi } from 'vitest';
import { createLoaderFactory, isTooManyKeysError, type BatchInfo, type LoaderFactory } from '../src/index.js';
import { dataLoaders as expressLoaders } from '../src/express.js';
import { dataLoaders as fastifyLoaders } from '../src/fastify.js';
import { dataLoaders as honoLoaders } from '../src/hono.js';

// One spec for the three adapters, over real sockets: each request gets its own loaders (batching
// and memo per request, the shared cache across requests), the budget refuses before the backend,
// and a request's work is given up when its client leaves or its response ends.

interface User {
  readonly id: string;
  readonly name: string;
}

/** The users backend: records every call, and hangs on ids starting with "hang" until its signal aborts. */
class UsersBackend {
  readonly calls: string[][] = [];
  readonly signals: AbortSignal[] = [];
  readonly aborted: AbortSignal[] = [];

  readonly batchFn = (ids: readonly string[], { signal }: BatchInfo): Promise<User[]> => {
    this.calls.push([...ids]);
    this.signals.push(signal);
    if (ids.some((id) => id.startsWith('hang'))) {
      return new Promise<User[]>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          this.aborted.push(signal);
          reject(signal.reason as Error);
        });
      });
    }
    return Promise.resolve(ids.map((id) => ({ id, name: `user ${id}` })));
  };
}

function factoryFor(backend: UsersBackend) {
  return createLoaderFactory(
    {
      users: { batchFn: backend.batchFn, maxBatchSize: 50 },
      cachedUsers: { batchFn: backend.batchFn, sharedCache: { ttlMs: 60_000 } },
    },
    { maxKeysPerRequest: 100 },
  );
}
type Factory = ReturnType<typeof factoryFor>;

/** What every route does, whatever the framework: load the ids of the query string, in one go. */
async function answer(
  loaders: ReturnType<Factory['of']>,
  which: string,
  ids: string[],
): Promise<{ status: number; body: unknown }> {
  const loader = which === 'cached' ? loaders.cachedUsers : loaders.users;
  const results = await loader.loadMany(ids);
  const refused = results.find(isTooManyKeysError);
  if (refused !== undefined) return { status: 422, body: { error: refused.code } };
  // Loaded twice in the same request: answered from the request's memo.
  await loader.load(ids[0] as string);
  return { status: 200, body: results.map((r) => (r instanceof Error ? { error: r.message } : r.name)) };
}

/** A route that starts a load and answers at once, leaving the load behind. */
function leaveBehind(loaders: ReturnType<Factory['of']>, left: Promise<unknown>[]): void {
  left.push(loaders.users.load('hang-after').catch((error: unknown) => error));
}

const ids = (query: string | undefined): string[] => (query ?? '').split(',').filter((id) => id !== '');

const FRAMEWORKS: readonly {
  name: string;
  serve: (
    factory: LoaderFactory<Factory extends LoaderFactory<infer S> ? S : never>,
    left: Promise<unknown>[],
  ) => Promise<RunningServer>;
}[] = [
  {
    name: 'express',
    serve: (factory, left) =>
      serveExpress((app) => {
        app.use(expressLoaders(factory));
        app.get('/users/:which', async (req, res) => {
          const { status, body } = await answer(
            factory.of(req.portcullis),
            req.params.which,
            ids(req.query['ids'] as string),
          );
          res.status(status).json(body);
        });
        app.get('/leave', (req, res) => {
          leaveBehind(factory.of(req.portcullis), left);
          res.send('ok');
        });
      }),
  },
  {
    name: 'fastify',
    serve: (factory, left) =>
      serveFastify(async (app) => {
        await app.register(fastifyLoaders(factory));
        app.get('/users/:which', async (request, reply) => {
          const { which } = request.params as { which: string };
          const { status, body } = await answer(
            factory.of(request.portcullis),
            which,
            ids((request.query as { ids?: string }).ids),
          );
          return reply.code(status).send(body);
        });
        app.get('/leave', (request) => {
          leaveBehind(factory.of(request.portcullis), left);
          return 'ok';
        });
      }),
  },
  {
    name: 'hono',
    serve: (factory, left) =>
      serveHono((app) => {
        app.use(honoLoaders(factory));
        app.get('/users/:which', async (c) => {
          const { status, body } = await answer(
            factory.of(c.get('portcullis')),
            c.req.param('which'),
            ids(c.req.query('ids')),
          );
          return c.json(body, status as 200);
        });
        app.get('/leave', (c) => {
          leaveBehind(factory.of(c.get('portcullis')), left);
          return c.text('ok');
        });
      }),
  },
];

describe.each(FRAMEWORKS)('per-request loaders on $name', ({ serve }) => {
  async function start(): Promise<{ backend: UsersBackend; url: string; left: Promise<unknown>[] }> {
    const backend = new UsersBackend();
    const left: Promise<unknown>[] = [];
    const server = await serve(factoryFor(backend), left);
    onTestFinished(() => server.close());
    return { backend, url: server.url, left };
  }

  test('one batch per request, memo per request, shared cache across requests', async () => {
    const { backend, url } = await start();
    const first = await fetch(`${url}/users/plain?ids=1,2,3,2`);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual(['user 1', 'user 2', 'user 3', 'user 2']);
    expect(backend.calls).toEqual([['1', '2', '3']]);
    // A new request, a new memo: asked again.
    await fetch(`${url}/users/plain?ids=1`);
    expect(backend.calls).toEqual([['1', '2', '3'], ['1']]);
    // The shared cache: the second request does not reach the backend.
    await fetch(`${url}/users/cached?ids=7,8`);
    await fetch(`${url}/users/cached?ids=8,7`);
    expect(backend.calls.slice(2)).toEqual([['7', '8']]);
  });

  test('a request asking for more keys than its budget is refused, and the backend sees none of them', async () => {
    const { backend, url } = await start();
    const many = Array.from({ length: 500 }, (_, i) => String(i)).join(',');
    const res = await fetch(`${url}/users/plain?ids=${many}`);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: 'ERR_PORTCULLIS_DATALOADER_TOO_MANY_KEYS' });
    expect(backend.calls).toEqual([]);
    // The budget is the request's: the next request has its own.
    expect((await fetch(`${url}/users/plain?ids=1`)).status).toBe(200);
  });

  test("a client that leaves has its request's running batch aborted", async () => {
    const { backend, url } = await start();
    const controller = new AbortController();
    const pending = fetch(`${url}/users/plain?ids=hang-1`, { signal: controller.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => {
      expect(backend.signals).toHaveLength(1);
    });
    controller.abort();
    await pending;
    await vi.waitFor(() => {
      expect(backend.aborted).toHaveLength(1);
    });
    expect(backend.signals[0]?.aborted).toBe(true);
  });

  test('a load left behind when the response ends is given up, sent or not', async () => {
    const { backend, url, left } = await start();
    expect(await (await fetch(`${url}/leave`)).text()).toBe('ok');
    expect(left).toHaveLength(1);
    expect(await left[0]).toMatchObject({ code: 'ERR_PORTCULLIS_DATALOADER_ABORTED' });
    // Given up before its batch left, or its batch's signal aborted: nothing keeps running.
    expect(backend.signals.every((signal) => signal.aborted)).toBe(true);
  });
});
