import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect } from 'vitest';
import { createBreaker, type Breaker } from '../breaker.js';
import { failureRate } from './failure-rate.js';
import { slowCallRate } from './slow-call-rate.js';
import type { SlidingWindow } from './window.js';

type Kind = 'failures' | 'slow calls';

const SLOW_MS = 100;

/**
 * A breaker with one rate policy of `kind` whose window holds `calls` calls and whose minimum is
 * `calls`, so the rate is judged once, after the last call.
 */
function rateBreaker(kind: Kind, threshold: number, calls: number, timeWindow: boolean) {
  const clock = new ManualClock();
  const window: SlidingWindow = timeWindow ? { durationMs: 1e12 } : { calls };
  const trip =
    kind === 'failures'
      ? failureRate({ threshold, minimumCalls: calls, window })
      : slowCallRate({ slowerThanMs: SLOW_MS, threshold, minimumCalls: calls, window });
  return { clock, breaker: createBreaker({ clock, trip }) };
}

/** Runs `calls` calls of which the last `bad` fail (or are slow); returns whether the breaker opened. */
function opensAfter(kind: Kind, threshold: number, calls: number, bad: number, timeWindow: boolean): boolean {
  const { clock, breaker } = rateBreaker(kind, threshold, calls, timeWindow);
  let openedEarly = false;
  for (let i = 0; i < calls; i++) {
    record(breaker, clock, kind, i >= calls - bad);
    if (i < calls - 1 && breaker.state !== 'closed') openedEarly = true;
  }
  expect(openedEarly).toBe(false);
  return breaker.state === 'open';
}

function record(breaker: Breaker, clock: ManualClock, kind: Kind, bad: boolean): void {
  const permit = breaker.acquire();
  if (kind === 'failures') {
    if (bad) permit.failure();
    else permit.success();
    return;
  }
  if (bad) clock.advance(SLOW_MS + 1);
  permit.success();
}

/** A threshold written as a decimal with `places` decimal places: `digits / 10^places`. */
const decimalArb = fc
  .integer({ min: 1, max: 4 })
  .chain((places) => fc.record({ places: fc.constant(places), digits: fc.integer({ min: 1, max: 10 ** places }) }));

/** The decimal as written (`0.07`), parsed as JavaScript reads the literal. */
function written({ digits, places }: { digits: number; places: number }): number {
  return Number(`${String(Math.trunc(digits / 10 ** places))}.${String(digits % 10 ** places).padStart(places, '0')}`);
}

/** Exactly: bad / calls >= digits / 10^places, in integers. */
function reaches(bad: number, calls: number, { digits, places }: { digits: number; places: number }): boolean {
  return BigInt(bad) * 10n ** BigInt(places) >= BigInt(digits) * BigInt(calls);
}

const kindArb = fc.constantFrom<Kind>('failures', 'slow calls');

describe('rate thresholds are compared exactly with the decimal written', () => {
  test.each<[Kind, number, number, number]>([
    ['failures', 0.07, 7, 100],
    ['failures', 0.55, 55, 100],
    ['slow calls', 0.28, 7, 25],
    ['failures', 0.1, 3, 30],
    ['slow calls', 0.7, 7, 10],
  ])('%s: a rate exactly at %d (%d of %d) opens the breaker; one fewer does not', (kind, threshold, bad, calls) => {
    expect(opensAfter(kind, threshold, calls, bad, false)).toBe(true);
    expect(opensAfter(kind, threshold, calls, bad, true)).toBe(true);
    expect(opensAfter(kind, threshold, calls, bad - 1, false)).toBe(false);
  });

  test.prop([kindArb, decimalArb, fc.integer({ min: 1, max: 5 }), fc.constantFrom(-1, 0), fc.boolean()], {
    numRuns: 1_000,
  })(
    'at every exact boundary (bad / calls equal to the threshold) it opens, and one bad call fewer it does not',
    (kind, decimal, multiple, offset, timeWindow) => {
      // The smallest number of calls for which the threshold is a whole number of them, times `multiple`.
      const places = 10n ** BigInt(decimal.places);
      const reduced = places / gcd(BigInt(decimal.digits), places);
      const calls = Number(reduced) * multiple;
      const boundary = Number((BigInt(decimal.digits) * BigInt(calls)) / places);
      const bad = boundary + offset;
      const threshold = written(decimal);
      expect(opensAfter(kind, threshold, calls, bad, timeWindow)).toBe(offset === 0);
    },
  );

  test.prop(
    [
      kindArb,
      decimalArb,
      fc
        .integer({ min: 1, max: 2_000 })
        .chain((calls) => fc.record({ calls: fc.constant(calls), bad: fc.integer({ min: 0, max: calls }) })),
      fc.boolean(),
    ],
    { numRuns: 1_000 },
  )('for any counts, it opens if and only if bad / calls >= threshold', (kind, decimal, { calls, bad }, timeWindow) => {
    expect(opensAfter(kind, written(decimal), calls, bad, timeWindow)).toBe(reaches(bad, calls, decimal));
  });
});

describe('minimumCalls and a count window', () => {
  test('a minimum above the window size is capped at it (as Resilience4j): the default 20 with a window of 10', () => {
    const capped = createBreaker({ trip: failureRate({ threshold: 0.5, window: { calls: 10 } }) });
    for (let i = 0; i < 9; i++) capped.acquire().failure();
    expect(capped.state).toBe('closed');
    capped.acquire().failure();
    expect(capped.state).toBe('open');
    expect(capped.snapshot().policies[0]).toMatchObject({ minimumCalls: 10, calls: 10 });
  });

  test.prop([kindArb, fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 200 })])(
    'a full window of bad calls opens the breaker, whatever minimumCalls is: it opens at min(minimumCalls, size)',
    (kind, size, minimumCalls) => {
      const clock = new ManualClock();
      const window = { calls: size };
      const trip =
        kind === 'failures'
          ? failureRate({ threshold: 1, minimumCalls, window })
          : slowCallRate({ slowerThanMs: SLOW_MS, threshold: 1, minimumCalls, window });
      const breaker = createBreaker({ clock, trip });
      const minimum = Math.min(size, minimumCalls);
      expect(breaker.snapshot().policies[0]?.minimumCalls).toBe(minimum);
      for (let i = 1; i < minimum; i++) record(breaker, clock, kind, true);
      expect(breaker.state).toBe('closed');
      record(breaker, clock, kind, true);
      expect(breaker.state).toBe('open');
    },
  );

  test('a time window keeps the minimum as given', () => {
    const breaker = createBreaker({
      clock: new ManualClock(),
      trip: failureRate({ threshold: 0.5, minimumCalls: 20, window: { durationMs: 10_000 } }),
    });
    for (let i = 0; i < 19; i++) breaker.acquire().failure();
    expect(breaker.state).toBe('closed');
    breaker.acquire().failure();
    expect(breaker.state).toBe('open');
  });
});

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
