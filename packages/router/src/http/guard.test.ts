import { createGatewayRequest, isInvalidOptionError, type ContinueVerdict } from '@portcullis/core';
import { describe, expect, test } from 'vitest';
import { RouteTableRef } from '../routes/table-ref.js';
import { createRouteTable } from '../routes/table.js';
import type { AsyncFlagSource } from '../split/flags.js';
import { createSplit } from '../split/split.js';
import { routerGuard, type RouteOutcome, type RouterContext } from './guard.js';

const get = (url: string) => createGatewayRequest({ method: 'GET', url, header: () => undefined });

describe('router guard', () => {
  test('a replaced table serves new requests whole; a request in flight keeps the route it matched', () => {
    const ref = new RouteTableRef(
      createRouteTable([
        { name: 'old-users', path: '/users/:id' },
        { name: 'old-orders', path: '/orders' },
      ]),
    );
    const outcomes: RouteOutcome[] = [];
    const guard = routerGuard({ table: ref, onComplete: (result) => outcomes.push(result) });

    const inFlight = guard(get('/users/1')) as ContinueVerdict<RouterContext>;
    const previous = ref.replace(createRouteTable([{ name: 'new-users', path: '/users/:uid' }]));
    expect(previous.routes.map((r) => r.name)).toEqual(['old-users', 'old-orders']);

    const after = guard(get('/users/2')) as ContinueVerdict<RouterContext>;
    expect(after.context?.route.name).toBe('new-users');
    expect(after.context?.params).toEqual({ uid: '2' });
    // The new table is whole: the old table's other routes are gone with it.
    expect(guard(get('/orders'))).toMatchObject({ action: 'respond', status: 404 });

    inFlight.onComplete?.({ status: 201, durationMs: 5 });
    expect(inFlight.context?.route.name).toBe('old-users');
    expect(outcomes.map((o) => [o.route.name, o.params, o.outcome.status])).toEqual([['old-users', { id: '1' }, 201]]);
  });

  test('a table that fails to build never replaces the current one', () => {
    const ref = new RouteTableRef(createRouteTable([{ name: 'a', path: '/a' }]));
    expect(() =>
      ref.replace(
        createRouteTable([
          { name: 'x', path: '/x/:a' },
          { name: 'y', path: '/x/:b' },
        ]),
      ),
    ).toThrow(/cannot be told apart/);
    expect(ref.current.routes.map((r) => r.name)).toEqual(['a']);
  });
});

describe('router guard options', () => {
  const split = createSplit({ name: 's', variants: [{ name: 'stable', weight: 1 }, { name: 'canary' }] });
  const canary = { record: () => undefined };

  test('refuses a variant header that is not a header name', () => {
    const table = createRouteTable([{ name: 'a', path: '/a' }]);
    for (const bad of ['', 'x variant', 'x:variant', 42]) {
      let thrown: unknown;
      try {
        routerGuard({ table, variantHeader: bad as string });
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown) && thrown.option).toBe('variantHeader');
    }
  });

  test('refuses a canary without a split, and a split or canary of the wrong shape, naming the route', () => {
    const cases: [object, string][] = [
      [{ canary }, 'routes[0].canary'],
      [{ split, canary: {} }, 'routes[0].canary'],
      [{ split: { name: 'not a split' } }, 'routes[0].split'],
    ];
    for (const [extra, option] of cases) {
      let thrown: unknown;
      try {
        createRouteTable([{ name: 'a', path: '/a', ...extra }]);
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown) && thrown.option).toBe(option);
    }
  });

  test('the canary is told even when onComplete throws, and onComplete even when the canary throws', () => {
    const recorded: string[] = [];
    const reported: (string | undefined)[] = [];
    const table = createRouteTable([
      { name: 'a', path: '/a', split, canary: { record: (variant) => recorded.push(variant) } },
      {
        name: 'b',
        path: '/b',
        split,
        canary: {
          record: () => {
            throw new Error('canary broke');
          },
        },
      },
    ]);
    const guard = routerGuard({
      table,
      onComplete: ({ route, variant }) => {
        reported.push(variant);
        if (route.name === 'a') throw new Error('listener broke');
      },
    });
    const a = guard(get('/a')) as ContinueVerdict<RouterContext>;
    expect(() => a.onComplete?.({ status: 200, durationMs: 1 })).toThrow('listener broke');
    const b = guard(get('/b')) as ContinueVerdict<RouterContext>;
    expect(() => b.onComplete?.({ status: 200, durationMs: 1 })).toThrow('canary broke');
    expect(recorded).toEqual(['stable']);
    expect(reported).toEqual(['stable', 'stable']);
  });
});

describe('router guard with an asynchronous flag source', () => {
  const flagged = (flags: AsyncFlagSource) =>
    createSplit({
      name: 'checkout',
      variants: [
        { name: 'stable', weight: 100 },
        { name: 'beta', flag: 'new-checkout' },
      ],
      flags,
      flagTimeoutMs: 20,
      onFlagError: () => undefined,
    });

  test('awaits the flags before assigning: the verdict carries the flagged variant, upstream too', async () => {
    const table = createRouteTable([
      {
        name: 'checkout',
        path: '/checkout',
        split: flagged({ isOn: (flag) => Promise.resolve(flag === 'new-checkout') }),
      },
    ]);
    const verdict = routerGuard({ table, variantHeader: 'x-variant' })(get('/checkout'));
    expect(verdict).toBeInstanceOf(Promise);
    const resolved = (await verdict) as ContinueVerdict<RouterContext>;
    expect(resolved.context?.variant).toBe('beta');
    expect(new Headers(resolved.upstreamHeaders).get('x-variant')).toBe('beta');
  });

  test('a flag source that never answers is cut by the split: the guard continues with the weighted variant', async () => {
    const table = createRouteTable([
      { name: 'checkout', path: '/checkout', split: flagged({ isOn: () => new Promise<boolean>(() => undefined) }) },
    ]);
    const resolved = (await routerGuard({ table })(get('/checkout'))) as ContinueVerdict<RouterContext>;
    expect(resolved).toMatchObject({ action: 'continue', context: { variant: 'stable' } });
  });

  test('routes without an asynchronous source keep a synchronous verdict', () => {
    const table = createRouteTable([
      { name: 'a', path: '/a', split: createSplit({ name: 's', variants: [{ name: 'stable', weight: 1 }] }) },
      { name: 'b', path: '/b' },
    ]);
    const guard = routerGuard({ table });
    expect(guard(get('/a'))).not.toBeInstanceOf(Promise);
    expect(guard(get('/b'))).not.toBeInstanceOf(Promise);
  });
});
