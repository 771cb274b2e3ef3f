import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { afterEach, describe, expect, vi } from 'vitest';
import { BrokenCircuitError, isPolicyDisposedError, isRetryBudgetExceededError } from '../errors.js';
import { backoffDelay, resolveBackoff, type Jitter } from './backoff.js';
import { RetryBudget } from './budget.js';
import { retry, type RetryEvent } from './retry.js';
import { parseRetryAfter } from './retry-after.js';

afterEach(() => {
  vi.useRealTimers();
});

const jitterArb = fc.constantFrom<Jitter>('none', 'full', 'equal', 'decorrelated');

describe('backoff', () => {
  test.prop(
    [
      jitterArb,
      fc.integer({ min: 1, max: 1_000 }),
      fc.double({ min: 1, max: 4, noNaN: true }),
      fc.integer({ min: 0, max: 100_000 }),
      fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 30 }),
    ],
    { numRuns: 1_000 },
  )(
    'every delay stays within its jitter formula and never exceeds the cap',
    (jitter, initialMs, multiplier, extra, randoms) => {
      const backoff = resolveBackoff({ initialMs, multiplier, maxMs: initialMs + extra, jitter });
      let previous = initialMs;
      for (const [n, random] of randoms.entries()) {
        const delay = backoffDelay(backoff, n, previous, random);
        const exp = Math.min(backoff.maxMs, initialMs * multiplier ** n);
        const [low, high] =
          jitter === 'none'
            ? [exp, exp]
            : jitter === 'full'
              ? [0, exp]
              : jitter === 'equal'
                ? [exp / 2, exp]
                : [Math.min(backoff.maxMs, initialMs), Math.min(backoff.maxMs, Math.max(initialMs, previous * 3))];
        expect(delay).toBeGreaterThanOrEqual(low);
        expect(delay).toBeLessThanOrEqual(high);
        expect(delay).toBeLessThanOrEqual(backoff.maxMs);
        previous = delay;
      }
    },
  );

  test('without jitter: 100, 200, 400 ms (problem 7), then the cap', () => {
    const backoff = resolveBackoff({ initialMs: 100, maxMs: 500, jitter: 'none' });
    expect([0, 1, 2, 3].map((n) => backoffDelay(backoff, n, 0, 0.5))).toEqual([100, 200, 400, 500]);
  });
});

