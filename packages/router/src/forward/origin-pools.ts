import type { Dispatcher } from 'undici';
import { reportUnhandled } from '@portcullis/core';

/** Makes the connection pool for one origin (`http://host:port`). */
export type DispatcherFactory = (origin: string) => Dispatcher;

/**
 * One keep-alive connection pool per upstream origin, made on first use, at most `max` of them:
 * past that the oldest is closed (gracefully: its requests in flight finish) to make room, so a
 * discovery source that churns through addresses cannot grow the map without bound.
 */
export class OriginPools {
  readonly #pools = new Map<string, Dispatcher>();
  readonly #max: number;
  readonly #create: DispatcherFactory;
  #closed = false;

  constructor(max: number, create: DispatcherFactory) {
    this.#max = max;
    this.#create = create;
  }

  /** The pool for `origin`; `undefined` once {@link OriginPools.close} was called. Throws when the factory does. */
  get(origin: string): Dispatcher | undefined {
    const pool = this.#pools.get(origin);
    if (pool !== undefined || this.#closed) return pool;
    if (this.#pools.size >= this.#max) {
      const oldest = this.#pools.keys().next().value as string;
      closeQuietly(this.#pools.get(oldest) as Dispatcher);
      this.#pools.delete(oldest);
    }
    const created = this.#create(origin);
    this.#pools.set(origin, created);
    return created;
  }

  /** How many origins have a pool. */
  get size(): number {
    return this.#pools.size;
  }

  /** Closes every pool (requests in flight finish first) and refuses new ones. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

function closeQuietly(pool: Dispatcher): void {
  pool.close().catch(function reportCloseError(error: unknown) {
    reportUnhandled(error, 'forwarder pool close');
  });
}
