import { ManualClock } from '@portcullis/testkit';
import { serveTestRoutes, FRAMEWORKS, type FrameworkName, type ObservedServer } from '@portcullis/testkit/frameworks';
import { describe, expect, onTestFinished, test } from 'vitest';
import { router as expressRouter } from '../src/express.js';
import { router as fastifyRouter } from '../src/fastify.js';
import { router as honoRouter } from '../src/hono.js';
import {
  createCanary,
  createRouteTable,
  createSplit,
  stickyKey,
  type CanaryDecision,
  type RouteOutcome,
  type RouterGuardOptions,
} from '../src/index.js';

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

describe.each(FRAMEWORKS)('splits and canaries on %s', (framework) => {
  const checkoutSplit = (canaryWeight: number) =>
    createSplit({
      name: 'checkout',
      variants: [
        { name: 'stable', weight: 100 - canaryWeight },
        { name: 'canary', weight: canaryWeight },
      ],
      key: stickyKey({ header: 'x-user-id', ip: false }),
    });

  test('assigns a sticky variant per user, in the context and upstream; the client cannot spoof the header', async () => {
    const outcomes: RouteOutcome[] = [];
    const table = createRouteTable([{ name: 'checkout', path: '/:page', methods: ['GET'], split: checkoutSplit(50) }]);
    const served = await serve(framework, {
      table,
      variantHeader: 'X-Variant',
      onComplete: (result) => outcomes.push(result),
    });
    const byUser = new Map<string, string>();
    for (let u = 0; u < 16; u++) {
      const user = `user-${String(u)}`;
      const ctx = await fetch(`${served.url}/context`, { headers: { 'x-user-id': user } });
      const { context } = (await ctx.json()) as { context: { variant: string } };
      const seen: string[] = [context.variant];
      for (let again = 0; again < 2; again++) {
        const res = await fetch(`${served.url}/headers`, {
          headers: { 'x-user-id': user, 'x-variant': 'spoofed', x_variant: 'spoofed' },
        });
        const headers = (await res.json()) as Record<string, string>;
        expect(headers.x_variant).toBeUndefined();
        seen.push(headers['x-variant'] ?? 'missing');
      }
      expect(new Set(seen).size, `user ${user} saw ${seen.join(', ')}`).toBe(1);
      byUser.set(user, seen[0]!);
    }
    // 50/50 over 16 users: both variants are served (all on one side has probability 2^-15).
    expect(new Set(byUser.values())).toEqual(new Set(['stable', 'canary']));
    await expect.poll(() => outcomes.length).toBe(48);
    const onCanary = [...byUser.values()].filter((v) => v === 'canary').length;
    expect(outcomes.filter((o) => o.variant === 'canary')).toHaveLength(3 * onCanary);
    expect(outcomes.filter((o) => o.variant === 'stable')).toHaveLength(3 * (16 - onCanary));
  });

  test('a route without a split has no variant, and the client cannot set the variant header on it', async () => {
    const table2 = createRouteTable([{ name: 'plain', path: '/:page', methods: ['GET'] }]);
    const served2 = await serve(framework, { table: table2, variantHeader: 'x-variant' });
    const stripped = (await (
      await fetch(`${served2.url}/headers`, { headers: { 'x-variant': 'canary' } })
    ).json()) as Record<string, string>;
    expect(stripped['x-variant']).toBeUndefined();
    const { context } = (await (await fetch(`${served2.url}/context`)).json()) as { context: { variant?: string } };
    expect(context.variant).toBeUndefined();
  });

  test('the override header forces the variant, at any weight', async () => {
    const table = createRouteTable([{ name: 'checkout', path: '/:page', methods: ['GET'], split: checkoutSplit(0) }]);
    const served = await serve(framework, { table, variantHeader: 'x-variant' });
    const variantOf = async (headers: Record<string, string>): Promise<string | undefined> =>
      ((await (await fetch(`${served.url}/headers`, { headers })).json()) as Record<string, string>)['x-variant'];
    expect(await variantOf({ 'x-user-id': 'u1' })).toBe('stable');
    expect(await variantOf({ 'x-user-id': 'u1', 'x-canary': 'always' })).toBe('canary');
    expect(await variantOf({ 'x-user-id': 'u1', 'x-canary': 'canary' })).toBe('canary');
    expect(await variantOf({ 'x-user-id': 'u1', 'x-canary': 'never' })).toBe('stable');
    expect(await variantOf({ 'x-user-id': 'u1', 'x-canary': 'nonsense' })).toBe('stable');
  });

  test("outcomes reach the route's canary: 5xx from the canary roll it back", async () => {
    const clock = new ManualClock();
    const split = checkoutSplit(0);
    const canary = createCanary({
      split,
      clock,
      intervalMs: 60_000,
      minRequests: 5,
      failureThreshold: 1,
      latency: false, // real durations: only the error rate is judged here
    });
    const decisions: CanaryDecision[] = [];
    canary.events.on('decision', (d) => decisions.push(d));
    expect(split.weights()).toEqual({ stable: 95, canary: 5 });

    const outcomes: RouteOutcome[] = [];
    const table = createRouteTable([{ name: 'checkout', path: '/:page', methods: ['GET'], split, canary }]);
    const served = await serve(framework, { table, onComplete: (result) => outcomes.push(result) });
    // The canary's code fails, the stable code works: forced by the override to make it deterministic.
    for (let i = 0; i < 6; i++) {
      expect((await fetch(`${served.url}/throw`, { headers: { 'x-canary': 'always' } })).status).toBe(500);
      expect((await fetch(`${served.url}/ok`, { headers: { 'x-canary': 'never' } })).status).toBe(200);
    }
    await expect.poll(() => outcomes.length).toBe(12);
    expect(canary.state()).toMatchObject({ phase: 'progressing', percent: 5 });

    clock.advance(60_000);
    expect(canary.state()).toMatchObject({ phase: 'rolled-back', percent: 0 });
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ action: 'rollback', trigger: 'schedule', from: 5, to: 0 });
    expect(decisions[0]!.checks.find((c) => c.name === 'error-rate')).toMatchObject({
      status: 'fail',
      figures: { canaryErrorRate: 1, baselineErrorRate: 0 },
    });
    expect(split.weights()).toEqual({ stable: 100, canary: 0 });
  });
});
