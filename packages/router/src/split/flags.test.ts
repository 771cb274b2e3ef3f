import { fc, test } from '@fast-check/vitest';
import { createGatewayRequest, isInvalidOptionError, type GatewayRequest } from '@portcullis/core';
import { afterEach, beforeEach, describe, expect, vi } from 'vitest';
import { isFlagTimeoutError } from './errors.js';
import type { AsyncFlagSource, FlagErrorEvent } from './flags.js';
import { stickyKey } from './key.js';
import { createSplit, DEFAULT_FLAG_TIMEOUT_MS, type VariantOptions } from './split.js';

function request(headers: Record<string, string> = {}): GatewayRequest {
  return createGatewayRequest({ method: 'GET', url: '/checkout', header: (name) => headers[name] });
}

/** How a test source answers one flag. */
type Behaviour = 'on' | 'slow-on' | 'off' | 'not-boolean' | 'throws' | 'rejects' | 'hangs' | 'late-on';
const BEHAVIOURS: readonly Behaviour[] = [
  'on',
  'slow-on',
  'off',
  'not-boolean',
  'throws',
  'rejects',
  'hangs',
  'late-on',
];
/** What a plain function answering the same would say: only a timely `true` is on. */
const ON: ReadonlySet<Behaviour> = new Set(['on', 'slow-on']);
const FAILING: ReadonlySet<Behaviour> = new Set(['throws', 'rejects', 'hangs', 'late-on']);
const TIMING_OUT: ReadonlySet<Behaviour> = new Set(['hangs', 'late-on']);

/** An asynchronous source answering each flag as `behaviours` says; records what it was asked. */
function scriptedSource(
  behaviours: Readonly<Record<string, Behaviour>>,
  timeoutMs: number,
): AsyncFlagSource & { asked: { flag: string; key: string | undefined }[] } {
  const asked: { flag: string; key: string | undefined }[] = [];
  return {
    asked,
    isOn(flag, _req, key) {
      asked.push({ flag, key });
      switch (behaviours[flag]) {
        case 'on':
          return Promise.resolve(true);
        case 'not-boolean':
          return Promise.resolve('yes' as unknown as boolean);
        case 'throws':
          throw new Error(`${flag} threw`);
        case 'rejects':
          return Promise.reject(new Error(`${flag} rejected`));
        case 'hangs':
          return new Promise<boolean>(() => undefined);
        case 'slow-on': // within the deadline
          return new Promise<boolean>((resolve) => {
            setTimeout(() => {
              resolve(true);
            }, timeoutMs / 2);
          });
        case 'late-on':
          return new Promise<boolean>((resolve) => {
            setTimeout(() => {
              resolve(true);
            }, timeoutMs * 2);
          });
        default:
          return Promise.resolve(false);
      }
    },
  };
}

