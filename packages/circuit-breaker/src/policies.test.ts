import { fc, test } from '@fast-check/vitest';
import { ManualClock } from '@portcullis/testkit';
import { describe, expect, expectTypeOf } from 'vitest';
import { createBreaker } from './breaker.js';
import { bulkhead } from './bulkhead.js';
import type { BulkheadRejectedError } from './errors.js';
import { isBrokenCircuitError, isBulkheadRejectedError, isPolicyDisposedError } from './errors.js';
import { fallback } from './fallback.js';
import { pipeline } from './pipeline.js';
import { createBreakerRegistry } from './registry.js';
import { retry } from './retry/retry.js';
import { timeout } from './timeout.js';
import { consecutiveFailures } from './trip/consecutive-failures.js';

describe('bulkhead', () => {
  test('runs maxConcurrent at once, queues maxQueue in order, refuses the rest fast with a shared stackless error', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const order: string[] = [];
    let release: (() => void) | undefined;
    const first = policy.execute(
      () =>
        new Promise<void>((resolve) => {
          order.push('first');
          release = resolve;
        }),
    );
    const second = policy.execute(() => {
      order.push('second');
    });
    const third = await policy.execute(() => undefined).catch((e: unknown) => e);
    const fourth = await policy.execute(() => undefined).catch((e: unknown) => e);
    expect(isBulkheadRejectedError(third)).toBe(true);
    expect(third).toBe(fourth);
    expect(third).toMatchObject({ code: 'ERR_PORTCULLIS_BULKHEAD_REJECTED', maxConcurrent: 1, maxQueue: 1 });
    expect((third as BulkheadRejectedError).stack).not.toMatch(/\n\s+at /);
    expect(order).toEqual(['first']);
    release?.();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  test('a queued caller that aborts leaves the queue at once; dispose rejects the queue', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const running = policy.execute(() => new Promise<never>(() => undefined));
    const controller = new AbortController();
    const queued = policy.execute(() => 'never', { signal: controller.signal });
    const other = policy.execute(() => 'never');
    expect(policy.queued).toBe(2);
    controller.abort('gone');
    await expect(queued).rejects.toBe('gone');
    expect(policy.queued).toBe(1);
    policy.dispose();
    expect(isPolicyDisposedError(await other.catch((e: unknown) => e))).toBe(true);
    expect(policy.queued).toBe(0);
    void running;
  });
});

