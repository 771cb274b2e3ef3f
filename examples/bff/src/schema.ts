import { createSchema } from 'graphql-yoga';
import type { GraphQLSchemaWithContext, YogaInitialContext } from 'graphql-yoga';
import { isTooManyKeysError } from '@portcullis/dataloader-guard';
import type { Item, Order, Product, User } from './data.js';
import { nullIfMissing, toGraphQLError } from './errors.js';
import type { BffLoaders } from './loaders.js';

/** What every resolver gets: the request's loaders. */
export interface BffContext {
  readonly loaders: BffLoaders;
}

const typeDefs = /* GraphQL */ `
  type Query {
    "A user by id, or null."
    user(id: ID!): User
    "Products by id: at most the query's item budget."
    products(ids: [ID!]!): [Product]
  }
  type User {
    id: ID!
    name: String!
    orders: [Order]
  }
  type Order {
    id: ID!
    status: String!
    items: [Item]
  }
  type Item {
    id: ID!
    quantity: Int!
    product: Product
  }
  type Product {
    id: ID!
    name: String!
    price: Float!
    variants: [Variant]
  }
  type Variant {
    id: ID!
    name: String!
    options: [String!]!
  }
`;

/** A list loaded by id: an item that failed is that item's error (null in `data`), not the list's. */
async function listOf<V>(load: Promise<(V | Error)[]>): Promise<unknown[]> {
  const results = await load;
  const refused = results.find(isTooManyKeysError);
  // Over budget: one clear error for the whole field rather than one per item.
  if (refused !== undefined) throw toGraphQLError(refused);
  return results.map((result) => (result instanceof Error ? toGraphQLError(result) : result));
}

/** The BFF's schema: every field that reaches a service goes through the request's loaders. */
export function bffSchema(): GraphQLSchemaWithContext<BffContext & YogaInitialContext> {
  return createSchema<BffContext & YogaInitialContext>({
    typeDefs,
    resolvers: {
      Query: {
        user: (_: unknown, args: { id: string }, { loaders }: BffContext) =>
          loaders.users.load(args.id).catch(nullIfMissing),
        products: (_: unknown, args: { ids: readonly string[] }, { loaders }: BffContext) =>
          listOf(loaders.products.loadMany(args.ids)),
      },
      User: {
        orders: (user: User, _: unknown, { loaders }: BffContext) => listOf(loaders.orders.loadMany(user.orderIds)),
      },
      Order: {
        items: (order: Order, _: unknown, { loaders }: BffContext) => listOf(loaders.items.loadMany(order.itemIds)),
      },
      Item: {
        product: (item: Item, _: unknown, { loaders }: BffContext): Promise<Product | null> =>
          loaders.products.load(item.productId).catch(nullIfMissing),
      },
    },
  });
}