describe('splits with an asynchronous flag source', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const flagged = fc.array(
    fc.record({ behaviour: fc.constantFrom(...BEHAVIOURS), weight: fc.integer({ min: 0, max: 100 }) }),
    { minLength: 1, maxLength: 4 },
  );

  test.prop(
    [
      flagged,
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 0, max: 100 }),
      fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: undefined }),
      fc.constantFrom(undefined, 'always', 'never', 'canary', 'flagged-0', 'bogus'),
      fc.integer({ min: 2, max: 200 }),
    ],
    { numRuns: 300 },
  )(
    'assignAsync gives what a plain function answering the same values gives (failing, hanging and late flags are off), leaves no timer, and reports only failing flags',
    async (flags, stableWeight, canaryWeight, user, override, timeoutMs) => {
      const variants: VariantOptions[] = [
        { name: 'stable', weight: stableWeight },
        { name: 'canary', weight: canaryWeight },
        ...flags.map(({ weight }, i) => ({ name: `flagged-${String(i)}`, weight, flag: `flag-${String(i)}` })),
      ];
      const behaviours = Object.fromEntries(flags.map(({ behaviour }, i) => [`flag-${String(i)}`, behaviour]));
      const key = stickyKey({ header: 'x-user', ip: false });
      const reported: FlagErrorEvent[] = [];
      const source = scriptedSource(behaviours, timeoutMs);
      const asyncSplit = createSplit({
        name: 'checkout',
        variants,
        key,
        flags: source,
        flagTimeoutMs: timeoutMs,
        onFlagError: (event) => reported.push(event),
      });
      const syncSplit = createSplit({
        name: 'checkout',
        variants,
        key,
        flags: (flag) => ON.has(behaviours[flag]!),
      });
      const headers: Record<string, string> = {};
      if (user !== undefined) headers['x-user'] = user;
      if (override !== undefined) headers['x-canary'] = override;
      const req = request(headers);

      const pending = asyncSplit.assignAsync(req);
      await vi.advanceTimersByTimeAsync(timeoutMs * 3);
      expect(await pending).toEqual(syncSplit.assign(req));
      expect(vi.getTimerCount()).toBe(0);

      for (const { flag, error } of reported) {
        const behaviour = behaviours[flag]!;
        expect(FAILING.has(behaviour), `${flag} (${behaviour}) was reported`).toBe(true);
        expect(isFlagTimeoutError(error)).toBe(TIMING_OUT.has(behaviour));
      }
      expect(new Set(reported.map((r) => r.flag)).size).toBe(reported.length);
      // The source hears the sticky key as the targeting key, and is not asked about overridden requests.
      for (const asked of source.asked) expect(asked.key).toBe(user);
      if (asyncSplit.assign(req).reason === 'override') expect(source.asked).toEqual([]);
    },
  );

  test('a hanging source counts as off after flagTimeoutMs (default 50 ms), reported as a FlagTimeoutError; no timer is left', async () => {
    const reported: FlagErrorEvent[] = [];
    const split = createSplit({
      name: 'checkout',
      variants: [
        { name: 'stable', weight: 100 },
        { name: 'beta', flag: 'new-checkout' },
      ],
      key: stickyKey({ header: 'x-user' }),
      flags: scriptedSource({ 'new-checkout': 'hangs' }, 50),
      onFlagError: (event) => reported.push(event),
    });
    expect(split.asyncFlags).toBe(true);
    let settled: unknown;
    void split.assignAsync(request({ 'x-user': 'u1' })).then((a) => (settled = a));
    await vi.advanceTimersByTimeAsync(DEFAULT_FLAG_TIMEOUT_MS - 1);
    expect(settled).toBeUndefined();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toEqual({ variant: 'stable', reason: 'weight' });
    expect(vi.getTimerCount()).toBe(0);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ split: 'checkout', flag: 'new-checkout' });
    expect(reported[0]!.error).toMatchObject({
      code: 'ERR_PORTCULLIS_ROUTER_FLAG_TIMEOUT',
      flag: 'new-checkout',
      timeoutMs: 50,
    });
  });

  test('a flag that is on answers at once: it waits only for the flags before it, and its timer is cleared', async () => {
    const split = createSplit({
      name: 'checkout',
      variants: [
        { name: 'stable', weight: 100 },
        { name: 'first', flag: 'a' },
        { name: 'second', flag: 'b' },
      ],
      key: stickyKey({ header: 'x-user' }),
      flags: scriptedSource({ a: 'on', b: 'hangs' }, 50),
      onFlagError: () => {
        throw new Error('not expected');
      },
    });
    // No time passes: only promise callbacks run.
    expect(await split.assignAsync(request({ 'x-user': 'u1' }))).toEqual({ variant: 'first', reason: 'flag' });
    expect(vi.getTimerCount()).toBe(0);

    const second = createSplit({
      name: 'checkout',
      variants: [
        { name: 'stable', weight: 100 },
        { name: 'first', flag: 'a' },
        { name: 'second', flag: 'b' },
      ],
      flags: scriptedSource({ a: 'off', b: 'on' }, 50),
    });
    expect(await second.assignAsync(request())).toEqual({ variant: 'second', reason: 'flag' });
    expect(vi.getTimerCount()).toBe(0);
  });

  test('a late rejection after the timeout is ignored, and never becomes an unhandled rejection', async () => {
    const reported: FlagErrorEvent[] = [];
    let rejectLate: (error: Error) => void = () => undefined;
    const split = createSplit({
      name: 'checkout',
      variants: [
        { name: 'stable', weight: 1 },
        { name: 'beta', flag: 'f' },
      ],
      flags: { isOn: () => new Promise<boolean>((_resolve, reject) => (rejectLate = reject)) },
      flagTimeoutMs: 10,
      onFlagError: (event) => reported.push(event),
    });
    const pending = split.assignAsync(request());
    await vi.advanceTimersByTimeAsync(10);
    expect(await pending).toEqual({ variant: 'stable', reason: 'baseline' });
    rejectLate(new Error('too late'));
    await vi.advanceTimersByTimeAsync(10);
    expect(reported.map((r) => isFlagTimeoutError(r.error))).toEqual([true]);
  });

  test('assign does not ask an asynchronous source: its flags count as off there', () => {
    const source = scriptedSource({ f: 'on' }, 50);
    const split = createSplit({
      name: 'checkout',
      variants: [
        { name: 'stable', weight: 1 },
        { name: 'beta', flag: 'f' },
      ],
      flags: source,
    });
    expect(split.assign(request())).toEqual({ variant: 'stable', reason: 'baseline' });
    expect(source.asked).toEqual([]);
  });
});