describe('fallback', () => {
  test('answers with a value, or a function of the error; only for errors `when` accepts', async () => {
    const value = fallback({ items: [] as string[] });
    expect(await value.execute(() => Promise.reject(new Error('down')))).toEqual({ items: [] });
    const fn = fallback((error) => `cached after ${(error as Error).message}`);
    expect(await fn.execute(() => Promise.reject(new Error('down')))).toBe('cached after down');
    expect(await fn.execute(() => 'fresh')).toBe('fresh');
    const onlyBroken = fallback('fast 503', { when: isBrokenCircuitError });
    await expect(onlyBroken.execute(() => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
  });
});

describe('pipeline', () => {
  test('is typed: the result is T plus what its fallbacks answer', () => {
    const policy = pipeline(fallback(null), retry(), createBreaker(), timeout({ ms: 1_000 }));
    expectTypeOf(policy.execute(() => 42)).toEqualTypeOf<Promise<number | null>>();
    const plain = pipeline(retry(), createBreaker());
    expectTypeOf(plain.execute(() => Promise.resolve('x'))).toEqualTypeOf<Promise<string>>();
    const asyncFallback = pipeline(
      fallback(() => Promise.resolve({ cached: true })),
      createBreaker(),
    );
    expectTypeOf(asyncFallback.execute(() => ({ fresh: 1 }))).toEqualTypeOf<
      Promise<{ fresh: number } | { cached: boolean }>
    >();
  });

  test('fallback ∘ retry ∘ breaker ∘ timeout: every attempt passes the breaker, an open breaker stops the retries, the fallback answers', async () => {
    const clock = new ManualClock();
    const breaker = createBreaker({ name: 'orders', clock, trip: consecutiveFailures(2) });
    const policy = pipeline(
      fallback('cached order'),
      retry({ maxAttempts: 5, backoff: { initialMs: 1, maxMs: 1 }, budget: false }),
      breaker,
      timeout({ ms: 1_000 }),
    );
    let attempts = 0;
    const answer = await policy.execute(({ signal }) => {
      attempts++;
      expect(signal.aborted).toBe(false);
      return Promise.reject(new Error('orders down'));
    });
    expect(answer).toBe('cached order');
    expect(attempts).toBe(2); // the third attempt met the open breaker, which retry does not retry
    expect(breaker.snapshot().counters).toMatchObject({ calls: 2, failures: 2, rejections: 1 });
  });

  test('a timeout inside the breaker counts as a failure', async () => {
    const breaker = createBreaker({ trip: consecutiveFailures(1) });
    const policy = pipeline(breaker, timeout({ ms: 5 }));
    await expect(policy.execute(() => new Promise<never>(() => undefined))).rejects.toMatchObject({
      code: 'ERR_PORTCULLIS_TIMEOUT',
    });
    expect(breaker.state).toBe('open');
  });
});

describe('registry', () => {
  test('one breaker per service, with per-service settings over the defaults, and one event stream', async () => {
    const clock = new ManualClock();
    const registry = createBreakerRegistry({
      clock,
      defaults: { trip: consecutiveFailures(3), openDuration: 30_000 },
      services: { payments: { trip: consecutiveFailures(1), openDuration: 60_000 } },
    });
    const changes: string[] = [];
    registry.events.on('stateChange', (e) => changes.push(`${e.breaker}:${e.to}`));
    const fail = () => Promise.reject(new Error('down'));
    await registry.execute('payments', fail).catch(() => undefined);
    await registry.execute('orders', fail).catch(() => undefined);
    expect(registry.get('payments').state).toBe('open');
    expect(registry.get('orders').state).toBe('closed');
    expect(registry.get('payments').snapshot().openUntil).toBe(clock.now() + 60_000);
    expect(changes).toEqual(['payments:open']);
    const byName = registry.snapshot().sort((x, y) => x.name.localeCompare(y.name));
    expect(byName.map((s) => [s.name, s.state, s.counters.failures])).toEqual([
      ['orders', 'closed', 1],
      ['payments', 'open', 1],
    ]);
  });

  test('is bounded: evicts the least recently used closed breaker first; listed services stay', async () => {
    const registry = createBreakerRegistry({
      maxBreakers: 3,
      defaults: { trip: consecutiveFailures(1) },
      services: { payments: {} },
    });
    registry.get('payments');
    await registry.execute('a', () => Promise.reject(new Error('down'))).catch(() => undefined); // a: open
    registry.get('b');
    registry.get('c'); // full: evicts b (closed), not a (open, older), nor payments (listed)
    expect(registry.size).toBe(3);
    expect(['payments', 'a', 'b', 'c'].map((n) => registry.has(n))).toEqual([true, true, false, true]);
    for (let i = 0; i < 100; i++) registry.get(`client-chosen-${String(i)}`);
    expect(registry.size).toBe(3);
    expect(registry.has('payments')).toBe(true);
    registry.dispose();
    expect(registry.size).toBe(0);
  });

  test('holds maxBreakers when every slot is a listed service: an unlisted breaker is then not kept', async () => {
    const registry = createBreakerRegistry({ maxBreakers: 2, services: { a: {}, b: {} } });
    registry.get('a');
    registry.get('b');
    const x = registry.get('x');
    registry.get('y');
    expect(registry.size).toBe(2);
    expect(['a', 'b', 'x', 'y'].map((n) => registry.has(n))).toEqual([true, true, false, false]);
    expect(await x.execute(() => 'still runs')).toBe('still runs');
  });

  test.prop(
    [
      fc.integer({ min: 0, max: 4 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(fc.tuple(fc.constantFrom('get', 'fail', 'delete'), fc.integer({ min: 0, max: 9 })), { maxLength: 60 }),
    ],
    { numRuns: 300 },
  )('never holds more than maxBreakers, and never evicts a listed service', async (listedCount, room, ops) => {
    const listed = Array.from({ length: listedCount }, (_, i) => `listed-${String(i)}`);
    const maxBreakers = Math.max(1, listedCount + room);
    const registry = createBreakerRegistry({
      maxBreakers,
      defaults: { trip: consecutiveFailures(1) },
      services: Object.fromEntries(listed.map((name) => [name, {}])),
    });
    const names = [...listed, ...Array.from({ length: 10 - listedCount }, (_, i) => `other-${String(i)}`)];
    const held = new Set<string>();
    for (const [op, pick] of ops) {
      const name = names[pick % names.length] as string;
      if (op === 'delete') {
        registry.delete(name);
        held.delete(name);
      } else if (op === 'get') registry.get(name);
      else await registry.execute(name, () => Promise.reject(new Error('down'))).catch(() => undefined);
      if (op !== 'delete' && listed.includes(name)) held.add(name);
      expect(registry.size).toBeLessThanOrEqual(maxBreakers);
      for (const service of held) expect(registry.has(service)).toBe(true);
    }
  });

  test('validates the settings once, at construction: changing them afterwards changes no breaker', () => {
    const defaults = { openDuration: 1_000, halfOpen: { maxProbes: 2 } };
    const registry = createBreakerRegistry({ defaults });
    defaults.openDuration = -1;
    defaults.halfOpen.maxProbes = 0;
    const breaker = registry.get('orders');
    breaker.isolate();
    breaker.reset();
    expect(breaker.state).toBe('closed');
  });

  test('any non-empty name is a service: one longer than 200 characters is keyed by its SHA-256', async () => {
    const registry = createBreakerRegistry({ defaults: { trip: consecutiveFailures(1) } });
    const long = `/${'a'.repeat(300)}`;
    const breaker = registry.get(long);
    expect(breaker.name).toMatch(/^h:[\w-]{43}$/);
    expect(registry.get(long)).toBe(breaker);
    expect(registry.get(`${long}b`)).not.toBe(breaker);
    expect(registry.has(long)).toBe(true);
    await registry.execute(long, () => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(registry.get(long).state).toBe('open');
    expect(registry.delete(long)).toBe(true);
    expect(registry.has(long)).toBe(false);
    expect(() => registry.get('')).toThrow(expect.objectContaining({ option: 'service' }));
  });

  test.prop(
    [
      fc.oneof(
        fc.string({ minLength: 1, maxLength: 60, unit: 'binary' }),
        fc.string({ minLength: 190, maxLength: 600, unit: 'binary' }),
      ),
    ],
    { numRuns: 500 },
  )('no client-chosen name makes get throw, and every breaker name fits in 200 characters', (name) => {
    const registry = createBreakerRegistry();
    const breaker = registry.get(name);
    expect(breaker.name.length).toBeLessThanOrEqual(200);
    expect(breaker.name === name).toBe(name.length <= 200);
    expect(registry.get(name)).toBe(breaker);
  });
});

describe('disposing a pipeline', () => {
  const hang = (): Promise<never> => new Promise<never>(() => undefined);

  test.each([undefined, () => true])(
    'does not trip its breaker: PolicyDisposedError is not an upstream outcome (isFailure: %s)',
    async (isFailure) => {
      const breaker = createBreaker({ trip: consecutiveFailures(1), isFailure });
      const policy = pipeline(breaker, timeout({ ms: 30_000 }), bulkhead({ maxConcurrent: 1, maxQueue: 5 }));
      const calls = [policy.execute(hang), policy.execute(hang), policy.execute(hang)].map((p) =>
        p.catch((error: unknown) => error),
      );
      await Promise.resolve();
      policy.dispose();
      const errors = await Promise.all(calls);
      expect(errors.every(isPolicyDisposedError)).toBe(true);
      expect(breaker.snapshot()).toMatchObject({ state: 'closed', counters: { calls: 3, failures: 0, ignored: 3 } });
    },
  );

  test('frees a probe it cancels, without reopening the breaker', async () => {
    const clock = new ManualClock();
    const breaker = createBreaker({ clock, trip: consecutiveFailures(1) });
    breaker.acquire().failure();
    clock.advance(30_000);
    const policy = pipeline(breaker, timeout({ ms: 30_000 }));
    const probe = policy.execute(hang).catch((error: unknown) => error);
    expect(breaker.snapshot().probesInFlight).toBe(1);
    policy.dispose();
    expect(isPolicyDisposedError(await probe)).toBe(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'half-open', probesInFlight: 0 });
  });
});
