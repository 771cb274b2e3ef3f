import { isInvalidOptionError } from '@portcullis/core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { isBatchTimeoutError, isTooManyKeysError } from './errors.js';
import type { BatchEvent } from './events.js';
import { createLoaderFactory } from './loader-factory.js';
import type { BatchInfo } from './options.js';

afterEach(() => {
  vi.useRealTimers();
});

interface Ctx {
  readonly user: string;
}

function setup() {
  const calls: { loader: string; keys: readonly string[]; user: string | undefined }[] = [];
  const batchFn =
    (loader: string) =>
    (keys: readonly string[], info: BatchInfo<Ctx>): Promise<string[]> => {
      calls.push({ loader, keys: [...keys], user: info.context.user });
      return Promise.resolve(keys.map((k) => `${loader}:${k}`));
    };
  const factory = createLoaderFactory<
    { users: { batchFn: ReturnType<typeof batchFn> }; orders: { batchFn: ReturnType<typeof batchFn> } },
    Ctx
  >({ users: { batchFn: batchFn('users') }, orders: { batchFn: batchFn('orders') } }, { maxKeysPerRequest: 3 });
  return { calls, factory };
}

describe('loader factory', () => {
  test('each request gets fresh loaders, with its context, sharing one key budget between them', async () => {
    const { calls, factory } = setup();
    const first = factory.forRequest({ context: { user: 'ada' } });
    expect(await first.users.loadMany(['1', '2'])).toEqual(['users:1', 'users:2']);
    expect(await first.orders.load('9')).toBe('orders:9');
    await expect(first.orders.load('10')).rejects.toSatisfy(isTooManyKeysError);
    const second = factory.forRequest({ context: { user: 'grace' } });
    expect(second.users).not.toBe(first.users);
    expect(await second.users.load('1')).toBe('users:1');
    expect(calls).toEqual([
      { loader: 'users', keys: ['1', '2'], user: 'ada' },
      { loader: 'orders', keys: ['9'], user: 'ada' },
      { loader: 'users', keys: ['1'], user: 'grace' },
    ]);
  });

  test('every request reports to the factory events, named', async () => {
    const { factory } = setup();
    const batches: BatchEvent[] = [];
    factory.events.on('batch', (e) => batches.push(e));
    await factory.forRequest({ context: { user: 'a' } }).users.load('1');
    await factory.forRequest({ context: { user: 'b' } }).orders.load('1');
    expect(batches.map((b) => b.loader)).toEqual(['users', 'orders']);
  });

  test("a request's deadline stops its batches", async () => {
    vi.useFakeTimers();
    const factory = createLoaderFactory(
      { slow: { batchFn: () => new Promise<string[]>(() => undefined) } },
      { deadlineMs: 500 },
    );
    const pending = factory
      .forRequest()
      .slow.load('1')
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(500);
    expect(isBatchTimeoutError(await pending)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('of() returns the loaders the guard put in the context, and refuses anything else', () => {
    const { factory } = setup();
    const loaders = factory.forRequest({ context: { user: 'x' } });
    expect(factory.of({ loaders })).toBe(loaders);
    for (const context of [
      undefined,
      null,
      {},
      { loaders: { users: {} } },
      { loaders: setup().factory.forRequest() },
    ]) {
      let thrown: unknown;
      try {
        factory.of(context);
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown)).toBe(true);
    }
  });
});
