import { ManualClock } from '@portcullis/testkit';
import { afterEach, describe, expect, onTestFinished, test } from 'vitest';
import { startBff, type BffOptions } from '../src/bff.js';
import { startServices, type DemoServices } from '../src/services.js';

// Scenario 5 end to end, over real sockets: three demo services, the GraphQL BFF in front of them,
// queries sent as a client would.

const NESTED = '{ user(id: "u1") { name orders { status items { quantity product { name price } } } } }';

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

let services: DemoServices;

afterEach(async () => {
  await services.close();
});

async function setup(options: Omit<BffOptions, 'urls'> = {}): Promise<(query: string) => Promise<GraphQLAnswer>> {
  services = await startServices();
  // A generous deadline unless the test is about the deadline: a loaded CI machine can take more
  // than 500 ms for four calls one after another.
  const bff = await startBff({ urls: services.urls, deadlineMs: 10_000, ...options });
  onTestFinished(() => bff.close());
  return async (query) => {
    const res = await fetch(bff.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as GraphQLAnswer;
  };
}

const calls = (): Record<string, number> => ({
  users: services.log.users.calls,
  orders: services.log.orders.calls,
  products: services.log.products.calls,
});

type NestedUser = { name: string; orders: { items: { product: { name: string } | null }[] }[] };

describe('the BFF (scenario 5)', () => {
  test('the nested query takes 4 batched calls instead of 46', async () => {
    const query = await setup();
    const answer = await query(NESTED);
    expect(answer.errors).toBeUndefined();
    const user = answer.data?.['user'] as NestedUser;
    expect(user.name).toBe('Ada');
    expect(user.orders).toHaveLength(5);
    const products = user.orders.flatMap((o) => o.items.map((i) => i.product?.name));
    expect(products).toHaveLength(20);
    expect(new Set(products).size).toBe(20);
    // users: the user; orders: the orders, then their items; products: the products.
    expect(calls()).toEqual({ users: 1, orders: 2, products: 1 });
    expect(services.log.products.ids).toBe(20);
  });

  test('the same query through loaders that neither batch nor cache: 46 calls (the N+1 it avoids)', async () => {
    // A long deadline: 46 calls one after another level take longer than 500 ms on a loaded machine.
    const query = await setup({ naive: true, deadlineMs: 30_000 });
    const answer = await query(NESTED);
    expect(answer.errors).toBeUndefined();
    // 1 user + 5 orders + 20 items + 20 products.
    expect(calls()).toEqual({ users: 1, orders: 25, products: 20 });
  });

  test('per-type cache TTLs: orders for 5 minutes, users for an hour, products for 6 hours', async () => {
    const clock = new ManualClock();
    const query = await setup({ clock });
    await query(NESTED);
    services.resetLog();
    await query(NESTED);
    expect(calls()).toEqual({ users: 0, orders: 0, products: 0 });
    clock.advance(5 * 60_000);
    await query(NESTED);
    expect(calls()).toEqual({ users: 0, orders: 2, products: 0 });
    clock.advance(60 * 60_000);
    services.resetLog();
    await query(NESTED);
    expect(calls()).toEqual({ users: 1, orders: 2, products: 0 });
    clock.advance(5 * 60 * 60_000);
    services.resetLog();
    await query(NESTED);
    expect(calls()).toEqual({ users: 1, orders: 2, products: 1 });
  });

  test('a query deeper than 5 levels is refused before anything is fetched', async () => {
    const query = await setup();
    const answer = await query('{ user(id: "u1") { orders { items { product { variants { options } } } } } }');
    expect(answer.data).toBeUndefined();
    expect(answer.errors?.[0]?.message).toMatch(/depth/i);
    expect(calls()).toEqual({ users: 0, orders: 0, products: 0 });
    // Five levels are allowed.
    expect((await query('{ user(id: "u1") { orders { items { product { name } } } } }')).errors).toBeUndefined();
  });

  test('the 500 ms deadline: a hung service leaves its fields null with an error each, the rest is answered', async () => {
    const query = await setup({ deadlineMs: 500 });
    // Users, orders and items in the cache first, so that only the hung service decides the outcome.
    expect((await query('{ user(id: "u1") { orders { items { quantity } } } }')).errors).toBeUndefined();
    services.hang('products', true);
    const answer = await query(NESTED);
    const user = answer.data?.['user'] as NestedUser;
    expect(user.name).toBe('Ada');
    expect(user.orders.flatMap((o) => o.items)).toHaveLength(20);
    expect(user.orders.flatMap((o) => o.items.map((i) => i.product))).toEqual(new Array(20).fill(null));
    expect(answer.errors).toHaveLength(20);
    for (const error of answer.errors ?? []) {
      expect(error.extensions?.['code']).toBe('DEADLINE_EXCEEDED');
      expect(error.path?.at(-1)).toBe('product');
    }
    // Asked once (one batch), then given up at the deadline.
    expect(services.log.products.calls).toBe(1);
  });

  test('50,000 products in one query are refused with one clear error; the service sees nothing', async () => {
    const query = await setup();
    const ids = Array.from({ length: 50_000 }, (_, i) => `"p${String(i + 1)}"`).join(',');
    const answer = await query(`{ products(ids: [${ids}]) { name } }`);
    expect(answer.data).toEqual({ products: null });
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors?.[0]).toMatchObject({
      path: ['products'],
      extensions: { code: 'TOO_MANY_ITEMS', maxItems: 1_000 },
    });
    expect(calls()).toEqual({ users: 0, orders: 0, products: 0 });
    // Within the budget, the same field answers in batches of at most 100 ids (the service's limit).
    const some = Array.from({ length: 250 }, (_, i) => `"p${String(i + 1)}"`).join(',');
    const ok = await query(`{ products(ids: [${some}]) { name } }`);
    expect((ok.data?.['products'] as unknown[]).length).toBe(250);
    expect(services.log.products.calls).toBe(3);
  });
});
