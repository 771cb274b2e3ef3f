/** One call of the batch function on some keys, its answer already matched to them. */
export type KeyedCall<K, V> = (keys: readonly K[]) => Promise<ArrayLike<V | Error>>;

/** What {@link isolateFailures} found: an outcome per key, and the calls it made. */
export interface Isolated<V> {
  readonly outcomes: (V | Error)[];
  readonly calls: number;
}

/**
 * After a batch failed as a whole (`error`), finds the keys that fail by splitting: each failed
 * part is halved and each half tried again, until single keys or until `maxCalls` more calls are
 * made; keys of a part not tried again keep the error of its last attempt. One bad key among `n`
 * is isolated with about 2·log2(n) calls. Calls run one after another (the batch keeps one
 * concurrency slot), and stop as soon as `alive()` turns false (timeout, abort).
 */
export async function isolateFailures<K, V>(
  keys: readonly K[],
  error: unknown,
  call: KeyedCall<K, V>,
  maxCalls: number,
  alive: () => boolean,
): Promise<Isolated<V>> {
  const outcomes = new Array<V | Error>(keys.length);
  let calls = 0;
  // Depth first: a stack of failed parts [from, to) with the error each failed with.
  const failed: { from: number; to: number; error: unknown }[] = [{ from: 0, to: keys.length, error }];
  while (failed.length > 0) {
    const part = failed.pop() as { from: number; to: number; error: unknown };
    const size = part.to - part.from;
    if (size === 1 || calls >= maxCalls || !alive()) {
      fill(outcomes, part.from, part.to, part.error);
      continue;
    }
    const middle = part.from + Math.ceil(size / 2);
    const halves = [
      { from: part.from, to: middle },
      { from: middle, to: part.to },
    ];
    const retried: { from: number; to: number; error: unknown }[] = [];
    for (const half of halves) {
      if (calls >= maxCalls || !alive()) {
        fill(outcomes, half.from, half.to, part.error);
        continue;
      }
      calls++;
      try {
        const answer = await call(keys.slice(half.from, half.to));
        for (let i = half.from; i < half.to; i++) outcomes[i] = answer[i - half.from] as V | Error;
      } catch (halfError) {
        retried.push({ ...half, error: halfError });
      }
    }
    // Pushed in reverse so the first half is split first.
    for (let i = retried.length - 1; i >= 0; i--) failed.push(retried[i] as (typeof retried)[number]);
  }
  return { outcomes, calls };
}

function fill(outcomes: unknown[], from: number, to: number, error: unknown): void {
  const asError = error instanceof Error ? error : new Error(String(error), { cause: error });
  for (let i = from; i < to; i++) outcomes[i] = asError;
}
