import {
  ROUTE_REJECT_MESSAGE,
  ROUTE_THROW_MESSAGE,
  serveFastify,
  fastifyTestRoutes,
} from '@portcullis/testkit/frameworks';
import { describe, expect, onTestFinished, test, vi } from 'vitest';
import { compose } from '../src/compose.js';
import { portcullis as fastifyPortcullis } from '../src/fastify/index.js';
import type { Guard } from '../src/guard.js';
import { lowerCaseHeader, READ_LOWER_CASE, type GatewayRequest, type GuardContext } from '../src/request.js';
import { respond, type ContinueVerdict } from '../src/verdict.js';
import { HARNESSES, type Harness, type ServeOptions, type Served } from './harness.js';
import { openRequest, rawGet } from './http-client.js';
import { MODES, recordOutcomes, spyGuard, type Mode } from './guards.js';
import { serveViews, type HeaderViews } from '@portcullis/testkit/frameworks';
import { getWithLines, guardMounts } from './views.js';
import { quietPeriod, waitFor } from './wait.js';

/** A header name as CGI-style upstreams read it (case and `_` versus `-` ignored). */
const spelledAs = (name: string): string => name.toLowerCase().replaceAll('_', '-');

/** A guard that always continues with these fields (typed by the context it adds, if any). */
function continueWith<Ctx extends GuardContext = never>(fields: Omit<ContinueVerdict<Ctx>, 'action'>): Guard<Ctx> {
  return () => ({ action: 'continue', ...fields });
}

