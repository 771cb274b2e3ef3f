import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Outcome } from '../verdict.js';
import { CLIENT_CLOSED_REQUEST, Completion } from './completion.js';

function manualClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** The warning `reportUnhandled` emits for an error an `onComplete` callback threw. */
const reportOf = (error: Error): unknown =>
  expect.objectContaining({
    name: 'PortcullisWarning',
    code: 'PORTCULLIS_ONCOMPLETE',
    message: error.message,
    cause: error,
  });

describe('Completion', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test('delivers the status and the time since it was created', () => {
    const clock = manualClock();
    const outcomes: Outcome[] = [];
    const completion = new Completion((o) => outcomes.push(o), clock.now);
    clock.advance(42);
    completion.finish(201);
    expect(outcomes).toEqual([{ status: 201, durationMs: 42 }]);
    expect(completion.done).toBe(true);
  });

  test('delivers exactly once, whichever signal comes first', () => {
    const outcomes: Outcome[] = [];
    const completion = new Completion((o) => outcomes.push(o));
    completion.abort();
    completion.finish(200);
    completion.abort();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ status: CLIENT_CLOSED_REQUEST, aborted: true });
  });

  test('includes an error given to finish, or one recorded before', () => {
    const outcomes: Outcome[] = [];
    const given = new Error('given');
    new Completion((o) => outcomes.push(o)).finish(500, given);
    const recorded = new Error('recorded');
    const completion = new Completion((o) => outcomes.push(o));
    completion.recordError(recorded);
    completion.finish(500);
    expect(outcomes.map((o) => o.error)).toEqual([given, recorded]);
  });

  test('reports an onComplete that throws instead of throwing', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const boom = new Error('boom');
    const completion = new Completion(() => {
      throw boom;
    });
    expect(() => {
      completion.finish(200);
    }).not.toThrow();
    expect(warn).toHaveBeenCalledWith(reportOf(boom));
  });

  test('reports an async onComplete that rejects instead of leaving an unhandled rejection', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const boom = new Error('async boom');
    // An async callback where a void one is expected: exactly the mistake being guarded against.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    new Completion(() => Promise.reject(boom)).finish(200);
    await vi.waitFor(() => {
      expect(warn).toHaveBeenCalledWith(reportOf(boom));
    });
  });
});
