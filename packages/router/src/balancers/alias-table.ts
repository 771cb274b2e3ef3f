/**
 * Walker's alias method (Vose's construction): draws an index with probability proportional to
 * its weight in O(1) from one uniform number, after O(k) set-up. Hand-written (about 30 lines)
 * rather than taken from npm: the packages there (`alias-sampling` and its forks) keep boxed JS
 * arrays, call the random source twice per draw and give no way to draw from a number the caller
 * already has, which the two-choices sampler needs to stay replayable.
 */
export interface AliasTable {
  /** Number of outcomes. */
  readonly size: number;
  /** `probability[c]`: the chance that column `c` answers itself rather than its alias. */
  readonly probability: Float64Array;
  /** `alias[c]`: the outcome column `c` answers otherwise. */
  readonly alias: Int32Array;
}

/** Builds the table for `weights` (each > 0; at least one). */
export function aliasTable(weights: ArrayLike<number>): AliasTable {
  const size = weights.length;
  const probability = new Float64Array(size);
  const alias = new Int32Array(size);
  let total = 0;
  for (let i = 0; i < size; i++) total += weights[i] as number;
  // Scaled so that the average column holds exactly 1.
  const scaled = new Float64Array(size);
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < size; i++) {
    scaled[i] = ((weights[i] as number) * size) / total;
    ((scaled[i] as number) < 1 ? small : large).push(i);
    alias[i] = i;
  }
  while (small.length > 0 && large.length > 0) {
    const less = small.pop() as number;
    const more = large.pop() as number;
    probability[less] = scaled[less] as number;
    alias[less] = more;
    scaled[more] = (scaled[more] as number) + (scaled[less] as number) - 1;
    (scaled[more] < 1 ? small : large).push(more);
  }
  // What is left holds 1 up to rounding errors.
  for (const i of large) probability[i] = 1;
  for (const i of small) probability[i] = 1;
  return { size, probability, alias };
}

/** The outcome for a uniform `u` in [0, 1): its integer part picks a column, the rest flips the coin. */
export function aliasDraw(table: AliasTable, u: number): number {
  const x = u * table.size;
  // min(): a u just below 1 can round up to `size` once multiplied.
  const column = Math.min(Math.floor(x), table.size - 1);
  return x - column < (table.probability[column] as number) ? column : (table.alias[column] as number);
}
