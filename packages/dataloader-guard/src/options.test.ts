import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect } from 'vitest';
import { createLoader } from './loader.js';
import { createLoaderFactory } from './loader-factory.js';

const ok = (keys: readonly number[]): number[] => [...keys];

/** Options that take a whole number >= 1 (or Infinity), and values that are never one. */
const counts = ['maxBatchSize', 'maxKeys', 'maxConcurrentBatches', 'maxCacheEntries'] as const;
const notCount = fc.oneof(
  fc.constant(0),
  fc.integer({ max: -1 }),
  fc.double({ min: 0.01, max: 1e6, noInteger: true }),
  fc.constant(Number.NaN),
  fc.constant(-Infinity),
  fc.string(),
  fc.constant(true),
);

describe('options are validated at construction', () => {
  test.prop([fc.constantFrom(...counts), notCount], { numRuns: 500 })(
    'a count option that is not a whole number >= 1 throws InvalidOptionError naming it',
    (option, value) => {
      let thrown: unknown;
      try {
        createLoader(ok, { [option]: value });
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown)).toBe(true);
      expect(thrown).toMatchObject({ option });
    },
  );

  test.prop([fc.oneof(fc.constant(0), fc.integer({ max: -1 }), fc.constant(Number.NaN), fc.constant(Infinity))])(
    'timeoutMs must be finite and > 0',
    (value) => {
      expect(() => createLoader(ok, { timeoutMs: value })).toThrow(/"timeoutMs"/);
    },
  );

  test('other options by type', () => {
    expect(() => createLoader(undefined as never)).toThrow(/"batchFn"/);
    expect(() => createLoader(ok, { batch: 'yes' as never })).toThrow(/"batch"/);
    expect(() => createLoader(ok, { name: '' })).toThrow(/"name"/);
    expect(() => createLoader(ok, { cacheMap: {} as never })).toThrow(/"cacheMap"/);
    expect(() => createLoader(ok, { signal: {} as never })).toThrow(/"signal"/);
    expect(() => createLoader(ok, { budget: { take: () => undefined } as never })).toThrow(/"budget"/);
    expect(() => createLoader(ok, { sharedCache: {} as never })).toThrow(/"sharedCache"/);
    expect(() => createLoader(ok, { isolateFailures: -1 })).toThrow(/"isolateFailures"/);
    expect(() => createLoader(ok, { maxQueuedBatches: -1, maxConcurrentBatches: 1 })).toThrow(/"maxQueuedBatches"/);
  });

  test("a factory names the loader in the option's name, at construction", () => {
    expect(() => createLoaderFactory({ users: { batchFn: ok, maxBatchSize: 0 } })).toThrow(/"users.maxBatchSize"/);
    expect(() => createLoaderFactory({ users: { batchFn: 5 as never } })).toThrow(/"users.batchFn"/);
    expect(() => createLoaderFactory({ users: { batchFn: ok, sharedCache: { ttlMs: -1 } } })).toThrow(
      /"users.sharedCache.ttlMs"/,
    );
    expect(() => createLoaderFactory({ users: { batchFn: ok } }, { maxKeysPerRequest: 0 })).toThrow(
      /"maxKeysPerRequest"/,
    );
    expect(() => createLoaderFactory({ users: { batchFn: ok } }, { deadlineMs: 0 })).toThrow(/"deadlineMs"/);
  });
});
