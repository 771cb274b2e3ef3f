import {
  compose,
  createGatewayRequest,
  isInvalidOptionError,
  type GatewayRequest,
  type Outcome,
  type RespondVerdict,
  type Verdict,
} from '@portcullis/core';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect, test, vi } from 'vitest';
import { fixedWindow } from '../algorithms/fixed-window.js';
import { tokenBucket } from '../algorithms/token-bucket.js';
import type { Decision } from '../decision.js';
import { createRateLimiter, type Policy, type RateLimiter, type RateLimiterOptions } from '../limiter.js';
import { MemoryStore } from '../stores/memory-store.js';
import { rateLimitGuard, type RateLimitContext } from './guard.js';
import type { RateLimitGuardOptions } from './options.js';

/** A minute boundary, so fixed windows end a whole number of seconds later. */
const MINUTE = 1_700_000_040_000;

function setup(limits: Policy, extra: Partial<RateLimiterOptions> = {}): { clock: ManualClock; limiter: RateLimiter } {
  const clock = new ManualClock(MINUTE + 13_500);
  const limiter = createRateLimiter({ store: new MemoryStore({ clock }), clock, limits, ...extra });
  return { clock, limiter };
}

const perMinute = (limit = 3): Policy => ({ perMinute: fixedWindow({ limit, windowMs: 60_000 }) });

function request(init: { ip?: string; headers?: Record<string, string>; context?: Record<string, unknown> } = {}) {
  const headers = init.headers ?? {};
  return createGatewayRequest({
    method: 'GET',
    url: '/',
    header: (name) => headers[name],
    ip: init.ip ?? '203.0.113.7',
    context: init.context,
  });
}

/** The verdict of a guard that must have answered synchronously. */
function sync(verdict: Verdict<RateLimitContext> | PromiseLike<Verdict<RateLimitContext>>): Verdict<RateLimitContext> {
  if (typeof (verdict as { then?: unknown }).then === 'function') throw new Error('expected a synchronous verdict');
  return verdict as Verdict<RateLimitContext>;
}

function respondOf(verdict: Verdict<RateLimitContext>): RespondVerdict {
  if (verdict.action !== 'respond') throw new Error('expected a respond verdict');
  return verdict;
}

const headersOf = (headers: Headers | undefined): Record<string, string> => Object.fromEntries(headers ?? []);

/** A limiter whose answers arrive through promises, as with a remote store. */
function asynchronous(limiter: RateLimiter): RateLimiter {
  return { ...limiter, limit: (key, options) => Promise.resolve(limiter.limit(key, options)) };
}

const outcome = (status: number, extra: Partial<Outcome> = {}): Outcome => ({ status, durationMs: 1, ...extra });