describe('flag source options', () => {
  const alwaysOn = (): boolean => true;
  const variants = [
    { name: 'stable', weight: 1 },
    { name: 'beta', flag: 'f' },
  ];
  test.each([
    [{ name: 'a', variants, flags: 42 }, 'flags'],
    [{ name: 'a', variants, flags: { isOn: 'yes' } }, 'flags'],
    [{ name: 'a', variants, flags: alwaysOn, flagTimeoutMs: 0 }, 'flagTimeoutMs'],
    [{ name: 'a', variants, flags: alwaysOn, flagTimeoutMs: Number.POSITIVE_INFINITY }, 'flagTimeoutMs'],
    [{ name: 'a', variants, flags: alwaysOn, flagTimeoutMs: 2 ** 31 }, 'flagTimeoutMs'],
    [{ name: 'a', variants, flags: alwaysOn, onFlagError: 'log' }, 'onFlagError'],
  ])('rejects a bad flag option with an InvalidOptionError naming it (%#)', (options, option) => {
    let error: unknown;
    try {
      createSplit(options as never);
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error).toMatchObject({ option });
  });

  test('a split without an asynchronous source answers assignAsync with what assign gives', async () => {
    const split = createSplit({ name: 'a', variants, flags: (flag) => flag === 'f' });
    expect(split.asyncFlags).toBe(false);
    expect(await split.assignAsync(request())).toEqual(split.assign(request()));
    expect(split.assign(request())).toEqual({ variant: 'beta', reason: 'flag' });
  });

  test('a throwing onFlagError is reported, never thrown; the default reporter is a PortcullisWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const throwing = createSplit({
        name: 'checkout',
        variants: [
          { name: 'stable', weight: 1 },
          { name: 'beta', flag: 'f' },
        ],
        flags: scriptedSource({ f: 'rejects' }, 50),
        onFlagError: () => {
          throw new Error('listener broke');
        },
      });
      expect(await throwing.assignAsync(request())).toEqual({ variant: 'stable', reason: 'baseline' });
      const silent = createSplit({
        name: 'checkout',
        variants: [
          { name: 'stable', weight: 1 },
          { name: 'beta', flag: 'f' },
        ],
        flags: scriptedSource({ f: 'throws' }, 50),
      });
      expect(await silent.assignAsync(request())).toEqual({ variant: 'stable', reason: 'baseline' });
      // Process warnings are emitted on a later tick.
      await new Promise<void>((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.message)).toEqual(['listener broke', 'f threw']);
    expect(warnings.map((w) => w.name)).toEqual(['PortcullisWarning', 'PortcullisWarning']);
  });
});
