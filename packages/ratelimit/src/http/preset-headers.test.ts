import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import type { Decision, DimensionUsage } from '../decision.js';
import { HEADER_STYLES, rateLimitHeaders } from './headers.js';
import { presetHeaders, type HeaderPair } from './preset-headers.js';

const NAMES = ['content-type', 'ratelimit', 'ratelimit-policy', 'retry-after', 'set-cookie', 'x-ratelimit-limit'];
const name = fc.constantFrom(...NAMES, 'RateLimit', 'X-Other');
const value = fc.constantFrom('1', '"perSecond";r=4;t=1', 'a=b', '', 'x, y');

/** Unique preset names in ascending order, as the guard builds them. */
const preset = fc
  .subarray(NAMES)
  .chain((names) => fc.tuple(...names.map((n) => fc.tuple(fc.constant(n), value))))
  .map((pairs) => pairs.map(([n, v]): HeaderPair => [n, v]));

type Op =
  | { op: 'iterate' | 'entries' | 'keys' | 'values' | 'forEach' | 'getSetCookie' | 'copy' }
  | { op: 'get' | 'has' | 'delete'; name: string }
  | { op: 'set' | 'append'; name: string; value: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('iterate', 'entries', 'keys', 'values', 'forEach', 'getSetCookie', 'copy') }),
  fc.record({ op: fc.constantFrom('get', 'has', 'delete'), name }),
  fc.record({ op: fc.constantFrom('set', 'append'), name, value }),
);

function apply(headers: Headers, step: Op): unknown {
  switch (step.op) {
    case 'iterate':
      return [...headers];
    case 'entries':
      return [...headers.entries()];
    case 'keys':
      return [...headers.keys()];
    case 'values':
      return [...headers.values()];
    case 'forEach': {
      const seen: string[][] = [];
      headers.forEach((v, k) => seen.push([k, v]));
      return seen;
    }
    case 'getSetCookie':
      return headers.getSetCookie();
    case 'copy':
      return [...new Headers(headers)];
    case 'get':
      return headers.get(step.name);
    case 'has':
      return headers.has(step.name);
    case 'delete':
      headers.delete(step.name);
      return undefined;
    case 'set':
      headers.set(step.name, step.value);
      return undefined;
    case 'append':
      headers.append(step.name, step.value);
      return undefined;
  }
}

describe('preset headers', () => {
  test.prop([preset, fc.array(op, { maxLength: 12 })], { numRuns: 500 })(
    'read and change exactly as a Headers given the same fields, whatever is called in which order',
    (pairs, ops) => {
      const fast = presetHeaders(pairs.map(([n, v]): HeaderPair => [n, v]));
      const real = new Headers(pairs);
      expect(fast).toBeInstanceOf(Headers);
      for (const step of ops) expect(apply(fast, step)).toEqual(apply(real, step));
      expect([...fast]).toEqual([...real]);
    },
  );

  const figure = fc.oneof(fc.integer({ min: 0, max: 1e6 }), fc.double({ min: 0, max: 1e300, noNaN: true }));
  const dimension: fc.Arbitrary<DimensionUsage> = fc.record({
    name: fc.constantFrom('perSecond', 'daily', 'monthly', 'a"b\\c'),
    scope: fc.constantFrom('key' as const, 'pool' as const),
    allowed: fc.boolean(),
    limit: figure,
    windowMs: figure,
    remaining: figure,
    overage: fc.constant(0),
    resetAt: figure,
    retryAfterMs: figure,
  });
  test.prop(
    [
      fc.array(dimension, { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      fc.constantFrom('store' as const, 'fail-open' as const, 'deny-cache' as const),
      fc.constantFrom(...HEADER_STYLES),
    ],
    { numRuns: 300 },
  )(
    'the rate-limit headers come valid, unique and in the order Headers keeps them',
    (dimensions, allowed, source, style) => {
      const d = dimensions[0] as DimensionUsage;
      const decision: Decision = {
        allowed,
        cost: 1,
        reportedBy: d.name,
        remaining: d.remaining,
        limit: d.limit,
        windowMs: d.windowMs,
        resetAt: d.resetAt,
        retryAfterMs: allowed ? 0 : d.retryAfterMs,
        limitedBy: allowed ? undefined : d.name,
        overLimit: false,
        dimensions,
        decidedAt: 0,
        source,
      };
      const pairs = rateLimitHeaders(decision, style);
      expect(pairs.length).toBeGreaterThan(0);
      expect([...new Headers(pairs)]).toEqual(pairs);
    },
  );
});
