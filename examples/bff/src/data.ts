/** The demo data behind the three services: a user with 5 orders of 4 items each, and a large catalog. */

export interface User {
  readonly id: string;
  readonly name: string;
  readonly orderIds: readonly string[];
}

export interface Order {
  readonly id: string;
  readonly userId: string;
  readonly status: string;
  readonly itemIds: readonly string[];
}

export interface Item {
  readonly id: string;
  readonly orderId: string;
  readonly productId: string;
  readonly quantity: number;
}

export interface Variant {
  readonly id: string;
  readonly name: string;
  readonly options: readonly string[];
}

export interface Product {
  readonly id: string;
  readonly name: string;
  readonly price: number;
  readonly variants: readonly Variant[];
}

/** Products in the catalog: `p1` … `p60000`, enough for the 50,000-item query. */
export const CATALOG_SIZE = 60_000;

const STATUSES = ['paid', 'shipped', 'delivered', 'returned', 'cancelled'];

/** Users `u1` … `u3`, each with 5 orders of 4 items; every item of a user is a different product. */
export function demoData(): { users: Map<string, User>; orders: Map<string, Order>; items: Map<string, Item> } {
  const users = new Map<string, User>();
  const orders = new Map<string, Order>();
  const items = new Map<string, Item>();
  for (let u = 1; u <= 3; u++) {
    const orderIds: string[] = [];
    for (let o = 1; o <= 5; o++) {
      const orderId = `o${String(u)}-${String(o)}`;
      const itemIds: string[] = [];
      for (let i = 1; i <= 4; i++) {
        const itemId = `i${String(u)}-${String(o)}-${String(i)}`;
        const productId = `p${String((u - 1) * 20 + (o - 1) * 4 + i)}`;
        items.set(itemId, { id: itemId, orderId, productId, quantity: i });
        itemIds.push(itemId);
      }
      orders.set(orderId, { id: orderId, userId: `u${String(u)}`, status: STATUSES[o - 1] as string, itemIds });
      orderIds.push(orderId);
    }
    users.set(`u${String(u)}`, { id: `u${String(u)}`, name: ['Ada', 'Grace', 'Edsger'][u - 1] as string, orderIds });
  }
  return { users, orders, items };
}

/** A catalog product, computed from its id (`p1` … `p60000`); undefined for any other id. */
export function productOf(id: string): Product | undefined {
  const match = /^p([1-9]\d*)$/.exec(id);
  const n = match === null ? Number.NaN : Number(match[1]);
  if (!(n >= 1 && n <= CATALOG_SIZE)) return undefined;
  return {
    id,
    name: `Product ${String(n)}`,
    price: Math.round(n * 137) / 100,
    variants: [
      { id: `${id}-s`, name: 'small', options: ['red', 'blue'] },
      { id: `${id}-l`, name: 'large', options: ['red'] },
    ],
  };
}
