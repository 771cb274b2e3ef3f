import { InvalidOptionError } from '@portcullis/core';
import type { RouteTable } from './table.js';

/**
 * A route table that can be replaced at runtime. `replace` swaps one reference: a request reads
 * `current` once, when it is matched, so it sees the old table or the new one whole, never a mix,
 * and keeps the route it matched until it ends.
 *
 * @example
 * ```ts
 * import { createRouteTable, RouteTableRef } from '@portcullis/router';
 *
 * const ref = new RouteTableRef(createRouteTable([{ name: 'v1', path: '/', prefix: true }]));
 * ref.replace(createRouteTable([{ name: 'v2', path: '/', prefix: true }])); // built (and validated) first
 * ```
 */
export class RouteTableRef<Meta = unknown> {
  #current: RouteTable<Meta>;

  constructor(table: RouteTable<Meta>) {
    this.#current = checkTable(table);
  }

  /** The table new requests are matched against. */
  get current(): RouteTable<Meta> {
    return this.#current;
  }

  /**
   * Makes `table` the one new requests are matched against; returns the previous one. Build the
   * new table with `createRouteTable` first: a table that fails to build never replaces one.
   */
  replace(table: RouteTable<Meta>): RouteTable<Meta> {
    const previous = this.#current;
    this.#current = checkTable(table);
    return previous;
  }
}

function checkTable<Meta>(table: RouteTable<Meta>): RouteTable<Meta> {
  if (typeof (table as unknown) !== 'object' || typeof (table as Partial<RouteTable<Meta>>).match !== 'function') {
    throw new InvalidOptionError('table', table, 'a table built by createRouteTable');
  }
  return table;
}
