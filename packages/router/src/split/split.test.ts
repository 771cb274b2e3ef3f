import { fc, test } from '@fast-check/vitest';
import { createGatewayRequest, isInvalidOptionError, type GatewayRequest, type GuardContext } from '@portcullis/core';
import { describe, expect } from 'vitest';
import { chooseVariant, type WeightedCandidate } from './choose.js';
import { seedOf } from './hash.js';
import { stickyKey } from './key.js';
import { createSplit } from './split.js';

function request(init: { headers?: Record<string, string>; ip?: string; context?: GuardContext }): GatewayRequest {
  const headers = init.headers ?? {};
  return createGatewayRequest({
    method: 'GET',
    url: '/checkout',
    header: (name) => headers[name],
    ip: init.ip,
    context: init.context,
  });
}

const NAMES = ['stable', 'canary', 'A', 'B'] as const;

function candidates(split: string, weights: readonly number[]): WeightedCandidate[] {
  return weights.map((weight, i) => ({ name: NAMES[i]!, weight, seed: seedOf(`${split}\u0000${NAMES[i]!}`) }));
}

const weights = fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 2, maxLength: 4 });
const key = fc.string({ minLength: 1, maxLength: 40 });

describe('sticky weighted assignment', () => {
  test.prop([fc.string({ minLength: 1 }), weights, fc.array(key, { minLength: 1, maxLength: 50 })], { numRuns: 300 })(
    'is stable for a key: the same variant on every call and in every split built the same way',
    (name, w, keys) => {
      const a = createSplit({ name, variants: w.map((weight, i) => ({ name: NAMES[i]!, weight })) });
      const b = createSplit({ name, variants: w.map((weight, i) => ({ name: NAMES[i]!, weight })) });
      for (const k of keys) {
        const req = request({ ip: k });
        const first = a.assign(req);
        expect(a.assign(req)).toEqual(first);
        expect(b.assign(req)).toEqual(first);
      }
    },
  );

  test.prop(
    [
      fc.string({ minLength: 1 }),
      weights,
      fc.nat(3),
      fc.integer({ min: 1, max: 100 }),
      fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 4, maxLength: 4 }),
    ],
    { numRuns: 300 },
  )(
    'is monotone under ramp-up: raising a variant (and lowering any other) never moves a key out of it, and keys only move into it',
    (name, before, raisedIndex, raise, lowerBy) => {
      const v = raisedIndex % before.length;
      const after = before.map((w, i) => (i === v ? w + raise : Math.max(0, w - lowerBy[i]!)));
      const was = candidates(name, before);
      const now = candidates(name, after);
      const raised = NAMES[v]!;
      const violations: string[] = [];
      for (let i = 0; i < 1_000; i++) {
        const k = `user-${String(i)}`;
        const old = chooseVariant(was, k);
        const fresh = chooseVariant(now, k);
        if (old === raised && fresh !== raised) violations.push(`${k} left ${raised}`);
        // A key leaves its variant only for the raised one, or because its own weight went down.
        if (fresh !== old && old !== undefined && fresh !== raised) {
          const oldIndex = NAMES.indexOf(old as (typeof NAMES)[number]);
          if (!(after[oldIndex]! < before[oldIndex]!)) violations.push(`${k} moved ${old} -> ${String(fresh)}`);
        }
      }
      expect(violations).toEqual([]);
    },
  );

  // With n keys and share p, a variant's count is Binomial(n, p) if the hash behaves like a random
  // function: we accept |count - n·p| <= 5·sqrt(n·p·(1-p)) (five standard deviations; a correct
  // implementation fails one check in ~1.7 million).
  test.prop([fc.string({ minLength: 1, maxLength: 20 }), weights.filter((w) => w.some((x) => x > 0))], {
    numRuns: 40,
  })('gives each variant a share of many keys within the binomial bound of its weight', (name, w) => {
    const n = 20_000;
    const total = w.reduce((a, b) => a + b, 0);
    const counts = new Map<string, number>();
    const c = candidates(name, w);
    for (let i = 0; i < n; i++) {
      const chosen = chooseVariant(c, `visitor:${String(i)}:${name}`)!;
      counts.set(chosen, (counts.get(chosen) ?? 0) + 1);
    }
    w.forEach((weight, i) => {
      const p = weight / total;
      const count = counts.get(NAMES[i]!) ?? 0;
      const bound = 5 * Math.sqrt(n * p * (1 - p));
      expect({ variant: NAMES[i], p, count, within: Math.abs(count - n * p) <= bound }).toMatchObject({
        within: true,
      });
    });
  });

  test('chooses nothing when no weight is positive, and never a variant of weight 0', () => {
    expect(chooseVariant(candidates('s', [0, 0]), 'k')).toBeUndefined();
    for (let i = 0; i < 1_000; i++) expect(chooseVariant(candidates('s', [0, 7, 0]), `k${String(i)}`)).toBe('canary');
  });
});

