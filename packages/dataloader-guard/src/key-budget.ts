import { positiveInteger } from '@portcullis/core';
import { TooManyKeysError } from './errors.js';

/**
 * How many keys may still reach the backend: a loader's own (`maxKeys`) or one request's, shared by
 * its loaders (`maxKeysPerRequest`, see {@link createKeyBudget}). Once a load asks for one key more,
 * the budget is exceeded for good and tells the loaders that use it, which fail the keys still
 * waiting for their batch: a query that asks for 50,000 items in one go is refused whole, before
 * any batch leaves.
 *
 * @example
 * ```ts
 * import { createKeyBudget } from '@portcullis/dataloader-guard';
 *
 * const budget = createKeyBudget(2);
 * budget.take('users'); // undefined: fits
 * budget.take('users'); // undefined: fits
 * budget.take('users'); // a TooManyKeysError, and from now on for every key
 * ```
 */
export class KeyBudget {
  /** Brand: recognised across copies of this package (ESM and CJS builds). */
  readonly isKeyBudget = true as const;
  /** The most keys allowed. */
  readonly maxKeys: number;
  readonly #scope: 'loader' | 'request';
  #used = 0;
  #exceeded: TooManyKeysError | undefined;
  /** What to tell when exceeded: at most one per loader using the budget. */
  readonly #onExceeded = new Set<(error: TooManyKeysError) => void>();

  /**
   * @param maxKeys - The most keys allowed, whole number >= 1.
   * @param scope - Whose budget it is, for the error: `'loader'` or `'request'`.
   */
  constructor(maxKeys: number, scope: 'loader' | 'request' = 'request') {
    this.maxKeys = positiveInteger(maxKeys, scope === 'request' ? 'maxKeysPerRequest' : 'maxKeys');
    this.#scope = scope;
  }

  /** Keys taken so far. */
  get used(): number {
    return this.#used;
  }

  /** The error every refused key gets, once the budget is exceeded. */
  get exceeded(): TooManyKeysError | undefined {
    return this.#exceeded;
  }

  /**
   * Takes one key; returns `undefined` when it fits, otherwise the error to fail it with. The first
   * refusal tells every listener (see {@link KeyBudget.onExceeded}).
   */
  take(loader: string | undefined): TooManyKeysError | undefined {
    if (this.#exceeded === undefined && this.#used < this.maxKeys) {
      this.#used++;
      return undefined;
    }
    return this.#refuse(loader);
  }

  /** The refusal: the error made (and every listener told) at the first one. */
  #refuse(loader: string | undefined): TooManyKeysError {
    if (this.#exceeded !== undefined) return this.#exceeded;
    const error = new TooManyKeysError(this.maxKeys, this.#scope, this.#scope === 'loader' ? loader : undefined);
    this.#exceeded = error;
    for (const listener of this.#onExceeded) listener(error);
    this.#onExceeded.clear();
    return error;
  }

  /**
   * Takes one key if one is left, without ever exceeding the budget: for work nobody asked for (a
   * background refresh), which must not fail the request's keys when there is no room.
   */
  tryTake(): boolean {
    if (this.#exceeded !== undefined || this.#used >= this.maxKeys) return false;
    this.#used++;
    return true;
  }

  /** Gives back a key taken by {@link KeyBudget.take} that was not sent after all. */
  refund(): void {
    if (this.#used > 0) this.#used--;
  }

  /** Calls `listener` once when the budget is first exceeded; returns the function that unsubscribes. */
  onExceeded(listener: (error: TooManyKeysError) => void): () => void {
    this.#onExceeded.add(listener);
    return () => this.#onExceeded.delete(listener);
  }
}

/**
 * A key budget for several loaders at once, usually one per request: together they may send at
 * most `maxKeys` keys to their backends. `createLoaderFactory`'s `maxKeysPerRequest` makes one
 * for each request; pass one as `budget` to loaders you build yourself.
 *
 * @param maxKeys - Whole number >= 1.
 * @throws InvalidOptionError when `maxKeys` is not a whole number >= 1.
 *
 * @example
 * ```ts
 * import { createKeyBudget, createLoader } from '@portcullis/dataloader-guard';
 *
 * const budget = createKeyBudget(1_000);
 * const users = createLoader(fetchUsers, { budget });
 * const products = createLoader(fetchProducts, { budget }); // 1,000 keys between the two
 * ```
 */
export function createKeyBudget(maxKeys: number): KeyBudget {
  return new KeyBudget(maxKeys, 'request');
}
