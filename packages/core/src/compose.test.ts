import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { compose } from './compose.js';
import type { Guard } from './guard.js';
import { createGatewayRequest, type GuardContext } from './request.js';
import type { Outcome, Verdict } from './verdict.js';

/** How one generated guard behaves. */
interface Behaviour {
  kind: 'continue' | 'respond' | 'throw';
  async: boolean;
  withComplete: boolean;
  context: Record<string, number> | undefined;
  responseHeader: string | undefined;
  status: number;
}

const behaviour: fc.Arbitrary<Behaviour> = fc.record({
  kind: fc.constantFrom('continue', 'continue', 'continue', 'respond', 'throw'),
  async: fc.boolean(),
  withComplete: fc.boolean(),
  context: fc.option(fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer(), { maxKeys: 3 }), {
    nil: undefined,
  }),
  responseHeader: fc.option(fc.constantFrom('x-one', 'x-two', 'ratelimit-policy'), { nil: undefined }),
  status: fc.integer({ min: 400, max: 599 }),
});

const request = createGatewayRequest({ method: 'GET', url: '/', header: () => undefined, context: { base: 1 } });

/** Builds guards from behaviours, recording what each one saw and how often its onComplete ran. */
function instrument(behaviours: readonly Behaviour[]) {
  const ran: boolean[] = behaviours.map(() => false);
  const seen: (GuardContext | undefined)[] = behaviours.map(() => undefined);
  const completions: Outcome[][] = behaviours.map(() => []);
  const guards: Guard[] = behaviours.map((b, i) => {
    return (req) => {
      ran[i] = true;
      seen[i] = req.context;
      const onComplete = b.withComplete ? (o: Outcome) => void completions[i]!.push(o) : undefined;
      const err = new Error(`guard ${String(i)}`);
      let verdict: Verdict;
      if (b.kind === 'throw') {
        if (b.async) return Promise.reject(err);
        throw err;
      } else if (b.kind === 'respond') {
        verdict = { action: 'respond', status: b.status, onComplete };
      } else {
        verdict = {
          action: 'continue',
          context: b.context,
          responseHeaders: b.responseHeader === undefined ? undefined : new Headers({ [b.responseHeader]: String(i) }),
          onComplete,
        };
      }
      return b.async ? Promise.resolve(verdict) : verdict;
    };
  });
  return { guards, ran, seen, completions };
}

async function settle(value: unknown): Promise<{ verdict?: Verdict; error?: unknown }> {
  try {
    return { verdict: (await value) as Verdict };
  } catch (error) {
    return { error };
  }
}