describe.each(HARNESSES)('$name adapter', (fw: Harness) => {
  async function start(guards: readonly Guard[], options?: ServeOptions): Promise<Served> {
    const served = await fw.serve(guards, options);
    onTestFinished(() => served.close());
    return served;
  }

  describe.each(MODES)('respond ($name guard)', (mode) => {
    test('answers with the status, headers and JSON body; the handler does not run', async () => {
      const served = await start([mode.wrap(() => respond(429, { error: 'slow down' }, { 'retry-after': '7' }))]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({ error: 'slow down' });
      expect(served.handled).toEqual([]);
    });

    test('sends a string body as text/plain; charset=utf-8', async () => {
      const served = await start([mode.wrap(() => respond(403, 'forbidden'))]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toBe('forbidden');
      expect(served.handled).toEqual([]);
    });

    test("keeps the verdict's own content type (application/problem+json)", async () => {
      const problem = { type: 'about:blank', title: 'Too Many Requests', status: 429 };
      const served = await start([
        mode.wrap(() => respond(429, problem, { 'content-type': 'application/problem+json' })),
      ]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(429);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toEqual(problem);
    });

    test('sends a Uint8Array body as bytes', async () => {
      const served = await start([mode.wrap(() => respond(200, new Uint8Array([0, 1, 2, 255])))]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0, 1, 2, 255]);
      expect(served.handled).toEqual([]);
    });

    test('sends no body when the verdict has none', async () => {
      const served = await start([mode.wrap(() => respond(401, undefined, { 'www-authenticate': 'Bearer' }))]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.text()).toBe('');
      expect(served.handled).toEqual([]);
    });
  });

  describe.each(MODES)('continue ($name guard)', (mode) => {
    test('runs the handler', async () => {
      const served = await start([mode.wrap(() => ({ action: 'continue' }))]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok');
      expect(served.handled).toEqual(['/ok']);
    });

    test('adds the response headers of every guard in a composition', async () => {
      const served = await start([
        mode.wrap(
          compose(
            continueWith({ responseHeaders: new Headers({ 'x-first': '1' }) }),
            continueWith({ responseHeaders: new Headers({ 'x-second': '2' }) }),
          ),
        ),
      ]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-first')).toBe('1');
      expect(res.headers.get('x-second')).toBe('2');
    });

    test('appends the response headers of separate middlewares, in order', async () => {
      const served = await start([
        mode.wrap(continueWith({ responseHeaders: new Headers({ 'x-first': '1', 'x-seen-by': 'first' }) })),
        mode.wrap(continueWith({ responseHeaders: new Headers({ 'x-second': '2', 'x-seen-by': 'second' }) })),
      ]);
      const res = await fetch(`${served.url}/ok`);
      expect(await res.text()).toBe('ok');
      expect(res.headers.get('x-first')).toBe('1');
      expect(res.headers.get('x-second')).toBe('2');
      expect(res.headers.get('x-seen-by')).toBe('first, second');
    });

    test("keeps an earlier middleware's response headers when a later one responds", async () => {
      const served = await start([
        mode.wrap(continueWith({ responseHeaders: new Headers({ 'x-first': '1' }) })),
        mode.wrap(() => respond(429, { error: 'slow down' })),
      ]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(429);
      expect(res.headers.get('x-first')).toBe('1');
    });

    test('sets upstream headers on the request the handler sees, replacing a spoofed client copy', async () => {
      const served = await start([mode.wrap(continueWith({ upstreamHeaders: new Headers({ 'X-User': 'ada' }) }))]);
      const res = await fetch(`${served.url}/headers`, { headers: { 'x-user': 'mallory', 'x-other': 'kept' } });
      const seen = (await res.json()) as Record<string, string>;
      expect(seen['x-user']).toBe('ada');
      expect(seen['x-other']).toBe('kept');
    });

    test('strips the listed client headers (any case), and strips before it sets', async () => {
      const served = await start([
        mode.wrap(
          continueWith({
            stripUpstreamHeaders: ['X-Internal-Token', 'x-user'],
            upstreamHeaders: new Headers({ 'x-user': 'ada' }),
          }),
        ),
      ]);
      const res = await fetch(`${served.url}/headers`, {
        headers: { 'x-internal-token': 'secret', 'x-user': 'mallory', 'x-other': 'kept' },
      });
      const seen = (await res.json()) as Record<string, string>;
      expect(seen).not.toHaveProperty('x-internal-token');
      expect(seen['x-user']).toBe('ada');
      expect(seen['x-other']).toBe('kept');
    });

    test("shows a later middleware's guard the upstream headers an earlier one set", async () => {
      const later = spyGuard();
      const served = await start([
        mode.wrap(continueWith({ upstreamHeaders: new Headers({ 'x-user': 'ada' }) })),
        mode.wrap(later.guard),
      ]);
      await fetch(`${served.url}/ok`, { headers: { 'x-user': 'mallory' } });
      expect(later.seen[0]?.header('X-User')).toBe('ada');
    });

    test('makes the context visible to the handler', async () => {
      const served = await start([mode.wrap(continueWith({ context: { user: 'ada' } }))]);
      const res = await fetch(`${served.url}/context`);
      expect(await res.json()).toEqual({ context: { user: 'ada' } });
    });

    test('accumulates context across middlewares; each guard sees what came before', async () => {
      const second = spyGuard(() => ({ action: 'continue', context: { tenant: 'acme', role: 'admin' } }));
      const served = await start([
        mode.wrap(continueWith({ context: { user: 'ada', role: 'viewer' } })),
        mode.wrap(second.guard),
      ]);
      const res = await fetch(`${served.url}/context`);
      expect(await res.json()).toEqual({ context: { user: 'ada', tenant: 'acme', role: 'admin' } });
      expect(second.seen[0]?.context).toEqual({ user: 'ada', role: 'viewer' });
    });
  });

  describe('protected request headers, in every spelling and every view', () => {
    const SENT: [string, string][] = [
      ['X-User', 'mallory'],
      ['X_User', 'mallory-2'],
      ['x_USER', 'mallory-3'],
      ['X-Internal-Token', 'secret'],
      ['x_internal_token', 'secret-2'],
      ['X_INTERNAL-token', 'secret-3'],
      ['X-Other', 'kept'],
      ['X_Other_Thing', 'kept-2'],
    ];

    const [sync, async] = MODES as [Mode, Mode];
    test.each([
      { preRead: false, mode: sync },
      { preRead: true, mode: sync },
      { preRead: false, mode: async },
    ])(
      'a stripped or set header survives in no spelling and no view (views built before the guard: $preRead, $mode.name guard)',
      async ({ preRead, mode }) => {
        const guard = mode.wrap(
          continueWith({
            stripUpstreamHeaders: ['X-Internal-Token'],
            upstreamHeaders: new Headers({ 'x-user': 'ada' }),
          }),
        );
        const served = await serveViews(fw.name, guardMounts([guard]), preRead);
        onTestFinished(() => served.close());
        const res = await getWithLines(`${served.url}/views`, SENT);
        expect(res.status).toBe(200);
        const views = res.body as HeaderViews;
        expect(Object.keys(views).length).toBeGreaterThanOrEqual(4);
        for (const [view, pairs] of Object.entries(views)) {
          const named = (key: string): [string, string][] =>
            pairs.filter(([name]) => spelledAs(name) === key).map(([name, value]) => [name.toLowerCase(), value]);
          // The value set is in the effective views; the raw ones keep what the client sent, less it.
          const raw = view.endsWith('rawHeaders') || view.endsWith('headersDistinct');
          expect(named('x-user'), view).toEqual(raw ? [] : [['x-user', 'ada']]);
          expect(named('x-internal-token'), view).toEqual([]);
          expect(named('x-other'), view).toEqual([['x-other', 'kept']]);
          expect(named('x-other-thing'), view).toEqual([['x_other_thing', 'kept-2']]);
        }
      },
    );

    test('with no protected name sent, the raw views are left as the client sent them', async () => {
      const guard = continueWith({
        stripUpstreamHeaders: ['x-internal-token'],
        upstreamHeaders: new Headers({ 'x-user': 'ada' }),
      });
      const served = await serveViews(fw.name, guardMounts([guard]));
      onTestFinished(() => served.close());
      const res = await getWithLines(`${served.url}/views`, [
        ['X-Other', 'kept'],
        ['x-other', 'again'],
      ]);
      for (const [view, pairs] of Object.entries(res.body as HeaderViews)) {
        const others = pairs.filter(([name]) => name.toLowerCase() === 'x-other').map(([, value]) => value);
        expect(others.join(', '), view).toBe('kept, again');
        const raw = view.endsWith('rawHeaders') || view.endsWith('headersDistinct');
        expect(pairs.filter(([name]) => name.toLowerCase() === 'x-user').length, view).toBe(raw ? 0 : 1);
      }
    });

    test('a name with underscores in the strip list reaches the hyphenated spelling too', async () => {
      const served = await serveViews(
        fw.name,
        guardMounts([continueWith({ stripUpstreamHeaders: ['x_legacy_user'] })]),
      );
      onTestFinished(() => served.close());
      const res = await getWithLines(`${served.url}/views`, [
        ['X-Legacy-User', 'admin'],
        ['x_legacy_user', 'admin'],
        ['x-legacy-users', 'kept'],
      ]);
      for (const [view, pairs] of Object.entries(res.body as HeaderViews)) {
        const legacy = pairs.filter(([name]) => spelledAs(name).startsWith('x-legacy'));
        expect(
          legacy.map(([name, value]) => [spelledAs(name), value]),
          view,
        ).toEqual([['x-legacy-users', 'kept']]);
      }
    });
  });

  describe('the request a guard sees', () => {
    test('every copy of a header Node keeps only the first of (Authorization, User-Agent), joined', async () => {
      const spy = spyGuard();
      const served = await start([spy.guard]);
      const res = await getWithLines(`${served.url}/ok`, [
        ['Authorization', 'Bearer a.b.c'],
        ['authorization', 'Bearer d.e.f'],
        ['User-Agent', 'one'],
        ['user-agent', 'two'],
        ['Proxy-Authorization', 'Basic x'],
      ]);
      expect(res.status).toBe(200);
      const req = spy.seen[0] as GatewayRequest;
      expect(req.header('authorization')).toBe('Bearer a.b.c, Bearer d.e.f');
      expect(req.header('user-agent')).toBe('one, two');
      expect(req.header('proxy-authorization')).toBe('Basic x');
    });

    test('lowerCaseHeader reads what header() reads, through the fast path, alone and composed', async () => {
      const names = ['authorization', 'user-agent', 'x-forwarded-user', 'x-single', 'host', 'x-missing'];
      const reads: { fast: boolean; viaHeader: (string | undefined)[]; viaLowerCase: (string | undefined)[] }[] = [];
      const reader: Guard = (req) => {
        reads.push({
          fast: READ_LOWER_CASE in req,
          viaHeader: names.map((n) => req.header(n.toUpperCase())),
          viaLowerCase: names.map((n) => lowerCaseHeader(req, n)),
        });
        return { action: 'continue' };
      };
      const served = await start([reader, compose(continueWith({ context: { user: 'ada' } }), reader)]);
      const res = await getWithLines(`${served.url}/ok`, [
        ['Authorization', 'Bearer a.b.c'],
        ['authorization', 'Bearer d.e.f'],
        ['User-Agent', 'one'],
        ['X-Forwarded-User', 'u1'],
        ['x-forwarded-user', 'u2'],
        ['X-Single', 'alone'],
      ]);
      expect(res.status).toBe(200);
      expect(reads).toHaveLength(2);
      for (const read of reads) {
        expect(read.fast).toBe(true);
        expect(read.viaLowerCase).toEqual(read.viaHeader);
        expect(read.viaLowerCase.slice(0, 4)).toEqual(['Bearer a.b.c, Bearer d.e.f', 'one', 'u1, u2', 'alone']);
        expect(read.viaLowerCase[5]).toBeUndefined();
      }
    });

    test('has the method, path, lazily parsed query, joined repeated headers, ip and a live signal', async () => {
      const spy = spyGuard();
      const served = await start([spy.guard]);
      const res = await rawGet(`${served.url}/context?tier=gold&tier=silver`, {
        'x-forwarded-user': ['one', 'two'],
        'x-single': 'alone',
      });
      expect(res.status).toBe(200);
      const req = spy.seen[0] as GatewayRequest;
      expect(req.method).toBe('GET');
      expect(req.path).toBe('/context');
      expect(req.query.getAll('tier')).toEqual(['gold', 'silver']);
      expect(req.header('X-Forwarded-User')).toBe('one, two');
      expect(req.header('x-single')).toBe('alone');
      expect(req.header('x-absent')).toBeUndefined();
      expect(req.header('constructor')).toBeUndefined();
      expect(req.ip).toBe('127.0.0.1');
      expect(req.context).toEqual({});
      expect(req.signal).toBeInstanceOf(AbortSignal);
    });

    test('has a signal that aborts when the client goes away', async () => {
      let signal: AbortSignal | undefined;
      const served = await start([
        (req) => {
          signal = req.signal;
          return { action: 'continue' };
        },
      ]);
      const client = openRequest(`${served.url}/slow`);
      await waitFor(() => served.handled.includes('/slow'), 'the slow handler to start');
      expect(signal?.aborted).toBe(false);
      client.destroy();
      await waitFor(() => signal?.aborted === true, 'the signal to abort');
    });
  });

  describe('onComplete', () => {
    test('is told 200 once when the handler succeeds', async () => {
      const { outcomes, onComplete } = recordOutcomes();
      const served = await start([continueWith({ onComplete })]);
      const res = await fetch(`${served.url}/ok`);
      expect(await res.text()).toBe('ok');
      await waitFor(() => outcomes.length > 0, 'onComplete');
      await quietPeriod();
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]?.status).toBe(200);
      expect(outcomes[0]?.durationMs).toBeGreaterThanOrEqual(0);
      expect(outcomes[0]).not.toHaveProperty('error');
      expect(outcomes[0]).not.toHaveProperty('aborted');
    });

    test.each(MODES)('is told the status of a respond verdict once ($name guard)', async (mode) => {
      const { outcomes, onComplete } = recordOutcomes();
      const served = await start([mode.wrap(() => ({ ...respond(429, { error: 'slow down' }), onComplete }))]);
      expect((await fetch(`${served.url}/ok`)).status).toBe(429);
      await waitFor(() => outcomes.length > 0, 'onComplete');
      await quietPeriod();
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]?.status).toBe(429);
    });

    test('tells every composed guard, once each', async () => {
      const first = recordOutcomes();
      const second = recordOutcomes();
      const served = await start([
        compose(continueWith({ onComplete: first.onComplete }), continueWith({ onComplete: second.onComplete })),
      ]);
      await (await fetch(`${served.url}/ok`)).text();
      await waitFor(() => first.outcomes.length > 0 && second.outcomes.length > 0, 'both onCompletes');
      await quietPeriod();
      expect(first.outcomes.map((o) => o.status)).toEqual([200]);
      expect(second.outcomes.map((o) => o.status)).toEqual([200]);
    });

    test.each([
      ['throws', '/throw', ROUTE_THROW_MESSAGE],
      ['rejects', '/throw-async', ROUTE_REJECT_MESSAGE],
    ])('is told 500 once when the handler %s', async (_how, route, message) => {
      const { outcomes, onComplete } = recordOutcomes();
      const served = await start([continueWith({ onComplete })]);
      const res = await fetch(`${served.url}${route}`);
      expect(res.status).toBe(500);
      expect(served.errors).toEqual([expect.objectContaining({ message })]);
      await waitFor(() => outcomes.length > 0, 'onComplete');
      await quietPeriod();
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]?.status).toBe(500);
      if (fw.seesHandlerErrors) expect(outcomes[0]?.error).toBe(served.errors[0]);
      else expect(outcomes[0]).not.toHaveProperty('error');
    });

    test.each(MODES)('is told 499, aborted, once, when the client leaves first ($name guard)', async (mode) => {
      const { outcomes, onComplete } = recordOutcomes();
      const served = await start([mode.wrap(continueWith({ onComplete }))]);
      const client = openRequest(`${served.url}/slow`);
      await waitFor(() => served.handled.includes('/slow'), 'the slow handler to start');
      client.destroy();
      await waitFor(() => outcomes.length > 0, 'onComplete');
      expect(outcomes[0]).toMatchObject({ status: 499, aborted: true });
      // The handler now answers into the closed connection; that must not count as a second end.
      await waitFor(() => served.slowEnded.length > 0, 'the slow handler to finish');
      expect(served.slowEnded).toEqual([true]);
      await quietPeriod();
      expect(outcomes).toHaveLength(1);
    });

    test('is told 499 when the client left while an asynchronous guard was deciding', async () => {
      const { outcomes, onComplete } = recordOutcomes();
      let release: () => void = () => undefined;
      let deciding = false;
      const served = await start([
        async () => {
          deciding = true;
          await new Promise<void>((resolve) => (release = resolve));
          return { action: 'continue', onComplete };
        },
      ]);
      const client = openRequest(`${served.url}/ok`);
      await waitFor(() => deciding, 'the guard to start');
      client.destroy();
      // Let the server notice the disconnect before the guard answers.
      await quietPeriod();
      release();
      await waitFor(() => outcomes.length > 0, 'onComplete');
      await quietPeriod();
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]).toMatchObject({ status: 499, aborted: true });
    });

    test('that throws is reported, not crashing the server, and the response is unharmed', async () => {
      const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      onTestFinished(() => {
        warnings.mockRestore();
      });
      const boom = new Error('onComplete exploded');
      const served = await start([
        continueWith({
          onComplete: () => {
            throw boom;
          },
        }),
      ]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok');
      await waitFor(() => warnings.mock.calls.length > 0, 'the error to be reported');
      expect(warnings).toHaveBeenCalledWith(
        expect.objectContaining({
          name: 'PortcullisWarning',
          code: 'PORTCULLIS_ONCOMPLETE',
          message: boom.message,
          cause: boom,
        }),
      );
      // Still serving.
      expect((await fetch(`${served.url}/ok`)).status).toBe(200);
    });
  });

  describe('a failing guard', () => {
    const failures: [string, (error: Error) => Guard][] = [
      [
        'throws',
        (error) => () => {
          throw error;
        },
      ],
      ['rejects', (error) => () => Promise.reject(error)],
    ];

    test.each(failures)('that %s goes to the framework error handler; the route does not run', async (_how, make) => {
      const error = new Error('guard failed');
      const served = await start([make(error)]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(500);
      expect(served.errors).toEqual([error]);
      expect(served.handled).toEqual([]);
    });

    test.each(failures)("that %s gets the framework's default 500", async (_how, make) => {
      // Hono's default error handler logs the error; keep the test output clean.
      const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      onTestFinished(() => {
        logged.mockRestore();
      });
      const served = await start([make(new Error('guard failed'))], { defaultErrorHandling: true });
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(500);
      expect(served.handled).toEqual([]);
    });

    test('that returns something other than a verdict goes to the error handler', async () => {
      const served = await start([(() => ({ action: 'allow' })) as unknown as Guard]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(500);
      expect(served.errors).toEqual([expect.objectContaining({ name: 'TypeError' })]);
      expect(served.handled).toEqual([]);
    });

    test('whose body cannot be sent as JSON goes to the error handler', async () => {
      const served = await start([() => respond(400, { count: 1n })]);
      const res = await fetch(`${served.url}/ok`);
      expect(res.status).toBe(500);
      expect(served.errors).toEqual([expect.any(TypeError)]);
    });
  });
});