describe('createSplit', () => {
  const variants = [
    { name: 'stable', weight: 100 },
    { name: 'canary', weight: 0 },
  ];

  test('x-canary: always sends to the canary even at weight 0, never sends to the baseline', () => {
    const split = createSplit({ name: 'api', variants });
    expect(split.assign(request({ ip: '1.2.3.4', headers: { 'x-canary': 'always' } }))).toEqual({
      variant: 'canary',
      reason: 'override',
    });
    split.setWeights({ stable: 0, canary: 100 });
    expect(split.assign(request({ ip: '1.2.3.4', headers: { 'x-canary': 'never' } }))).toEqual({
      variant: 'stable',
      reason: 'override',
    });
    expect(split.assign(request({ ip: '1.2.3.4', headers: { 'x-canary': 'bogus' } }))).toEqual({
      variant: 'canary',
      reason: 'weight',
    });
  });

  test('overrides by cookie, by variant name, only for requests `allow` accepts, and not when turned off', () => {
    const split = createSplit({
      name: 'api',
      variants: [...variants, { name: 'B', weight: 0 }],
      override: { cookie: 'canary', allow: (req) => req.context['staff'] === true },
    });
    const staff = { staff: true };
    expect(split.assign(request({ headers: { cookie: 'a=1; canary=B' }, context: staff })).variant).toBe('B');
    expect(split.assign(request({ headers: { 'x-canary': 'always' }, context: staff })).variant).toBe('canary');
    expect(split.assign(request({ headers: { 'x-canary': 'always' }, ip: '10.0.0.1' }))).toEqual({
      variant: 'stable',
      reason: 'weight',
    });
    const off = createSplit({ name: 'api', variants, override: false });
    expect(off.assign(request({ headers: { 'x-canary': 'always' }, ip: '10.0.0.1' })).variant).toBe('stable');
  });

  test('a segment limits who can get a variant by weight', () => {
    const split = createSplit({
      name: 'api',
      variants: [
        { name: 'stable', weight: 1 },
        { name: 'canary', weight: 1_000_000, segment: (req) => req.context['tier'] === 'free' },
      ],
    });
    for (let i = 0; i < 200; i++) {
      const ip = `10.0.0.${String(i)}`;
      expect(split.assign(request({ ip, context: { tier: 'pro' } })).variant).toBe('stable');
    }
    const free = Array.from({ length: 200 }, (_, i) =>
      split.assign(request({ ip: `10.0.1.${String(i)}`, context: { tier: 'free' } })),
    );
    expect(free.filter((a) => a.variant === 'canary').length).toBeGreaterThan(195);
  });

  test('a flag that is on for the request wins over weights; a throwing flag source counts as off', () => {
    const split = createSplit({
      name: 'api',
      variants: [
        { name: 'stable', weight: 100 },
        { name: 'new-checkout', flag: 'new-checkout' },
      ],
      flags: (flag, req) => {
        if (req.context['broken'] === true) throw new Error('provider down');
        return flag === 'new-checkout' && req.context['beta'] === true;
      },
    });
    expect(split.assign(request({ ip: '1.1.1.1', context: { beta: true } }))).toEqual({
      variant: 'new-checkout',
      reason: 'flag',
    });
    expect(split.assign(request({ ip: '1.1.1.1' })).variant).toBe('stable');
    expect(split.assign(request({ ip: '1.1.1.1', context: { broken: true } })).variant).toBe('stable');
  });

  test('a throwing key, segment or override allow never breaks routing: the request falls back', () => {
    const boom = (): never => {
      throw new Error('user code broke');
    };
    const brokenKey = createSplit({
      name: 'api',
      variants: [{ name: 'stable' }, { name: 'canary', weight: 100 }],
      key: boom,
    });
    expect(brokenKey.assign(request({ ip: '1.1.1.1' }))).toEqual({ variant: 'stable', reason: 'baseline' });

    const brokenSegment = createSplit({
      name: 'api',
      variants: [
        { name: 'stable', weight: 1 },
        { name: 'canary', weight: 1_000_000, segment: boom },
      ],
    });
    // The segment counts as not accepting: only the stable variant is left.
    for (let i = 0; i < 20; i++) {
      expect(brokenSegment.assign(request({ ip: `10.0.0.${String(i)}` }))).toEqual({
        variant: 'stable',
        reason: 'weight',
      });
    }

    const brokenAllow = createSplit({
      name: 'api',
      variants: [{ name: 'stable', weight: 100 }, { name: 'canary' }],
      override: { allow: boom },
    });
    // The override counts as not allowed: the weights decide.
    expect(brokenAllow.assign(request({ ip: '1.1.1.1', headers: { 'x-canary': 'always' } }))).toEqual({
      variant: 'stable',
      reason: 'weight',
    });
  });

  test('a request without any key goes to the baseline', () => {
    const split = createSplit({ name: 'api', variants: [{ name: 'stable' }, { name: 'canary', weight: 100 }] });
    expect(split.assign(request({}))).toEqual({ variant: 'stable', reason: 'baseline' });
  });

  test('the sticky key prefers the user id, then the cookie, then the header, then the IP', () => {
    const key = stickyKey({ user: (ctx) => ctx['user'], cookie: 'vid', header: 'x-device' });
    expect(key(request({ context: { user: 42 }, headers: { cookie: 'vid=c' }, ip: '1.1.1.1' }))).toBe('42');
    expect(key(request({ headers: { cookie: 'vid=c', 'x-device': 'd' }, ip: '1.1.1.1' }))).toBe('c');
    expect(key(request({ headers: { 'x-device': 'd' }, ip: '1.1.1.1' }))).toBe('d');
    expect(key(request({ ip: '1.1.1.1' }))).toBe('1.1.1.1');
    expect(stickyKey({ ip: false })(request({ ip: '1.1.1.1' }))).toBeUndefined();
    expect(key(request({ headers: { 'x-device': 'x'.repeat(10_000) } }))).toHaveLength(512);
  });

  test('header names given in any case read the header (key and override)', () => {
    const key = stickyKey({ header: 'X-Device', ip: false });
    expect(key(request({ headers: { 'x-device': 'd' } }))).toBe('d');
    const split = createSplit({ name: 'api', variants, key, override: { header: 'X-Canary-Override' } });
    expect(split.assign(request({ headers: { 'x-canary-override': 'always' } }))).toEqual({
      variant: 'canary',
      reason: 'override',
    });
  });

  test.each([
    [{ name: '', variants }, 'name'],
    [{ name: 'a', variants: [] }, 'variants'],
    [{ name: 'a', variants: [{ name: 'x' }, { name: 'x' }] }, 'variants.1.name'],
    [{ name: 'a', variants: [{ name: 'x', weight: -1 }] }, 'variants.0.weight'],
    [{ name: 'a', variants: [{ name: 'x', weight: Number.NaN }] }, 'variants.0.weight'],
    [{ name: 'a', variants, baseline: 'nope' }, 'baseline'],
    [{ name: 'a', variants: [{ name: 'x', flag: 'f' }] }, 'flags'],
    [{ name: 'a', variants, override: { always: 'nope' } }, 'override.always'],
  ])('rejects bad options with an InvalidOptionError naming the option (%#)', (options, option) => {
    expect(() => createSplit(options)).toThrow(expect.objectContaining({ option, isInvalidOptionError: true }));
  });

  test('setWeights rejects an unknown variant or a bad weight and changes nothing', () => {
    const split = createSplit({ name: 'api', variants });
    for (const bad of [
      { stable: 50, nope: 1 },
      { stable: 50, canary: -1 },
    ]) {
      let error: unknown;
      try {
        split.setWeights(bad);
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error)).toBe(true);
    }
    expect(split.weights()).toEqual({ stable: 100, canary: 0 });
  });
});
