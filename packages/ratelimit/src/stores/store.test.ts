import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { hostileWords } from '../../test/hostile-keys.js';
import { fixedWindow } from '../algorithms/fixed-window.js';
import { gcra } from '../algorithms/gcra.js';
import { tokenBucket } from '../algorithms/token-bucket.js';
import type { Decision } from '../decision.js';
import { createRateLimiter, type RateLimiter } from '../limiter.js';
import { MemoryStore } from './memory-store.js';
import { stateOwner, storageKey, type RateLimitStore, type StoreDimension, type StoreSubject } from './store.js';

/**
 * What Redis Cluster hashes for a key (the cluster specification's rule): the text between the
 * first `{` and the first `}` after it when that is not empty, the whole key otherwise.
 */
function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** A valid prefix: no braces, whole characters; colons and escape-like text welcome. */
const prefix = fc
  .string({ unit: fc.constantFrom('a', 'b', ':', '%', '7', 'D', 'k', 'p', '\uD83D\uDE00'), minLength: 1, maxLength: 6 })
  .filter((p) => p.length <= 64);

interface Seen {
  readonly subject: StoreSubject;
  readonly dimensions: readonly StoreDimension[];
}

/** Two limiters (tiers sharing a dimension name, a pool limit named like a key limit) on one store. */
function limiters(prefixes: readonly string[], store: RateLimitStore): RateLimiter[] {
  return prefixes.map((p) =>
    createRateLimiter({
      store,
      prefix: p,
      tiers: {
        free: {
          daily: fixedWindow({ limit: 5, windowMs: 86_400_000 }),
          burst: tokenBucket({ capacity: 5, refillPerSecond: 1 }),
        },
        pro: { daily: fixedWindow({ limit: 50, windowMs: 86_400_000 }), burst: gcra({ limit: 50, periodMs: 1_000 }) },
      },
      poolLimits: { daily: fixedWindow({ limit: 500, windowMs: 86_400_000 }) },
    }),
  );
}

describe('storage keys', () => {
  test.prop(
    [
      fc.uniqueArray(prefix, { minLength: 2, maxLength: 2 }),
      hostileWords.chain((words) =>
        fc.array(
          fc.record({
            limiter: fc.constantFrom(0, 1),
            tier: fc.constantFrom('free', 'pro'),
            key: fc.constantFrom(...words),
            pool: fc.option(fc.constantFrom(...words), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
      ),
    ],
    { numRuns: 300 },
  )(
    'distinct (prefix, limit, algorithm, scope, pool, key) never share a Redis key or a memory state, and one call stays in one hash tag',
    (prefixes, calls) => {
      const memory = new MemoryStore({ clock: new ManualClock() });
      const seen: Seen[] = [];
      const store: RateLimitStore = {
        consume(subject, dimensions, cost) {
          seen.push({ subject, dimensions });
          return memory.consume(subject, dimensions, cost);
        },
        refund: () => undefined,
        reset: () => undefined,
      };
      const [a, b] = limiters(prefixes, store) as [RateLimiter, RateLimiter];
      const redisKeyOf = new Map<string, string>();
      const stateOf = new Map<string, string>();
      const whoseKey = new Map<string, string>();
      const whoseState = new Map<string, string>();
      for (const call of calls) {
        const options = { tier: call.tier, ...(call.pool === undefined ? {} : { pool: call.pool }) };
        const calledBefore = seen.length;
        const decision = (call.limiter === 0 ? a : b).limit(call.key, options) as Decision;
        // A call the deny cache answered reached no store: nothing of its own to check (reading
        // `seen.at(-1)` then paired this call's identities with an earlier call's keys).
        if (seen.length === calledBefore) continue;
        const { subject, dimensions } = seen.at(-1) as Seen;
        const tags = new Set<string>();
        for (const [i, d] of dimensions.entries()) {
          const usage = decision.dimensions[i];
          // Whose state this is, in the caller's terms: nothing about how it is stored.
          const identity = JSON.stringify(
            usage?.scope === 'pool'
              ? [prefixes[call.limiter], 'pool', usage.name, d.algorithm.kind, call.pool]
              : [prefixes[call.limiter], 'own', usage?.name, d.algorithm.kind, call.pool ?? null, call.key],
          );
          const key = storageKey(subject, d);
          const state = JSON.stringify([d.slot, stateOwner(subject, d)]);
          tags.add(hashedPart(key));
          expect(hashedPart(key)).not.toBe(key);
          // A bijection between identities and Redis keys, and between identities and memory states.
          expect(redisKeyOf.get(identity) ?? key).toBe(key);
          expect(whoseKey.get(key) ?? identity).toBe(identity);
          expect(stateOf.get(identity) ?? state).toBe(state);
          expect(whoseState.get(state) ?? identity).toBe(identity);
          redisKeyOf.set(identity, key);
          whoseKey.set(key, identity);
          stateOf.set(identity, state);
          whoseState.set(state, identity);
        }
        expect(tags.size).toBe(1);
      }
    },
  );
});