describe('fastify plugin encapsulation', () => {
  const forbid: Guard = () => respond(403, 'forbidden');

  test('registered inside a plugin, guards only that scope', async () => {
    const server = await serveFastify(async (app) => {
      await app.register(async (guarded) => {
        await guarded.register(fastifyPortcullis(forbid));
        guarded.get('/guarded', () => 'guarded');
      });
      await app.register((sibling, _options, done) => {
        sibling.get('/sibling', () => 'sibling');
        done();
      });
      app.get('/root', () => 'root');
    });
    onTestFinished(() => server.close());
    expect((await fetch(`${server.url}/guarded`)).status).toBe(403);
    expect(await (await fetch(`${server.url}/sibling`)).text()).toBe('sibling');
    expect(await (await fetch(`${server.url}/root`)).text()).toBe('root');
  });

  test('registered on the root, guards the routes of child plugins too', async () => {
    const server = await serveFastify(async (app) => {
      await app.register(fastifyPortcullis(forbid));
      await app.register((child, _options, done) => {
        fastifyTestRoutes(child);
        done();
      });
    });
    onTestFinished(() => server.close());
    expect((await fetch(`${server.url}/ok`)).status).toBe(403);
  });

  test('registered in two scopes, runs both guards and accumulates their context', async () => {
    const server = await serveFastify(async (app) => {
      await app.register(fastifyPortcullis(continueWith({ context: { user: 'ada' } })));
      await app.register(async (child) => {
        await child.register(fastifyPortcullis(continueWith({ context: { tenant: 'acme' } })));
        fastifyTestRoutes(child);
      });
    });
    onTestFinished(() => server.close());
    const res = await fetch(`${server.url}/context`);
    expect(await res.json()).toEqual({ context: { user: 'ada', tenant: 'acme' } });
  });
});

describe('fastify: registering the factory itself', () => {
  test('fails with an error that shows the right form, not "expected a function, got {}"', async () => {
    const { fastify } = await import('fastify');
    const app = fastify();
    onTestFinished(() => app.close());
    const forbid: Guard = () => respond(403, 'forbidden');
    // What docs/core.md once said; the plugin form a Fastify user writes by habit.
    const misuse = app.register(fastifyPortcullis as never, { guard: forbid });
    await expect(misuse).rejects.toMatchObject({
      code: 'ERR_PORTCULLIS_INVALID_OPTION',
      message: expect.stringContaining('await app.register(portcullis(guard))') as unknown,
    });
  });
});
