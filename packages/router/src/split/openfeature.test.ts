import {
  OpenFeature,
  TypedInMemoryProvider,
  type EvaluationContext,
  type Hook,
  type Provider,
} from '@openfeature/server-sdk';
import { createGatewayRequest, isInvalidOptionError, type GatewayRequest, type GuardContext } from '@portcullis/core';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { isFlagEvaluationError, isFlagTimeoutError } from './errors.js';
import type { FlagErrorEvent } from './flags.js';
import { stickyKey } from './key.js';
import { openFeatureFlags } from './openfeature.js';
import { createSplit, type SplitOptions } from './split.js';

function request(user: string | undefined, context: GuardContext = {}): GatewayRequest {
  return createGatewayRequest({
    method: 'GET',
    url: '/checkout',
    header: (name) => (name === 'x-user' ? user : undefined),
    context,
  });
}

/** `new-checkout` is on for alice, and for anyone whose `tier` attribute is `beta`. */
function inMemoryFlags(): TypedInMemoryProvider {
  return new TypedInMemoryProvider({
    'new-checkout': {
      variants: { on: true, off: false },
      defaultVariant: 'off',
      disabled: false,
      contextEvaluator: (ctx: EvaluationContext) =>
        ctx.targetingKey === 'alice' || ctx['tier'] === 'beta' ? 'on' : 'off',
    },
  });
}

