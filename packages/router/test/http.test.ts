import { serveTestRoutes, FRAMEWORKS, type FrameworkName, type ObservedServer } from '@portcullis/testkit/frameworks';
import { describe, expect, onTestFinished, test } from 'vitest';
import { router as expressRouter } from '../src/express.js';
import { router as fastifyRouter } from '../src/fastify.js';
import { router as honoRouter } from '../src/hono.js';
import { createRouteTable, type RouteOutcome, type RouterGuardOptions } from '../src/index.js';

const PROBLEM_JSON = 'application/problem+json';

async function serve(framework: FrameworkName, options: RouterGuardOptions): Promise<ObservedServer> {
  const served = await serveTestRoutes(framework, {
    express: (app) => app.use(expressRouter(options)),
    fastify: async (app) => {
      await app.register(fastifyRouter(options));
    },
    hono: (app, ipOption) => app.use(honoRouter(options, ipOption)),
  });
  onTestFinished(() => served.close());
  return served;
}

describe.each(FRAMEWORKS)('router on %s', (framework) => {
  const table = createRouteTable([
    { name: 'page', path: '/:page', methods: ['GET'] },
    { name: 'beta-context', path: '/context', methods: ['GET'], headers: { 'x-beta': '1' } },
    { name: 'submit', path: '/submit/now', methods: ['POST', 'PUT'] },
  ]);

  test('puts the matched route and its params in the context, and reports the outcome', async () => {
    const outcomes: RouteOutcome[] = [];
    const served = await serve(framework, { table, onComplete: (result) => outcomes.push(result) });
    const res = await fetch(`${served.url}/context`);
    expect(res.status).toBe(200);
    const { context } = (await res.json()) as {
      context: { route: { name: string }; params: unknown; canonicalPath: string };
    };
    expect(context.route.name).toBe('page');
    expect(context.params).toEqual({ page: 'context' });
    expect(context.canonicalPath).toBe('/context');

    const beta = await fetch(`${served.url}/context`, { headers: { 'x-beta': '1' } });
    expect(((await beta.json()) as { context: { route: { name: string } } }).context.route.name).toBe('beta-context');

    await expect.poll(() => outcomes.length).toBe(2);
    expect(outcomes.map(({ route, outcome }) => [route.name, outcome.status])).toEqual([
      ['page', 200],
      ['beta-context', 200],
    ]);
  });

  test('answers 404 problem details when nothing matches; the handler does not run', async () => {
    const served = await serve(framework, { table });
    const res = await fetch(`${served.url}/ok/more`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain(PROBLEM_JSON);
    expect(await res.json()).toMatchObject({ status: 404, title: 'Not Found' });
    expect(served.handled).toEqual([]);
  });

  test('answers 405 with Allow when the path has routes for other methods only', async () => {
    const served = await serve(framework, { table });
    const res = await fetch(`${served.url}/submit/now`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, PUT');
    expect(await res.json()).toMatchObject({ status: 405, title: 'Method Not Allowed' });
  });

  test('answers 400 to a path that would read differently upstream', async () => {
    const served = await serve(framework, { table });
    const res = await fetch(`${served.url}/ok%2F..%2Finternal`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(served.handled).toEqual([]);
  });
});
