import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError, type InvalidOptionError } from '@portcullis/core';
import { describe, expect } from 'vitest';
import { createBreaker } from './breaker.js';
import { bulkhead } from './bulkhead.js';
import { fallback } from './fallback.js';
import { circuitBreakerGuard } from './http/guard.js';
import { Pipeline, pipeline } from './pipeline.js';
import { createBreakerRegistry } from './registry.js';
import { retry } from './retry/retry.js';
import { timeout } from './timeout.js';
import { consecutiveFailures } from './trip/consecutive-failures.js';
import { failureRate } from './trip/failure-rate.js';
import { slowCallRate } from './trip/slow-call-rate.js';

/** Runs `build` and returns the InvalidOptionError it throws (failing the test otherwise). */
function invalid(build: () => unknown): InvalidOptionError {
  try {
    build();
  } catch (error) {
    if (isInvalidOptionError(error)) return error;
    throw error;
  }
  throw new Error('expected an InvalidOptionError, but nothing was thrown');
}

// Each case: the option's name as reported, and a factory taking the bad value.
const numericOptions: [string, (value: number) => unknown, 'positive' | 'ratio' | 'nonNegative' | 'integer'][] = [
  ['threshold', (v) => consecutiveFailures(v), 'integer'],
  ['threshold', (v) => failureRate({ threshold: v }), 'ratio'],
  ['minimumCalls', (v) => failureRate({ minimumCalls: v }), 'integer'],
  ['window.calls', (v) => failureRate({ window: { calls: v } }), 'integer'],
  ['window.durationMs', (v) => failureRate({ window: { durationMs: v } }), 'positive'],
  ['window.buckets', (v) => failureRate({ window: { durationMs: 1_000, buckets: v } }), 'integer'],
  ['slowerThanMs', (v) => slowCallRate({ slowerThanMs: v }), 'nonNegative'],
  ['threshold', (v) => slowCallRate({ slowerThanMs: 1, threshold: v }), 'ratio'],
  ['openDuration', (v) => createBreaker({ openDuration: v }), 'positive'],
  ['openDuration.initialMs', (v) => createBreaker({ openDuration: { initialMs: v, maxMs: 1e9 } }), 'positive'],
  ['halfOpen.maxProbes', (v) => createBreaker({ halfOpen: { maxProbes: v } }), 'integer'],
  ['halfOpen.successesToClose', (v) => createBreaker({ halfOpen: { successesToClose: v } }), 'integer'],
  ['halfOpen.maxWaitMs', (v) => createBreaker({ halfOpen: { maxWaitMs: v } }), 'positive'],
  ['maxAttempts', (v) => retry({ maxAttempts: v }), 'integer'],
  ['backoff.initialMs', (v) => retry({ backoff: { initialMs: v } }), 'positive'],
  ['budget.ratio', (v) => retry({ budget: { ratio: v } }), 'nonNegative'],
  ['budget.windowMs', (v) => retry({ budget: { windowMs: v } }), 'positive'],
  ['maxRetryAfterMs', (v) => retry({ maxRetryAfterMs: v }), 'nonNegative'],
  ['ms', (v) => timeout({ ms: v }), 'positive'],
  ['maxConcurrent', (v) => bulkhead({ maxConcurrent: v }), 'integer'],
  ['maxQueue', (v) => bulkhead({ maxConcurrent: 1, maxQueue: v }), 'nonNegative'],
  ['maxBreakers', (v) => createBreakerRegistry({ maxBreakers: v }), 'integer'],
  [
    'services.payments.halfOpen.maxProbes',
    (v) => createBreakerRegistry({ services: { payments: { halfOpen: { maxProbes: v } } } }),
    'integer',
  ],
  ['timeoutMs', (v) => circuitBreakerGuard({ breaker: createBreaker(), timeoutMs: v }), 'nonNegative'],
];

/** Values every numeric option refuses, whatever its kind. */
const alwaysBad = fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity), fc.double({ max: -1e-9, noNaN: true }));

