import { createHash } from 'node:crypto';
import { fc } from '@fast-check/vitest';
import { expect } from 'vitest';
import { fixedWindow, gcra, tokenBucket, type Policy, type RateLimiter } from '../src/index.js';
import { normaliseKey, redisKeyPart } from '../src/key.js';

/** Any UTF-16 code unit, lone surrogates included (fast-check's `'binary'` unit never makes one). */
export const anyCodeUnit: fc.Arbitrary<string> = fc
  .integer({ min: 0, max: 0xffff })
  .map((unit) => String.fromCharCode(unit));

/** Units aimed at the encoding: hash-tag braces, its escape and what escapes look like, surrogates. */
const trickyUnit: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '{',
      '}',
      '%',
      ':',
      'h',
      'u',
      '7',
      'B',
      'D',
      '2',
      '5',
      '\uD800',
      '\uDBFF',
      '\uDC00',
      '\uDFFF',
      '\uFFFD',
      '\uD83D\uDE00',
      '\u0000',
    ),
  },
  { weight: 1, arbitrary: anyCodeUnit },
);

/**
 * Keys a client could send: braces-heavy, any code point, any code unit (lone surrogates), and
 * lengths around the point where keys are hashed.
 */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: trickyUnit, minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }),
  fc.string({ unit: anyCodeUnit, minLength: 1, maxLength: 24 }),
  fc.string({ unit: trickyUnit, minLength: 190, maxLength: 260 }),
);

/**
 * Keys built to collide with `key`: what it is stored as (its id, its text in a Redis key, its
 * former hashed form), its lone surrogates replaced by others or by U+FFFD (what UTF-8 makes of
 * them), braces and escapes added.
 */
export function lookalikes(key: string): string[] {
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
  return [
    normaliseKey(key),
    redisKeyPart(normaliseKey(key)),
    `%${key}`,
    `h:${createHash('sha256').update(key).digest('base64url')}`,
    key.replace(lone, '\uFFFD'),
    key.replace(lone, (s) => (s === '\uD800' ? '\uDFFF' : '\uD800')),
    `}${key}`,
    `{${key}}`,
    `${key}}`,
  ];
}

/** A few hostile keys and their lookalikes, all distinct: the words of one generated run. */
export const hostileWords: fc.Arbitrary<string[]> = fc
  .uniqueArray(hostileKey, { minLength: 1, maxLength: 4 })
  .chain((keys) => {
    const words = [...new Set([...keys, ...keys.flatMap(lookalikes)])];
    return fc.shuffledSubarray(words, { minLength: 2, maxLength: Math.min(8, words.length) });
  });

/** One step of a run against {@link checkModel}. */
export type KeyStep =
  | { readonly op: 'limit' | 'reset'; readonly key: string; readonly pool: string | undefined }
  | { readonly op: 'resetPool'; readonly pool: string };

/** Runs of steps over a few hostile words (used as keys and as pools), so words repeat. */
export const keySteps: fc.Arbitrary<KeyStep[]> = hostileWords.chain((words) => {
  const word = fc.constantFrom(...words);
  const pool = fc.option(word, { nil: undefined, freq: 2 });
  return fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fc.record({ op: fc.constant('limit' as const), key: word, pool }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('reset' as const), key: word, pool }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('resetPool' as const), pool: word }) },
    ),
    { minLength: 1, maxLength: 30 },
  );
});

/** How many of a pool's calls its shared limit admits in {@link modelPolicy}. */
export const TEAM_LIMIT = 2;

/**
 * Two dimensions of one unit per own key (so a shared counter shows as a denial) and two pool
 * dimensions, one of which admits {@link TEAM_LIMIT} per pool: every call touches several keys, so
 * on a Cluster they must all be in one slot.
 */
export const modelPolicy: { readonly limits: Policy; readonly poolLimits: Policy } = {
  limits: {
    own: fixedWindow({ limit: 1, windowMs: 3_600_000 }),
    burst: tokenBucket({ capacity: 1_000, refillPerSecond: 1 }),
  },
  poolLimits: {
    team: fixedWindow({ limit: TEAM_LIMIT, windowMs: 3_600_000 }),
    teamRate: gcra({ limit: 1_000, periodMs: 1_000 }),
  },
};

/**
 * Plays `steps` on a limiter built with {@link modelPolicy} (at a fixed time) and checks every
 * decision against a model that knows nothing of storage: a caller's own unit is spent once per
 * (pool or none, key) as JavaScript compares strings, a pool admits {@link TEAM_LIMIT} calls, a
 * denied call spends nothing, `reset(key, { pool })` forgets the key's own units (plain and under
 * that pool) and `resetPool(pool)` the pool's. Every decision must come from the store.
 */
export async function checkModel(limiter: RateLimiter, steps: readonly KeyStep[]): Promise<void> {
  const own = new Set<string>();
  const team = new Map<string, number>();
  const ownId = (pool: string | undefined, key: string): string => JSON.stringify([pool ?? null, key]);
  for (const step of steps) {
    if (step.op === 'resetPool') {
      await limiter.resetPool(step.pool);
      team.delete(step.pool);
    } else if (step.op === 'reset') {
      await limiter.reset(step.key, step.pool === undefined ? {} : { pool: step.pool });
      own.delete(ownId(undefined, step.key));
      own.delete(ownId(step.pool, step.key));
    } else {
      const decision = await limiter.limit(step.key, step.pool === undefined ? {} : { pool: step.pool });
      const spent = step.pool === undefined ? 0 : (team.get(step.pool) ?? 0);
      const expected = !own.has(ownId(step.pool, step.key)) && spent < TEAM_LIMIT;
      expect({ step, source: decision.source, allowed: decision.allowed }).toEqual({
        step,
        source: 'store',
        allowed: expected,
      });
      if (expected) {
        own.add(ownId(step.pool, step.key));
        if (step.pool !== undefined) team.set(step.pool, spent + 1);
      }
    }
  }
}
