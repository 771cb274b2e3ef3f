import { OpenFeature, TypedInMemoryProvider, type EvaluationContext, type Provider } from '@openfeature/server-sdk';
import { serveTestRoutes, FRAMEWORKS, type FrameworkName, type ObservedServer } from '@portcullis/testkit/frameworks';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { router as expressRouter } from '../src/express.js';
import { router as fastifyRouter } from '../src/fastify.js';
import { router as honoRouter } from '../src/hono.js';
import {
  createRouteTable,
  createSplit,
  isFlagEvaluationError,
  isFlagTimeoutError,
  openFeatureFlags,
  stickyKey,
  type FlagErrorEvent,
  type RouteOutcome,
  type RouterGuardOptions,
} from '../src/index.js';

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

/** A provider of the SDK's shape whose boolean evaluations all go through `resolve`. */
function booleanProvider(name: string, resolve: Provider['resolveBooleanEvaluation']): Provider {
  const unused = (): never => {
    throw new Error('not a boolean flag');
  };
  return {
    metadata: { name },
    runsOn: 'server',
    resolveBooleanEvaluation: resolve,
    resolveStringEvaluation: unused,
    resolveNumberEvaluation: unused,
    resolveObjectEvaluation: unused,
  };
}

describe.each(FRAMEWORKS)('OpenFeature flag routes on %s', (framework) => {
  // Each framework gets its own domains: the OpenFeature API is one singleton per process.
  const domain = (name: string): string => `${framework}-${name}`;

  beforeAll(async () => {
    // `new-checkout` is on for the beta testers (targeting key) and for every `tier: beta` request.
    await OpenFeature.setProviderAndWait(
      domain('in-memory'),
      new TypedInMemoryProvider({
        'new-checkout': {
          variants: { on: true, off: false },
          defaultVariant: 'off',
          disabled: false,
          contextEvaluator: (ctx: EvaluationContext) =>
            ctx.targetingKey === 'tester-1' || ctx['tier'] === 'beta' ? 'on' : 'off',
        },
      }),
    );
    await OpenFeature.setProviderAndWait(
      domain('hanging'),
      booleanProvider('hanging', () => new Promise(() => undefined)),
    );
    await OpenFeature.setProviderAndWait(
      domain('throwing'),
      booleanProvider('throwing', () => {
        throw new Error('flag service down');
      }),
    );
  });
  afterAll(async () => {
    await OpenFeature.clearProviders();
  });

  const checkout = (client: string, reported: FlagErrorEvent[] = []) =>
    createSplit({
      name: 'checkout',
      variants: [
        { name: 'stable', weight: 100 },
        { name: 'beta', flag: 'new-checkout' },
      ],
      key: stickyKey({ header: 'x-user-id', ip: false }),
      flags: openFeatureFlags(OpenFeature.getClient(domain(client)), {
        context: (req) => ({ tier: req.header('x-tier') ?? null }),
      }),
      flagTimeoutMs: 25,
      onFlagError: (event) => reported.push(event),
    });

  test('a flag that is on routes the request to its variant (context and upstream header); off, the weights decide', async () => {
    const outcomes: RouteOutcome[] = [];
    const table = createRouteTable([
      { name: 'checkout', path: '/:page', methods: ['GET'], split: checkout('in-memory') },
    ]);
    const served = await serve(framework, {
      table,
      variantHeader: 'x-variant',
      onComplete: (result) => outcomes.push(result),
    });
    const variantOf = async (headers: Record<string, string>): Promise<string | undefined> => {
      const res = await fetch(`${served.url}/headers`, { headers });
      expect(res.status).toBe(200);
      return ((await res.json()) as Record<string, string>)['x-variant'];
    };
    expect(await variantOf({ 'x-user-id': 'tester-1' })).toBe('beta'); // targeting key = the sticky key
    expect(await variantOf({ 'x-user-id': 'someone', 'x-tier': 'beta' })).toBe('beta'); // an attribute
    expect(await variantOf({ 'x-user-id': 'someone', 'x-tier': 'pro' })).toBe('stable');
    expect(await variantOf({ 'x-user-id': 'tester-1', 'x-canary': 'never' })).toBe('stable'); // overrides first

    const ctx = await fetch(`${served.url}/context`, { headers: { 'x-user-id': 'tester-1' } });
    expect(((await ctx.json()) as { context: { variant: string } }).context.variant).toBe('beta');
    await expect.poll(() => outcomes.length).toBe(5);
    expect(outcomes.map((o) => o.variant)).toEqual(['beta', 'beta', 'stable', 'stable', 'beta']);
  });

  test('a hanging or throwing provider counts as off: the request is served (never a 500), the failure reported', async () => {
    const reported: FlagErrorEvent[] = [];
    const table = createRouteTable([
      { name: 'hanging', path: '/:page', headers: { 'x-flags': 'hanging' }, split: checkout('hanging', reported) },
      { name: 'throwing', path: '/:page', headers: { 'x-flags': 'throwing' }, split: checkout('throwing', reported) },
    ]);
    const served = await serve(framework, { table, variantHeader: 'x-variant' });
    for (const provider of ['hanging', 'throwing']) {
      const res = await fetch(`${served.url}/headers`, {
        headers: { 'x-flags': provider, 'x-user-id': 'tester-1', 'x-tier': 'beta' },
      });
      expect(res.status, provider).toBe(200);
      expect(((await res.json()) as Record<string, string>)['x-variant'], provider).toBe('stable');
    }
    expect(reported).toHaveLength(2);
    expect(isFlagTimeoutError(reported[0]!.error)).toBe(true);
    expect(isFlagEvaluationError(reported[1]!.error) && reported[1]!.error.errorCode).toBe('GENERAL');
  });
});
