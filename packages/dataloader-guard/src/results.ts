import { InvalidBatchResultError } from './errors.js';

/**
 * What a batch function may answer: one value (or `Error`) per key, in the keys' order, as
 * DataLoader asks; or a `Map` from key to value (or `Error`), for backends that answer by id.
 */
export type BatchResult<K, V> = ArrayLike<V | Error> | ReadonlyMap<K, V | Error>;

/**
 * Matches a batch function's answer to its keys: one value or `Error` per key. A `Map` missing a
 * key gives that key an {@link InvalidBatchResultError} (`'missing'`). Throws an
 * `InvalidBatchResultError` when the answer as a whole cannot be matched: not an array-like nor a
 * `Map`, or an array of another length (positions can then not be trusted for any key).
 */
export function matchResults<V>(keys: readonly unknown[], result: unknown): ArrayLike<V | Error> {
  if (result instanceof Map) return fromMap(keys, result as ReadonlyMap<unknown, V | Error>);
  if (!isArrayLike(result)) {
    throw new InvalidBatchResultError('not-a-list', `expected an array or a Map, got ${describe(result)}`);
  }
  if (result.length !== keys.length) {
    throw new InvalidBatchResultError(
      'length',
      `expected ${String(keys.length)} values (one per key, in order), got ${String(result.length)}`,
    );
  }
  return result as ArrayLike<V | Error>;
}

function fromMap<V>(keys: readonly unknown[], map: ReadonlyMap<unknown, V | Error>): (V | Error)[] {
  const out = new Array<V | Error>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    out[i] = map.has(key)
      ? (map.get(key) as V | Error)
      : new InvalidBatchResultError('missing', `the answer has no entry for key ${describe(key)}`);
  }
  return out;
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { length?: unknown }).length === 'number' &&
    Number.isSafeInteger((value as { length: number }).length) &&
    (value as { length: number }).length >= 0
  );
}

/** A short rendering of a value for an error message (bounded). */
function describe(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'function') text = 'a function';
  else if (value === null || typeof value !== 'object') text = String(value);
  else text = Object.prototype.toString.call(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
