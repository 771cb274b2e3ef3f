import { createGatewayRequest, type ContinueVerdict } from '@portcullis/core';
import { describe, expect, test } from 'vitest';
import { RouteTableRef } from '../routes/table-ref.js';
import { createRouteTable } from '../routes/table.js';
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