describe('compose', () => {
  test.prop([fc.array(behaviour, { minLength: 1, maxLength: 8 })], { numRuns: 500 })(
    'runs guards up to the first respond or throw, and calls every onComplete of the guards that ran exactly once',
    async (behaviours) => {
      const { guards, ran, completions } = instrument(behaviours);
      let settled: { verdict?: Verdict; error?: unknown };
      try {
        settled = await settle(compose(...guards)(request));
      } catch (error) {
        settled = { error }; // thrown synchronously
      }
      const { verdict, error } = settled;
      // The adapter's side: report the end of the request once.
      verdict?.onComplete?.({ status: 204, durationMs: 1 });

      const stop = behaviours.findIndex((b) => b.kind !== 'continue');
      const last = stop === -1 ? behaviours.length - 1 : stop;
      behaviours.forEach((b, i) => {
        expect(ran[i]).toBe(i <= last);
        // A guard that throws returns no verdict, so it has no onComplete of its own.
        expect(completions[i]).toHaveLength(i <= last && b.withComplete && b.kind !== 'throw' ? 1 : 0);
      });

      const stopper = stop === -1 ? undefined : behaviours[stop];
      if (stopper?.kind === 'throw') {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toBe(`guard ${String(stop)}`);
        // Guards that ran before the throw learn of it as a 500 carrying the error.
        completions.flat().forEach((o) => {
          expect(o.status).toBe(500);
          expect(o.error).toBe(error);
        });
      } else {
        expect(error).toBeUndefined();
        expect(verdict?.action).toBe(stopper === undefined ? 'continue' : 'respond');
        if (verdict?.action === 'respond') expect(verdict.status).toBe(stopper?.status);
        completions.flat().forEach((o) => {
          expect(o.status).toBe(204);
        });
      }
    },
  );

  test.prop([fc.array(behaviour, { minLength: 1, maxLength: 8 })], { numRuns: 300 })(
    'shows each guard the context of the guards before it, and returns what they added',
    async (behaviours) => {
      const { guards, ran, seen } = instrument(behaviours);
      const { verdict } = await settle(Promise.resolve().then(() => compose(...guards)(request)));
      let expected: Record<string, unknown> = { ...request.context };
      behaviours.forEach((b, i) => {
        if (!ran[i]) return;
        expect(seen[i]).toEqual(expected);
        if (b.kind === 'continue' && b.context !== undefined) expected = { ...expected, ...b.context };
      });
      if (verdict?.action === 'continue') {
        const { base: _base, ...added } = expected;
        expect({ ...request.context, ...verdict.context }).toEqual(expected);
        expect(Object.keys(verdict.context ?? {}).every((k) => k in added)).toBe(true);
      }
    },
  );

  test.prop([fc.array(behaviour, { minLength: 1, maxLength: 8 })], { numRuns: 300 })(
    'collects the response headers of every guard that continued, also onto a respond',
    async (behaviours) => {
      const { guards } = instrument(behaviours);
      const { verdict } = await settle(Promise.resolve().then(() => compose(...guards)(request)));
      if (verdict === undefined) return;
      const stop = behaviours.findIndex((b) => b.kind !== 'continue');
      const continued = behaviours.slice(0, stop === -1 ? undefined : stop);
      const headers = verdict.action === 'continue' ? verdict.responseHeaders : verdict.headers;
      for (const name of new Set(
        continued.flatMap((b) => (b.responseHeader === undefined ? [] : [b.responseHeader])),
      )) {
        const values = continued.flatMap((b, i) => (b.responseHeader === name ? [String(i)] : []));
        expect(headers?.get(name)).toBe(values.join(', '));
      }
    },
  );

  test.prop([
    fc.array(
      behaviour.map((b) => ({ ...b, async: false })),
      { minLength: 1, maxLength: 8 },
    ),
  ])('stays synchronous when every guard answers synchronously', (behaviours) => {
    const { guards } = instrument(behaviours);
    let result: unknown;
    try {
      result = compose(...guards)(request);
    } catch {
      return; // a synchronous throw is synchronous too
    }
    expect(result).not.toBeInstanceOf(Promise);
  });

  test('calls every onComplete even when one of them throws, then reports the error', () => {
    const calls: string[] = [];
    const guard = compose(
      () => ({ action: 'continue', onComplete: () => void calls.push('a') }),
      () => ({
        action: 'continue',
        onComplete: () => {
          calls.push('b');
          throw new Error('listener bug');
        },
      }),
      () => ({ action: 'continue', onComplete: () => void calls.push('c') }),
    );
    const verdict = guard(request) as Verdict;
    expect(() => verdict.onComplete?.({ status: 200, durationMs: 0 })).toThrow('listener bug');
    expect(calls).toEqual(['a', 'b', 'c']);
  });

  test('upstream headers: a later guard wins; strip lists add up', () => {
    const guard = compose(
      () => ({ action: 'continue', upstreamHeaders: new Headers({ 'x-user': 'a' }), stripUpstreamHeaders: ['x-a'] }),
      () => ({ action: 'continue', upstreamHeaders: new Headers({ 'x-user': 'b' }), stripUpstreamHeaders: ['x-b'] }),
    );
    const verdict = guard(request) as Verdict & { action: 'continue' };
    expect(verdict.upstreamHeaders?.get('x-user')).toBe('b');
    expect(verdict.stripUpstreamHeaders).toEqual(['x-a', 'x-b']);
  });

  test('a respond keeps its own header over the same header from an earlier guard', () => {
    const guard = compose(
      () => ({ action: 'continue', responseHeaders: new Headers({ 'cache-control': 'max-age=60', 'x-a': '1' }) }),
      () => ({ action: 'respond', status: 503, headers: new Headers({ 'cache-control': 'no-store' }) }),
    );
    const verdict = guard(request) as Verdict & { action: 'respond' };
    expect(verdict.headers?.get('cache-control')).toBe('no-store');
    expect(verdict.headers?.get('x-a')).toBe('1');
  });

  test('accepts guards whose context type is an interface (no index signature)', () => {
    interface Identity {
      user: string;
    }
    const identify: Guard<Identity> = () => ({ action: 'continue', context: { user: 'ada' } });
    const verdict = compose(identify, () => ({ action: 'continue' }))(request) as Verdict;
    expect(verdict.action === 'continue' ? verdict.context : undefined).toEqual({ user: 'ada' });
  });

  test('rejects a non-function guard at composition time', () => {
    expect(() => compose(() => ({ action: 'continue' }), 42 as unknown as Guard)).toThrow(
      'compose: guard 1 is not a function',
    );
  });
});