describe('retry budget', () => {
  const opArb = fc.array(
    fc.record({ gapMs: fc.integer({ min: 0, max: 3_000 }), kind: fc.constantFrom('call', 'retry', 'retry', 'retry') }),
    { maxLength: 300 },
  );

  /** A ratio written as a decimal (`0.29`), with its exact value as a fraction of a power of ten. */
  const ratioArb = fc
    .integer({ min: 0, max: 3 })
    .chain((places) =>
      fc.record({ places: fc.constant(places), digits: fc.integer({ min: 0, max: 2 * 10 ** places }) }),
    )
    .map(({ places, digits }) => ({
      ratio: Number(
        `${String(Math.trunc(digits / 10 ** places))}.${String(digits % 10 ** places).padStart(places, '0')}`,
      ),
      digits: BigInt(digits),
      scale: 10n ** BigInt(places),
    }));

  test.prop([opArb, ratioArb, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 10 })], { numRuns: 500 })(
    'a retry is granted only while retries in the window stay within minRetries + ratio × calls, and always then (exactly)',
    (ops, { ratio, digits, scale }, minRetries, buckets) => {
      const windowMs = 10_000;
      const budget = new RetryBudget({ ratio, minRetries, windowMs, buckets }, 0);
      const bucketMs = windowMs / buckets;
      const log: { at: number; kind: 'call' | 'retry' }[] = [];
      /** retries <= minRetries + ratio × calls, in integers. */
      const within = (retries: number, calls: number): boolean =>
        BigInt(retries - minRetries) * scale <= digits * BigInt(calls);
      let now = 0;
      for (const { gapMs, kind } of ops) {
        now += gapMs;
        let granted = false;
        if (kind === 'call') {
          budget.recordCall(now);
          log.push({ at: now, kind });
        } else if (budget.tryRetry(now)) {
          granted = true;
          log.push({ at: now, kind });
        }
        // Counted naively from the log: events in the newest `buckets` buckets.
        const inWindow = log.filter((e) => Math.floor(now / bucketMs) - Math.floor(e.at / bucketMs) < buckets);
        const calls = inWindow.filter((e) => e.kind === 'call').length;
        const retries = inWindow.length - calls;
        // Checked when a retry is granted: later, calls may leave the window before the retries do.
        if (granted) expect(within(retries, calls)).toBe(true);
        else if (kind === 'retry') expect(within(retries + 1, calls)).toBe(false);
        expect(budget.usage(now)).toEqual({ calls, retries });
      }
    },
  );

  test('a ratio is compared exactly: 0.29 of 100 calls allows 29 retries (in floating point 0.29 × 100 < 29)', () => {
    const budget = new RetryBudget({ ratio: 0.29, minRetries: 0, windowMs: 10_000 }, 0);
    for (let i = 0; i < 100; i++) budget.recordCall(0);
    let granted = 0;
    while (budget.tryRetry(0)) granted++;
    expect(granted).toBe(29);
  });

  test('a failing upstream sees at most calls × (1 + ratio) + minRetries attempts', async () => {
    vi.useFakeTimers();
    const policy = retry({
      maxAttempts: 5,
      backoff: { initialMs: 1, maxMs: 1 },
      budget: { ratio: 0.2, minRetries: 3, windowMs: 60_000 },
      clock: new ManualClock(),
    });
    let attempts = 0;
    const calls = Array.from({ length: 100 }, () =>
      policy
        .execute(() => {
          attempts++;
          return Promise.reject(new Error('down'));
        })
        .catch((error: unknown) => error),
    );
    await vi.runAllTimersAsync();
    const errors = await Promise.all(calls);
    expect(attempts).toBe(100 + 20 + 3);
    expect(errors.filter(isRetryBudgetExceededError).length).toBeGreaterThan(0);
    expect(policy.budgetUsage()).toEqual({ calls: 100, retries: 23 });
  });
});