describe('bad options throw an InvalidOptionError naming the option', () => {
  test.prop([fc.constantFrom(...numericOptions), alwaysBad], { numRuns: 500 })(
    'NaN, ±Infinity and negative numbers, for every numeric option',
    ([option, build], value) => {
      const error = invalid(() => build(value));
      expect(error.option).toBe(option);
      expect(Object.is(error.value, value)).toBe(true);
      expect(error.code).toBe('ERR_PORTCULLIS_INVALID_OPTION');
      expect(error.message).toContain(`"${option}"`);
    },
  );

  test.prop([
    fc.constantFrom(...numericOptions.filter(([, , kind]) => kind === 'ratio')),
    fc.double({ min: 1.000001, max: 1e6, noNaN: true }),
  ])('rates above 1', ([option, build], value) => {
    expect(invalid(() => build(value)).option).toBe(option);
  });

  test.each(numericOptions.filter(([, , kind]) => kind !== 'nonNegative'))('zero for %s', (option, build) => {
    if (option === 'maxQueue') return;
    expect(invalid(() => build(0)).option).toBe(option);
  });

  test.each(numericOptions.filter(([, , kind]) => kind === 'integer'))('fractions for %s', (option, build) => {
    expect(invalid(() => build(1.5)).option).toBe(option);
  });

  test.each<[string, () => unknown]>([
    ['trip', () => createBreaker({ trip: [] })],
    ['trip[1]', () => createBreaker({ trip: [consecutiveFailures(1), {} as never] })],
    ['name', () => createBreaker({ name: '' })],
    ['clock', () => createBreaker({ clock: {} as never })],
    ['isFailure', () => createBreaker({ isFailure: 'yes' as never })],
    ['openDuration.maxMs', () => createBreaker({ openDuration: { initialMs: 1_000, maxMs: 500 } })],
    [
      'openDuration.multiplier',
      () => createBreaker({ openDuration: { initialMs: 1_000, multiplier: 0.5, maxMs: 5_000 } }),
    ],
    ['window', () => failureRate({ window: { size: 10 } as never })],
    ['slowerThanMs', () => slowCallRate({} as never)],
    ['backoff.jitter', () => retry({ backoff: { jitter: 'random' as never } })],
    ['backoff.maxMs', () => retry({ backoff: { initialMs: 1_000, maxMs: 10 } })],
    ['retryOn', () => retry({ retryOn: 1 as never })],
    ['when', () => fallback('x', { when: 'always' as never })],
    ['policies[1]', () => pipeline(timeout({ ms: 1 }), {} as never)],
    ['breaker', () => circuitBreakerGuard({})],
    ['service', () => circuitBreakerGuard({ registry: createBreakerRegistry() })],
  ])('%s', (option, build) => {
    expect(invalid(build).option).toBe(option);
  });
});

describe('registry options', () => {
  test.each<[string, () => unknown]>([
    ['defaults', () => createBreakerRegistry({ defaults: 5 as never })],
    ['defaults', () => createBreakerRegistry({ defaults: [] as never })],
    ['services', () => createBreakerRegistry({ services: 5 as never })],
    ['services', () => createBreakerRegistry({ services: [{}] as never })],
    ['services.payments', () => createBreakerRegistry({ services: { payments: 5 as never } })],
    ['services.payments', () => createBreakerRegistry({ services: { payments: 'fast' as never } })],
    ['services', () => createBreakerRegistry({ services: { ['x'.repeat(201)]: {} } })],
    ['clock', () => createBreakerRegistry({ clock: {} as never })],
    ['clock', () => createBreakerRegistry({ clock: { now: 5 } as never })],
    ['defaults.openDuration', () => createBreakerRegistry({ defaults: { openDuration: -1 } })],
    ['services.payments.trip', () => createBreakerRegistry({ services: { payments: { trip: [] } } })],
  ])('%s', (option, build) => {
    expect(invalid(build).option).toBe(option);
  });
});

describe('every policy validates its name and options', () => {
  test.each<[string, () => unknown]>([
    ['name', () => timeout({ ms: 1, name: 5 as never })],
    ['name', () => retry({ name: '' })],
    ['name', () => bulkhead({ maxConcurrent: 1, name: 'x'.repeat(201) })],
    ['name', () => fallback('x', { name: {} as never })],
    ['options', () => fallback('x', null as never)],
    ['policies[0]', () => pipeline({ execute: () => Promise.resolve() } as never)],
    ['policies', () => new Pipeline(5 as never)],
  ])('%s', (option, build) => {
    expect(invalid(build).option).toBe(option);
  });
});