describe('rateLimitGuard without HTTP', () => {
  test('answers synchronously with a synchronous limiter: no promise', () => {
    const { limiter } = setup(perMinute());
    const verdict = rateLimitGuard({ limiter })(request());
    expect(verdict).not.toBeInstanceOf(Promise);
    expect(typeof (verdict as { then?: unknown }).then).toBe('undefined');
    expect(sync(verdict).action).toBe('continue');
  });

  test('answers through a promise with an asynchronous limiter, with the same verdict', async () => {
    const { limiter } = setup(perMinute());
    const verdict = rateLimitGuard({ limiter: asynchronous(limiter) })(request());
    expect(verdict).toBeInstanceOf(Promise);
    const resolved = await verdict;
    expect(resolved.action).toBe('continue');
    expect(headersOf(resolved.action === 'continue' ? resolved.responseHeaders : undefined)).toEqual({
      'ratelimit-policy': '"perMinute";q=3;w=60',
      ratelimit: '"perMinute";r=2;t=47',
    });
  });

  test('continues with the draft headers and the decision in the context', () => {
    const { limiter } = setup(perMinute());
    const verdict = sync(rateLimitGuard({ limiter })(request()));
    if (verdict.action !== 'continue') throw new Error('expected continue');
    expect(headersOf(verdict.responseHeaders)).toEqual({
      'ratelimit-policy': '"perMinute";q=3;w=60',
      ratelimit: '"perMinute";r=2;t=47',
    });
    expect(verdict.context?.rateLimit).toMatchObject({ allowed: true, remaining: 2, limit: 3 });
    expect(verdict.onComplete).toBeUndefined();
  });

  test('denies with 429, Retry-After, the headers and problem details', () => {
    const { limiter } = setup(perMinute(1));
    const guard = rateLimitGuard({ limiter });
    sync(guard(request()));
    const denied = respondOf(sync(guard(request())));
    expect(denied.status).toBe(429);
    expect(headersOf(denied.headers)).toEqual({
      'content-type': 'application/problem+json',
      'retry-after': '47',
      'ratelimit-policy': '"perMinute";q=1;w=60',
      ratelimit: '"perMinute";r=0;t=47',
    });
    expect(denied.body).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Request exceeds the "perMinute" limit; retry in 47 s.',
      limitedBy: 'perMinute',
    });
  });

  test('a cost that can never fit: 429 without Retry-After, saying retrying will not help', () => {
    const { limiter } = setup(perMinute(3));
    const denied = respondOf(sync(rateLimitGuard({ limiter, cost: 5 })(request())));
    expect(denied.status).toBe(429);
    expect(denied.headers?.has('retry-after')).toBe(false);
    expect(denied.headers?.get('ratelimit')).toBe('"perMinute";r=3;t=0');
    expect(denied.body).toMatchObject({ status: 429, limitedBy: 'perMinute' });
    expect((denied.body as { detail: string }).detail).toMatch(/costs 5 units.*retrying will not help/);
  });

  describe('headers', () => {
    // A bucket of 5 refilling 1/s (window 5 s) and 3 per minute; the clock is 46.5 s before the minute ends.
    const twoLimits = (): Policy => ({
      perSecond: tokenBucket({ capacity: 5, refillPerSecond: 1 }),
      perMinute: fixedWindow({ limit: 3, windowMs: 60_000 }),
    });

    test("'draft' reports the most constrained limit, 'draft-all' every limit", () => {
      const { limiter } = setup(twoLimits());
      const one = sync(rateLimitGuard({ limiter })(request({ ip: '192.0.2.1' })));
      // perSecond has 4 left (full again in 1 s), perMinute 2 (resets in 47 s): perMinute is tighter.
      expect(headersOf(one.action === 'continue' ? one.responseHeaders : undefined)).toEqual({
        'ratelimit-policy': '"perMinute";q=3;w=60',
        ratelimit: '"perMinute";r=2;t=47',
      });
      const all = sync(rateLimitGuard({ limiter, headers: 'draft-all' })(request({ ip: '192.0.2.2' })));
      expect(headersOf(all.action === 'continue' ? all.responseHeaders : undefined)).toEqual({
        'ratelimit-policy': '"perSecond";q=5;w=5, "perMinute";q=3;w=60',
        ratelimit: '"perSecond";r=4;t=1, "perMinute";r=2;t=47',
      });
    });

    test("'legacy' and 'both'", () => {
      const { limiter } = setup(perMinute());
      const legacy = sync(rateLimitGuard({ limiter, headers: 'legacy' })(request({ ip: '192.0.2.1' })));
      expect(headersOf(legacy.action === 'continue' ? legacy.responseHeaders : undefined)).toEqual({
        'x-ratelimit-limit': '3',
        'x-ratelimit-remaining': '2',
        'x-ratelimit-reset': '47',
      });
      const both = sync(rateLimitGuard({ limiter, headers: 'both' })(request({ ip: '192.0.2.2' })));
      expect(Object.keys(headersOf(both.action === 'continue' ? both.responseHeaders : undefined)).sort()).toEqual([
        'ratelimit',
        'ratelimit-policy',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
      ]);
    });

    test('false sends none, but a 429 keeps Retry-After', () => {
      const { limiter } = setup(perMinute(1));
      const guard = rateLimitGuard({ limiter, headers: false });
      const allowed = sync(guard(request()));
      expect(allowed.action === 'continue' ? allowed.responseHeaders : 'respond').toBeUndefined();
      const denied = respondOf(sync(guard(request())));
      expect(headersOf(denied.headers)).toEqual({ 'content-type': 'application/problem+json', 'retry-after': '47' });
    });

    test('on a bucket denial the effective window is the retry time; X-RateLimit-Reset the full refill', () => {
      const { limiter } = setup({ perSecond: tokenBucket({ capacity: 5, refillPerSecond: 1 }) });
      const guard = rateLimitGuard({ limiter, headers: 'both' });
      for (let i = 0; i < 5; i++) sync(guard(request()));
      const denied = respondOf(sync(guard(request())));
      expect(denied.headers?.get('retry-after')).toBe('1');
      expect(denied.headers?.get('ratelimit')).toBe('"perSecond";r=0;t=1');
      expect(denied.headers?.get('x-ratelimit-reset')).toBe('5');
    });

    test('huge figures are plain integers: never an exponent, capped at the header syntax limits', () => {
      // A "lifetime" quota: a near-zero refill makes every time figure enormous.
      const { limiter } = setup({
        lifetime: tokenBucket({ capacity: 1e9, refillPerSecond: 1e-12 }),
        huge: fixedWindow({ limit: 1e300, windowMs: 1e300 }),
      });
      const guard = rateLimitGuard({ limiter, headers: 'draft-all', cost: () => 1e9 });
      sync(guard(request()));
      const denied = respondOf(sync(guard(request())));
      const all = headersOf(denied.headers);
      for (const [name, value] of Object.entries(all)) expect(value, name).not.toMatch(/e[+-]?\d|NaN|Infinity/i);
      expect(all['retry-after']).toBe('2147483648');
      expect(all['ratelimit-policy']).toContain('"huge";q=999999999999999;w=999999999999999');
    });

    test('pool limits are named pool.<name>', () => {
      const { limiter } = setup(perMinute(3), {
        poolLimits: { perMinute: fixedWindow({ limit: 10, windowMs: 60_000 }) },
      });
      const guard = rateLimitGuard({ limiter, headers: 'draft-all', pool: () => 'team-a' });
      const verdict = sync(guard(request()));
      expect(verdict.action === 'continue' ? verdict.responseHeaders?.get('ratelimit') : undefined).toBe(
        '"perMinute";r=2;t=47, "pool.perMinute";r=9;t=47',
      );
    });

    test('after a fail-open decision only the policy is reported (usage is unknown)', () => {
      const failing = new MemoryStore();
      vi.spyOn(failing, 'consume').mockImplementation(() => {
        throw new Error('store down');
      });
      const limiter = createRateLimiter({ store: failing, limits: perMinute() });
      const verdict = sync(rateLimitGuard({ limiter, headers: 'both' })(request()));
      expect(headersOf(verdict.action === 'continue' ? verdict.responseHeaders : undefined)).toEqual({
        'ratelimit-policy': '"perMinute";q=3;w=60',
        'x-ratelimit-limit': '3',
      });
    });
  });

  describe('message', () => {
    function deniedWith(message: RateLimitGuardOptions['message']): RespondVerdict {
      const { limiter } = setup(perMinute(1));
      const guard = rateLimitGuard({ limiter, message });
      sync(guard(request()));
      return respondOf(sync(guard(request())));
    }

    test('a string is the body (the adapter sends it as text)', () => {
      const denied = deniedWith('slow down');
      expect(denied.body).toBe('slow down');
      expect(denied.headers?.has('content-type')).toBe(false);
    });

    test('an object is the body (sent as JSON)', () => {
      expect(deniedWith({ error: 'rate_limited' }).body).toEqual({ error: 'rate_limited' });
    });

    test('a function gets the decision and the request', () => {
      const denied = deniedWith((decision: Decision, req: GatewayRequest) => ({ by: decision.limitedBy, ip: req.ip }));
      expect(denied.body).toEqual({ by: 'perMinute', ip: '203.0.113.7' });
      expect(denied.headers?.get('retry-after')).toBe('47');
    });
  });

  describe('keys', () => {
    test('by header: each value has its own limit', () => {
      const { limiter } = setup(perMinute(1));
      const guard = rateLimitGuard({ limiter, key: { header: 'x-api-key' } });
      expect(sync(guard(request({ headers: { 'x-api-key': 'a' } }))).action).toBe('continue');
      expect(sync(guard(request({ headers: { 'x-api-key': 'b' } }))).action).toBe('continue');
      expect(sync(guard(request({ headers: { 'x-api-key': 'a' } }))).action).toBe('respond');
    });

    test('by a function of the context an earlier guard set', () => {
      const { limiter } = setup(perMinute(1));
      const guard = compose(
        (req) => ({ action: 'continue', context: { user: req.header('x-user') } }),
        rateLimitGuard({ limiter, key: (req) => req.context['user'] as string | undefined }),
      );
      expect(sync(guard(request({ headers: { 'x-user': 'ada' } }))).action).toBe('continue');
      expect(sync(guard(request({ headers: { 'x-user': 'bob' } }))).action).toBe('continue');
      expect(sync(guard(request({ headers: { 'x-user': 'ada' } }))).action).toBe('respond');
    });

    test('by IP: IPv6 clients share a limit per /56 by default, or per ipv6Prefix', () => {
      const { limiter } = setup(perMinute(1));
      const guard = rateLimitGuard({ limiter });
      expect(sync(guard(request({ ip: '2001:db8:0:1ff::1' }))).action).toBe('continue');
      expect(sync(guard(request({ ip: '2001:db8:0:100:abcd::9' }))).action).toBe('respond');
      expect(sync(guard(request({ ip: '2001:db8:0:200::1' }))).action).toBe('continue');
      const per64 = rateLimitGuard({ limiter, ipv6Prefix: 64 });
      expect(sync(per64(request({ ip: '2001:db8:0:1fe::1' }))).action).toBe('continue');
    });

    test.each<[string, RateLimitGuardOptions['key'], 'continue' | 400]>([
      ['ip (no address)', 'ip', 'continue'],
      ['header (absent)', { header: 'x-api-key' }, 400],
      ['function (undefined)', () => undefined, 400],
      ['function (empty)', () => '', 400],
    ])('a missing key by %s: allowed or 400 by default', (_what, key, expected) => {
      const { limiter } = setup(perMinute());
      const req = createGatewayRequest({ method: 'GET', url: '/', header: () => undefined });
      const verdict = sync(rateLimitGuard({ limiter, key })(req));
      if (expected === 'continue') {
        expect(verdict).toEqual({ action: 'continue' });
        return;
      }
      const denied = respondOf(verdict);
      expect(denied.status).toBe(400);
      expect(denied.headers?.get('content-type')).toBe('application/problem+json');
      expect(denied.body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400 });
    });

    test('a tier the limiter does not have is a 400 naming it, and charges nothing', () => {
      const clock = new ManualClock();
      const limiter = createRateLimiter({
        store: new MemoryStore({ clock }),
        clock,
        tiers: { free: { day: fixedWindow({ limit: 1, windowMs: 86_400_000 }) } },
      });
      const guard = rateLimitGuard({ limiter, key: { header: 'x-k' }, tier: (req) => req.header('x-plan') });
      const denied = respondOf(sync(guard(request({ headers: { 'x-k': 'a', 'x-plan': 'platinum' } }))));
      expect(denied.status).toBe(400);
      expect(denied.body).toMatchObject({ status: 400, detail: expect.stringContaining('platinum') as unknown });
      expect(sync(guard(request({ headers: { 'x-k': 'a', 'x-plan': 'free' } }))).action).toBe('continue');
    });

    test('onMissingKey overrides the default either way', () => {
      const { limiter } = setup(perMinute());
      const req = createGatewayRequest({ method: 'GET', url: '/', header: () => undefined });
      expect(respondOf(sync(rateLimitGuard({ limiter, onMissingKey: 'deny' })(req))).status).toBe(400);
      expect(sync(rateLimitGuard({ limiter, key: { header: 'x-k' }, onMissingKey: 'allow' })(req))).toEqual({
        action: 'continue',
      });
    });
  });

  describe('skip and allowList', () => {
    test('skip: not limited, not counted, no headers, no context', () => {
      const { limiter } = setup(perMinute(1));
      const limit = vi.spyOn(limiter, 'limit');
      const guard = rateLimitGuard({ limiter, skip: (req) => req.header('x-internal') === 'yes' });
      for (let i = 0; i < 3; i++) {
        expect(sync(guard(request({ headers: { 'x-internal': 'yes' } })))).toEqual({ action: 'continue' });
      }
      expect(limit).not.toHaveBeenCalled();
    });

    test('allowList: listed keys are never limited; IP entries are keyed like addresses', () => {
      const { limiter } = setup(perMinute(1));
      const guard = rateLimitGuard({ limiter, allowList: ['192.0.2.1', '2001:db8::1'] });
      for (let i = 0; i < 3; i++) {
        expect(sync(guard(request({ ip: '192.0.2.1' })))).toEqual({ action: 'continue' });
        expect(sync(guard(request({ ip: '2001:db8:0:ff::7' })))).toEqual({ action: 'continue' });
      }
      sync(guard(request({ ip: '192.0.2.2' })));
      expect(sync(guard(request({ ip: '192.0.2.2' }))).action).toBe('respond');
    });
  });

  describe('bad input', () => {
    test.each<[string, (req: GatewayRequest) => number]>([
      ['negative', () => -1],
      ['NaN', () => Number.NaN],
      ['not a number', () => '2' as unknown as number],
    ])('a %s cost from the cost function answers 400 (sync and async)', async (_what, cost) => {
      const { limiter } = setup(perMinute());
      const denied = respondOf(sync(rateLimitGuard({ limiter, cost })(request())));
      expect(denied.status).toBe(400);
      expect(denied.body).toMatchObject({ status: 400, detail: expect.stringMatching(/^Invalid cost/) });
      const later = await rateLimitGuard({ limiter: asynchronous(limiter), cost })(request());
      expect(respondOf(later).status).toBe(400);
    });

    test('a key the limiter refuses (a function returning a non-string) answers 400', () => {
      const { limiter } = setup(perMinute());
      const denied = respondOf(sync(rateLimitGuard({ limiter, key: () => 42 as unknown as string })(request())));
      expect(denied.status).toBe(400);
    });

    test('any other error propagates: a throwing skip, a failing limiter', async () => {
      const { limiter } = setup(perMinute());
      const boom = new Error('boom');
      expect(() =>
        rateLimitGuard({
          limiter,
          skip: () => {
            throw boom;
          },
        })(request()),
      ).toThrow(boom);
      const failing: RateLimiter = { ...limiter, limit: () => Promise.reject(boom) };
      await expect(rateLimitGuard({ limiter: failing })(request())).rejects.toBe(boom);
    });
  });

  describe('cost and tier', () => {
    test('a cost function charges what it returns', () => {
      const { limiter } = setup(perMinute(10));
      const guard = rateLimitGuard({ limiter, cost: (req) => Number(req.header('x-cost') ?? '1') });
      const verdict = sync(guard(request({ headers: { 'x-cost': '4' } })));
      expect(verdict.action === 'continue' ? verdict.responseHeaders?.get('ratelimit') : undefined).toBe(
        '"perMinute";r=6;t=47',
      );
    });

    test('a tier function picks the policy', () => {
      const clock = new ManualClock(MINUTE + 13_500);
      const limiter = createRateLimiter({
        store: new MemoryStore({ clock }),
        clock,
        tiers: { free: perMinute(2), pro: perMinute(100) },
      });
      const guard = rateLimitGuard({ limiter, tier: (req) => req.header('x-tier') });
      const pro = sync(guard(request({ headers: { 'x-tier': 'pro' } })));
      expect(pro.action === 'continue' ? pro.responseHeaders?.get('ratelimit-policy') : undefined).toBe(
        '"perMinute";q=100;w=60',
      );
      const free = sync(guard(request({ ip: '192.0.2.9' })));
      expect(free.action === 'continue' ? free.responseHeaders?.get('ratelimit-policy') : undefined).toBe(
        '"perMinute";q=2;w=60',
      );
    });
  });

  describe('refunds', () => {
    function refunding(options: Partial<RateLimitGuardOptions>) {
      const { limiter } = setup(perMinute(3));
      const guard = rateLimitGuard({ limiter, ...options });
      const remaining = (): number => (limiter.peek('203.0.113.7') as Decision).remaining;
      const run = (ended: Outcome): void => {
        const verdict = sync(guard(request()));
        if (verdict.action !== 'continue') throw new Error('expected continue');
        verdict.onComplete?.(ended);
      };
      return { limiter, remaining, run };
    }

    test('skipFailedRequests gives back failed and aborted requests only', () => {
      const { remaining, run } = refunding({ skipFailedRequests: true });
      run(outcome(500));
      run(outcome(404));
      run(outcome(499, { aborted: true }));
      expect(remaining()).toBe(3);
      run(outcome(200));
      run(outcome(302));
      expect(remaining()).toBe(1);
    });

    test('skipSuccessfulRequests gives back successful requests only', () => {
      const { remaining, run } = refunding({ skipSuccessfulRequests: true });
      run(outcome(200));
      run(outcome(304));
      expect(remaining()).toBe(3);
      run(outcome(500));
      expect(remaining()).toBe(2);
    });

    test('a refund that throws or rejects goes nowhere (no unhandled rejection)', async () => {
      const { limiter, run } = refunding({ skipFailedRequests: true });
      // Plain functions, not vi.fn: a mock subscribes to the promises it returns, which would hide
      // an unhandled rejection.
      const failures = [
        (): never => {
          throw new Error('refund threw');
        },
        (): Promise<boolean> => Promise.reject(new Error('refund rejected')),
      ];
      let calls = 0;
      limiter.refund = () => (failures[calls++] as () => boolean | Promise<boolean>)();
      expect(() => {
        run(outcome(500));
      }).not.toThrow();
      expect(() => {
        run(outcome(500));
      }).not.toThrow();
      expect(calls).toBe(2);
      // Vitest fails the run on an unhandled rejection; give it the turn to surface.
      await new Promise((resolve) => setImmediate(resolve));
    });
  });

  describe('options', () => {
    const { limiter } = setup(perMinute());
    test.each<[string, Record<string, unknown>]>([
      ['limiter', { limiter: undefined }],
      ['limiter', { limiter: {} }],
      ['key', { key: 'cookie' }],
      ['key.header', { key: { header: 'bad header' } }],
      ['ipv6Prefix', { ipv6Prefix: 0 }],
      ['ipv6Prefix', { ipv6Prefix: 129 }],
      ['onMissingKey', { onMissingKey: 'maybe' }],
      ['cost', { cost: -1 }],
      ['cost', { cost: Number.POSITIVE_INFINITY }],
      ['tier', { tier: 'gold' }],
      ['pool', { pool: 'team' }],
      ['skip', { skip: true }],
      ['allowList', { allowList: '127.0.0.1' }],
      ['allowList[1]', { allowList: ['127.0.0.1', ''] }],
      ['headers', { headers: 'ietf' }],
      ['message', { message: 42 }],
      ['skipFailedRequests', { skipFailedRequests: 'yes' }],
      ['skipSuccessfulRequests', { skipSuccessfulRequests: 1 }],
    ])('rejects a bad %s at construction, naming it', (option, bad) => {
      let thrown: unknown;
      try {
        rateLimitGuard({ limiter, ...bad });
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown)).toBe(true);
      expect(thrown).toMatchObject({ option });
    });
  });
});