describe('retry', () => {
  test('retries retryable failures with the backoff, up to maxAttempts, and rejects with the last error', async () => {
    vi.useFakeTimers();
    const events: RetryEvent[] = [];
    const policy = retry({ maxAttempts: 4, backoff: { initialMs: 100, jitter: 'none' }, budget: false });
    policy.events.on('retry', (e) => events.push(e));
    let attempt = 0;
    const result = policy.execute(() => Promise.reject(new Error(`attempt ${String(++attempt)}`)));
    const settled = result.catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await settled).toMatchObject({ message: 'attempt 4' });
    expect(events.map((e) => [e.attempt, e.delayMs])).toEqual([
      [2, 100],
      [3, 200],
      [4, 400],
    ]);
  });

  test('succeeds as soon as an attempt does', async () => {
    vi.useFakeTimers();
    const policy = retry({ maxAttempts: 5, budget: false });
    let attempt = 0;
    const result = policy.execute(() =>
      ++attempt < 3 ? Promise.reject(new Error('flaky')) : Promise.resolve(attempt),
    );
    await vi.runAllTimersAsync();
    expect(await result).toBe(3);
  });

  test('does not retry what retryOn rejects, nor a broken circuit by default', async () => {
    const onlyTransient = retry({ retryOn: (error) => (error as Error).message === 'transient', budget: false });
    let attempts = 0;
    await expect(
      onlyTransient.execute(() => {
        attempts++;
        return Promise.reject(new Error('bad request'));
      }),
    ).rejects.toThrow('bad request');
    expect(attempts).toBe(1);
    const defaults = retry({ budget: false });
    await expect(
      defaults.execute(() => {
        attempts++;
        return Promise.reject(new BrokenCircuitError('orders', 'open', 0));
      }),
    ).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(attempts).toBe(2);
  });

  test("honours the upstream's Retry-After when longer than the backoff, and gives up when it is too long", async () => {
    vi.useFakeTimers();
    const delays: number[] = [];
    const policy = retry({
      maxAttempts: 3,
      backoff: { initialMs: 100, jitter: 'none' },
      maxRetryAfterMs: 5_000,
      retryOnResult: (res) => (res as Response).status === 503,
      budget: false,
    });
    policy.events.on('retry', (e) => delays.push(e.delayMs));
    const responses = [
      new Response(null, { status: 503, headers: { 'retry-after': '2' } }),
      new Response('ok', { status: 200 }),
    ];
    const result = policy.execute(() => responses.shift() as Response);
    await vi.runAllTimersAsync();
    expect((await result).status).toBe(200);
    expect(delays).toEqual([2_000]);

    let attempts = 0;
    const tooLong = policy.execute(() => {
      attempts++;
      return Promise.reject(Object.assign(new Error('overloaded'), { retryAfterMs: 60_000 }));
    });
    await expect(tooLong).rejects.toThrow('overloaded');
    expect(attempts).toBe(1);
  });

  test('returns the last result when result retries run out', async () => {
    vi.useFakeTimers();
    const policy = retry({ maxAttempts: 2, retryOnResult: (r) => r === 'busy', budget: false });
    const result = policy.execute(() => 'busy');
    await vi.runAllTimersAsync();
    expect(await result).toBe('busy');
  });

  test('a retried call stops at once when its signal aborts: during a backoff (timer cleared) or an attempt', async () => {
    vi.useFakeTimers();
    const policy = retry({ maxAttempts: 10, backoff: { initialMs: 10_000, jitter: 'none' }, budget: false });
    const controller = new AbortController();
    let attempts = 0;
    const result = policy.execute(
      () => {
        attempts++;
        return Promise.reject(new Error('down'));
      },
      { signal: controller.signal },
    );
    const settled = result.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(attempts).toBe(1);
    expect(vi.getTimerCount()).toBe(1); // the backoff
    controller.abort(new Error('caller gave up'));
    expect(await settled).toMatchObject({ message: 'caller gave up' });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(100_000);
    expect(attempts).toBe(1);

    const during = new AbortController();
    let seen: AbortSignal | undefined;
    const hanging = policy.execute(
      ({ signal }) => {
        seen = signal;
        return new Promise<never>(() => undefined);
      },
      { signal: during.signal },
    );
    during.abort(new Error('stop now'));
    await expect(hanging).rejects.toThrow('stop now');
    expect(seen?.aborted).toBe(true);
  });

  test('dispose rejects calls waiting in a backoff and leaves no timer', async () => {
    vi.useFakeTimers();
    const policy = retry({ maxAttempts: 3, backoff: { initialMs: 60_000 }, budget: false });
    const waiting = policy.execute(() => Promise.reject(new Error('down'))).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    policy.dispose();
    expect(isPolicyDisposedError(await waiting)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:27:00 GMT');

  test('reads delay-seconds and the three HTTP-date forms of RFC 9110', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0\t', now)).toBe(0);
    expect(parseRetryAfter('0012', now)).toBe(12_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(60_000); // IMF-fixdate
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:28:00 GMT', now)).toBe(60_000); // RFC 850
    expect(parseRetryAfter('Wed Oct 21 07:28:00 2015', now)).toBe(60_000); // asctime
    expect(parseRetryAfter('Thu Oct  1 07:27:00 2015', Date.parse('Wed, 30 Sep 2015 07:27:00 GMT'))).toBe(86_400_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0); // in the past
    expect(parseRetryAfter('Wed, 31 Dec 2014 23:59:60 GMT', now)).toBe(0); // a leap second is a time
  });

  test('an RFC 850 two-digit year is the one within 50 years of now', () => {
    const in2015 = Date.parse('Wed, 21 Oct 2015 00:00:00 GMT');
    expect(parseRetryAfter('Sunday, 21-Oct-65 00:00:00 GMT', in2015)).toBe(Date.UTC(2065, 9, 21) - in2015);
    // 2066 would be more than 50 years ahead: it is 1966, in the past.
    expect(parseRetryAfter('Thursday, 21-Oct-66 00:00:00 GMT', in2015)).toBe(0);
    const in2090 = Date.UTC(2090, 0, 1);
    expect(parseRetryAfter('Sunday, 01-Jan-01 00:00:00 GMT', in2090)).toBe(Date.UTC(2101, 0, 1) - in2090);
  });

  // Each of these Date.parse reads as a date (checked below): none is delay-seconds or an HTTP-date.
  const junk = [
    'abc 1',
    '1 2 3',
    'Tomorrow 5',
    '2015-10-21',
    '2015-10-21T07:28:00Z',
    'Oct 21 2015',
    'Wed, 21 Oct 2015 07:28:00',
    'Wed, 21 Oct 2015 07:28:00 +0000',
    'Wed, 21 Oct 2015 07:28:00 UTC',
    'Wed, 21 Oct 2015 07:28:00 PST',
    'wed, 21 oct 2015 07:28:00 gmt',
    'Wed, 21 Oct 2015 07:28 GMT',
    'Wednesday, 21 Oct 2015 07:28:00 GMT',
    'Wed, 21-Oct-2015 07:28:00 GMT',
    'Wed, 21 Oct 15 07:28:00 GMT',
    'Wed, 1 Oct 2015 07:28:00 GMT',
    'Wed,  21 Oct 2015 07:28:00 GMT',
    '21 Oct 2015 07:28:00 GMT',
    'x Wed, 21 Oct 2015 07:28:00 GMT',
    'Wed, 31 Feb 2015 07:28:00 GMT',
    'Wed, 21 Oct 2015 07:28:61 GMT',
    'Wed Oct 21 07:28:00 2015 GMT',
    'Wed Oct 21 2015 07:28:00 GMT+0200',
    'Wed Oct 1 07:28:00 2015',
  ];

  test.each(junk)('ignores %j, which Date.parse would accept', (value) => {
    expect(Number.isNaN(Date.parse(value))).toBe(false);
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  test.each([
    '-5',
    '1.5',
    '+5',
    '1e3',
    '0x10',
    '',
    'soon',
    'Wed, 21 Oct 2015 24:00:00 GMT',
    'Wed, 00 Oct 2015 07:28:00 GMT',
  ])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  test('ignores a missing header', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');

  test.prop([fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => ms - (ms % 1000))], {
    numRuns: 1_000,
  })('every date written in each of the three forms reads back exactly', (ms) => {
    const d = new Date(ms);
    const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
    const [day, month, year] = [d.getUTCDate(), MONTHS[d.getUTCMonth()] as string, d.getUTCFullYear()];
    const imf = d.toUTCString();
    const asctime = `${DAYS[d.getUTCDay()] as string} ${month} ${String(day).padStart(2, ' ')} ${time} ${String(year)}`;
    const rfc850 = `${LONG_DAYS[d.getUTCDay()] as string}, ${two(day)}-${month}-${two(year % 100)} ${time} GMT`;
    expect(parseRetryAfter(imf, 0)).toBe(ms);
    expect(parseRetryAfter(asctime, 0)).toBe(ms);
    // A two-digit year is read within 50 years of now: ask from the same year.
    const sameYear = Date.UTC(year, 0, 1);
    expect(parseRetryAfter(rfc850, sameYear)).toBe(Math.max(0, ms - sameYear));
  });
});
