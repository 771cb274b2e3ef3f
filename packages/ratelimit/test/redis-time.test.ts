import { ManualClock } from '@portcullis/testkit';
import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  calendarWindow,
  createRateLimiter,
  fixedWindow,
  gcra,
  MemoryStore,
  RedisStore,
  slidingLog,
  tokenBucket,
  type Decision,
  type Policy,
  type RateLimiter,
} from '../src/index.js';
import { MAX_STATE_TTL_MS } from '../src/stores/redis/script.js';
import { client, redis, useRedisServer } from './redis-fixture.js';

/*
 * Time on Redis: calendar windows where the UTC offset changes, refunds of charges sharing a
 * millisecond, and expiries far beyond what a `SET … PX` written as text in exponent form accepts.
 */

let run = 0;
useRedisServer();

afterEach(() => {
  vi.useRealTimers();
});

/** A fresh key prefix per limiter pair, so tests never see each other's state. */
function freshPrefix(): string {
  run++;
  return `${redis.prefix}time${String(run)}`;
}

/** The expiry (PTTL, ms) of every key matching `prefix` + `pattern`. */
async function expiries(prefix: string, pattern = '*'): Promise<number[]> {
  const found: number[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}${pattern}`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) found.push(await client.pttl(key));
  } while (cursor !== '0');
  return found;
}

/** The same policy on a memory store and on Redis, both deciding at `clock`'s time. */
function pair(
  policy: Policy,
  clock: ManualClock,
  poolLimits?: Policy,
): { memory: RateLimiter; shared: RateLimiter; prefix: string } {
  const prefix = freshPrefix();
  const common = { clock, limits: policy, prefix, ...(poolLimits === undefined ? {} : { poolLimits }) };
  return {
    prefix,
    memory: createRateLimiter({ ...common, store: new MemoryStore({ clock }) }),
    // Not a timeout test: on a loaded machine a 50 ms budget would turn decisions into fail-opens.
    shared: createRateLimiter({
      ...common,
      store: new RedisStore({ client, time: clock }),
      denyCache: false,
      timeoutMs: 10_000,
    }),
  };
}

/** What must agree between stores (the source differs by design). */
const comparable = (d: Decision) => ({ ...d, source: undefined });

describe('calendar windows where the offset changes, on Redis', () => {
  test.each([
    // Paris, spring forward (02:00 CET at 01:00 UTC becomes 03:00 CEST): from 01:30 CET on.
    ['Europe/Paris', 'hour', Date.UTC(2026, 2, 29, 0, 30)],
    // Paris, fall back: the first of the two 02:30s, then across the change.
    ['Europe/Paris', 'hour', Date.UTC(2026, 9, 25, 0, 30)],
    // Lord Howe, 02:00 +10:30 becomes 02:30 +11 (15:30 UTC): a 30-minute hour after it.
    ['Australia/Lord_Howe', 'hour', Date.UTC(2026, 9, 3, 15, 10)],
    // Cairo: 00:00 EET does not exist on 24 April 2026; that day starts at the jump.
    ['Africa/Cairo', 'day', Date.UTC(2026, 3, 23, 21, 30)],
    // Beirut: 00:00 EEST becomes 23:00 EET on Saturday 24 October 2026 (local): a 25-hour Saturday.
    ['Asia/Beirut', 'day', Date.UTC(2026, 9, 24, 20, 30)],
  ] as const)(
    '%s %s windows from %i: memory and Redis decide alike, the window’s counter expires when it ends',
    async (zone, unit, from) => {
      const clock = new ManualClock(from);
      const { memory, shared, prefix } = pair({ q: fixedWindow({ limit: 2, calendar: unit, timeZone: zone }) }, clock);
      const windows = calendarWindow(unit, zone);
      for (let step = 0; step < 12; step++) {
        const m = await memory.limit('k');
        const r = await shared.limit('k');
        expect(r.source).toBe('store');
        expect(comparable(r)).toEqual(comparable(m));
        expect(m.resetAt).toBeGreaterThan(clock.now());
        if (m.allowed) {
          // Just written: Redis holds the window's usage (its own key, named after the window's
          // start) until the window ends (not for 1 ms, not past it).
          const left = m.resetAt - clock.now();
          const [start] = windows.bounds(clock.now());
          const ttls = await expiries(prefix, `*:fw@${String(start)}:*`);
          expect(ttls).toHaveLength(1);
          for (const ttl of ttls) {
            expect(ttl).toBeLessThanOrEqual(left);
            expect(ttl).toBeGreaterThan(left - 5_000);
          }
          clock.advance(7 * 60_000);
        } else {
          expect(m.retryAfterMs).toBeGreaterThan(0);
          // Retry when told: the next window admits again.
          clock.advance(m.retryAfterMs);
        }
      }
    },
  );

  test('a gateway clock a year behind Redis: windows hold the server’s now, exactly once the skew is seen', async () => {
    // Only this process's `Date` is off; Redis decides by its own TIME.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 365 * 86_400_000);
    const prefix = freshPrefix();
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      clock: new ManualClock(0),
      limits: {
        hourly: fixedWindow({ limit: 3, calendar: 'hour', timeZone: 'Europe/Paris' }),
        monthly: fixedWindow({ limit: 1_000, calendar: 'month', timeZone: 'Europe/Paris' }),
      },
      prefix,
      denyCache: false,
      timeoutMs: 10_000,
    });
    const decisions: Decision[] = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.limit('k'));
    expect(decisions.map((d) => [d.allowed, d.source])).toEqual([
      [true, 'store'],
      [true, 'store'],
      [true, 'store'],
      [false, 'store'],
    ]);
    // Even the first decision, sent with boundaries a year old, counted in the server's hour.
    const denied = decisions[3] as Decision;
    const hourEnd = Math.floor(denied.decidedAt / 3_600_000) * 3_600_000 + 3_600_000; // Paris hours are UTC hours
    expect(denied.resetAt).toBe(hourEnd);
    expect(denied.retryAfterMs).toBe(hourEnd - denied.decidedAt);
    // Once the first reply showed the server's time, the boundaries sent are the server's own.
    const month = calendarWindow('month', 'Europe/Paris');
    for (const d of decisions.slice(1)) expect(d.dimensions[1]?.resetAt).toBe(month.bounds(d.decidedAt)[1]);
    for (const ttl of await expiries(prefix)) expect(ttl).toBeGreaterThan(0);
  });
});

describe('fixed windows named from a guess of the server’s time', () => {
  test.each([
    ['ahead', 2],
    ['behind', -2],
  ] as const)(
    'a gateway clock two windows %s: the wrong window is left untouched, the decision counts in the server’s',
    async (_, windows) => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + windows * 3_600_000);
      const prefix = freshPrefix();
      const limiter = createRateLimiter({
        store: new RedisStore({ client }),
        limits: { hourly: fixedWindow({ limit: 3, windowMs: 3_600_000 }) },
        prefix,
        denyCache: false,
        timeoutMs: 10_000,
      });
      await client.config('RESETSTAT');
      const first = await limiter.limit('k');
      const second = await limiter.limit('k');
      expect([first, second].map((d) => [d.source, d.allowed, d.remaining])).toEqual([
        ['store', true, 2],
        ['store', true, 1],
      ]);
      // One counter, the server's window's; the guessed window's key was charged and taken back.
      const start = Math.floor(second.decidedAt / 3_600_000) * 3_600_000;
      const keys = await client.keys(`${prefix}*`);
      expect(keys).toEqual([`${prefix}:{k}:hourly:fw@${String(start)}:k:k`]);
      expect(await client.get(keys[0] as string)).toBe('2');
      // The first decision was sent twice (the reply showed the server's time), the second once.
      expect(await client.info('commandstats')).toMatch(/cmdstat_evalsha:calls=3,/);
    },
  );
});

describe('sliding-log refunds on memory and Redis', () => {
  test('a refund gives back its own decision’s units when a pool’s charges share a millisecond', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const { memory, shared } = pair({ own: slidingLog({ limit: 10, windowMs: 60_000 }) }, clock, {
      team: slidingLog({ limit: 10, windowMs: 60_000 }),
    });
    for (const limiter of [memory, shared]) {
      // Alice and Bob charge the team in the same millisecond (on Redis, one script call).
      const [alice, bob] = await Promise.all([
        limiter.limit('alice', { pool: 'acme', cost: 1 }),
        limiter.limit('bob', { pool: 'acme', cost: 3 }),
      ]);
      expect(alice.decidedAt).toBe(bob.decidedAt);
      expect(await limiter.refund(bob)).toBe(true);
      const usage = async (user: string): Promise<number[]> =>
        (await limiter.peek(user, { pool: 'acme' })).dimensions.map((d) => d.remaining);
      // [own, team]: Bob's 3 are back to him and to the team; Alice's unit stays charged.
      expect(await usage('bob')).toEqual([10, 9]);
      expect(await usage('alice')).toEqual([9, 9]);
    }
  });

  test('on Redis with its own clock: two charges of a batch share TIME, and a refund returns its own cost', async () => {
    const prefix = freshPrefix();
    const limiter = createRateLimiter({
      store: new RedisStore({ client }),
      limits: { log: slidingLog({ limit: 10, windowMs: 3_600_000 }) },
      prefix,
      denyCache: false,
      timeoutMs: 10_000,
    });
    const [small, large] = await Promise.all([limiter.limit('k', { cost: 1 }), limiter.limit('k', { cost: 3 })]);
    expect(small.decidedAt).toBe(large.decidedAt);
    expect(await limiter.refund(large)).toBe(true);
    expect((await limiter.peek('k')).remaining).toBe(9);
    expect(await limiter.refund(small)).toBe(true);
    expect((await limiter.peek('k')).remaining).toBe(10);
  });
});

describe('expiries beyond what Redis reads in exponent form', () => {
  test.each([
    ['a token bucket refilling at 1e-12 per second', tokenBucket({ capacity: 100, refillPerSecond: 1e-12 })],
    ['a GCRA of one unit per 1e18 ms', gcra({ limit: 100, periodMs: 1e20, burst: 100 })],
  ])('%s enforces on Redis as in memory (no fail-open), and its key lives the longest TTL', async (_, algorithm) => {
    const clock = new ManualClock(1_800_000_000_000);
    const { memory, shared, prefix } = pair({ lifetime: algorithm }, clock);
    const errors: unknown[] = [];
    shared.events.on('storeError', ({ error }) => errors.push(error));
    for (const cost of [100, 1, 1]) {
      clock.advance(1_000);
      const m = await memory.limit('k', { cost });
      const r = await shared.limit('k', { cost });
      expect(r.source).toBe('store');
      expect(comparable(r)).toEqual(comparable(m));
    }
    expect(errors).toEqual([]);
    expect((await memory.limit('k')).allowed).toBe(false);
    const [ttl, ...others] = await expiries(prefix);
    expect(others).toEqual([]);
    expect(ttl).toBeLessThanOrEqual(MAX_STATE_TTL_MS);
    expect(ttl).toBeGreaterThan(MAX_STATE_TTL_MS - 60_000);
  });
});