/** A provider of the OpenFeature SDK's shape whose boolean answers are `resolve`'s. */
function provider(name: string, resolve: Provider['resolveBooleanEvaluation']): Provider {
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

const hanging = provider('hanging', () => new Promise(() => undefined));
const throwing = provider('throwing', () => {
  throw new Error('flag service down');
});

function checkoutSplit(flags: SplitOptions['flags'], extra: Partial<SplitOptions> = {}) {
  return createSplit({
    name: 'checkout',
    variants: [
      { name: 'stable', weight: 100 },
      { name: 'beta', flag: 'new-checkout' },
    ],
    key: stickyKey({ header: 'x-user', ip: false }),
    flags,
    ...extra,
  });
}

describe('OpenFeature flags (real @openfeature/server-sdk)', () => {
  beforeAll(async () => {
    await OpenFeature.setProviderAndWait('in-memory', inMemoryFlags());
    await OpenFeature.setProviderAndWait('hanging', hanging);
    await OpenFeature.setProviderAndWait('throwing', throwing);
  });
  afterAll(async () => {
    await OpenFeature.close();
  });

  test("routes by the client's answer, with the sticky key as the targeting key by default", async () => {
    const split = checkoutSplit(openFeatureFlags(OpenFeature.getClient('in-memory')));
    expect(split.asyncFlags).toBe(true);
    expect(await split.assignAsync(request('alice'))).toEqual({ variant: 'beta', reason: 'flag' });
    expect(await split.assignAsync(request('bob'))).toEqual({ variant: 'stable', reason: 'weight' });
    expect(await split.assignAsync(request(undefined))).toEqual({ variant: 'stable', reason: 'baseline' });
  });

  test('builds the evaluation context from the request context; the sticky key fills a missing targetingKey', async () => {
    const seen: EvaluationContext[] = [];
    const recorder: Hook = {
      before: (hookContext) => {
        seen.push({ ...hookContext.context });
      },
    };
    const client = OpenFeature.getClient('in-memory').addHooks(recorder);
    const split = checkoutSplit(
      openFeatureFlags(client, {
        context: (req) => ({ tier: typeof req.context['tier'] === 'string' ? req.context['tier'] : null }),
      }),
    );
    expect(await split.assignAsync(request('carol', { tier: 'beta' }))).toEqual({ variant: 'beta', reason: 'flag' });
    expect(await split.assignAsync(request('dave', { tier: 'pro' }))).toEqual({ variant: 'stable', reason: 'weight' });
    // The client's hooks ran (the evaluation went through the SDK), with the context built here.
    expect(seen).toEqual([
      { tier: 'beta', targetingKey: 'carol' },
      { tier: 'pro', targetingKey: 'dave' },
    ]);

    const own = checkoutSplit(
      openFeatureFlags(OpenFeature.getClient('in-memory'), { context: () => ({ targetingKey: 'alice' }) }),
    );
    expect(await own.assignAsync(request('erin'))).toEqual({ variant: 'beta', reason: 'flag' });
  });

  test('an unknown flag or a throwing provider counts as off, reported as a FlagEvaluationError with its code', async () => {
    const reported: FlagErrorEvent[] = [];
    const onFlagError = (event: FlagErrorEvent): void => {
      reported.push(event);
    };
    const unknown = createSplit({
      name: 'checkout',
      variants: [
        { name: 'stable', weight: 100 },
        { name: 'beta', flag: 'no-such-flag' },
      ],
      key: stickyKey({ header: 'x-user' }),
      flags: openFeatureFlags(OpenFeature.getClient('in-memory')),
      onFlagError,
    });
    expect(await unknown.assignAsync(request('alice'))).toEqual({ variant: 'stable', reason: 'weight' });
    const broken = checkoutSplit(openFeatureFlags(OpenFeature.getClient('throwing')), { onFlagError });
    expect(await broken.assignAsync(request('alice'))).toEqual({ variant: 'stable', reason: 'weight' });

    expect(reported.map((r) => r.flag)).toEqual(['no-such-flag', 'new-checkout']);
    const [notFound, general] = reported.map((r) => r.error);
    expect(isFlagEvaluationError(notFound) && notFound.errorCode).toBe('FLAG_NOT_FOUND');
    expect(isFlagEvaluationError(general) && general.errorCode).toBe('GENERAL');
    expect(general).toMatchObject({ code: 'ERR_PORTCULLIS_ROUTER_FLAG_EVALUATION' });
    expect((general as Error).message).toContain('flag service down');
  });

  test('a hanging provider is cut at flagTimeoutMs: the flag is off, a FlagTimeoutError reported, no timer left', async () => {
    vi.useFakeTimers();
    try {
      const reported: FlagErrorEvent[] = [];
      const split = checkoutSplit(openFeatureFlags(OpenFeature.getClient('hanging')), {
        flagTimeoutMs: 30,
        onFlagError: (event) => reported.push(event),
      });
      const pending = split.assignAsync(request('alice'));
      await vi.advanceTimersByTimeAsync(30);
      expect(await pending).toEqual({ variant: 'stable', reason: 'weight' });
      expect(vi.getTimerCount()).toBe(0);
      expect(reported).toHaveLength(1);
      expect(isFlagTimeoutError(reported[0]!.error)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  test('a provider given directly is asked as is; one that throws counts as off, reported with what it threw', async () => {
    const direct = checkoutSplit(openFeatureFlags(inMemoryFlags()));
    expect(await direct.assignAsync(request('alice'))).toEqual({ variant: 'beta', reason: 'flag' });
    expect(await direct.assignAsync(request('bob'))).toEqual({ variant: 'stable', reason: 'weight' });

    const reported: FlagErrorEvent[] = [];
    const broken = checkoutSplit(openFeatureFlags(throwing), { onFlagError: (event) => reported.push(event) });
    expect(await broken.assignAsync(request('alice'))).toEqual({ variant: 'stable', reason: 'weight' });
    expect((reported[0]?.error as Error).message).toBe('flag service down');
  });

  test('a context function that throws makes the flag off and is reported', async () => {
    const reported: FlagErrorEvent[] = [];
    const split = checkoutSplit(
      openFeatureFlags(OpenFeature.getClient('in-memory'), {
        context: () => {
          throw new Error('no context');
        },
      }),
      { onFlagError: (event) => reported.push(event) },
    );
    expect(await split.assignAsync(request('alice'))).toEqual({ variant: 'stable', reason: 'weight' });
    expect((reported[0]?.error as Error).message).toBe('no context');
  });

  test.each([
    [[undefined], 'source'],
    [[{}], 'source'],
    [[{ getBooleanDetails: 'no' }], 'source'],
    [[inMemoryFlags(), { context: 'tier' }], 'context'],
    [[inMemoryFlags(), { logger: { error: () => undefined } }], 'logger'],
  ])('rejects a bad source or option with an InvalidOptionError naming it (%#)', (args, option) => {
    let error: unknown;
    try {
      (openFeatureFlags as (...a: unknown[]) => unknown)(...args);
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });
});
