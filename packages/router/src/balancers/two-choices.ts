import { aliasDraw, type AliasTable } from './alias-table.js';
import { uniform } from './uniform.js';

/** How often the second draw is retried when it lands on the first candidate. */
const REDRAWS = 8;

/**
 * Draws two distinct candidates from `table` (in proportion to the weights it was built from) into
 * `out[0]` and `out[1]`, allocating nothing. The second is redrawn while it equals the first, up to
 * 8 times; if it still does (one candidate holds nearly all the weight), it is drawn uniformly from
 * the others. With a single outcome both slots hold it. Exported for the tests, which replay a
 * balancer's draws from the same random sequence.
 */
export function drawTwo(table: AliasTable, random: (() => number) | undefined, out: Int32Array): void {
  const first = aliasDraw(table, uniform(random));
  out[0] = first;
  if (table.size === 1) {
    out[1] = first;
    return;
  }
  for (let i = 0; i < REDRAWS; i++) {
    const second = aliasDraw(table, uniform(random));
    if (second !== first) {
      out[1] = second;
      return;
    }
  }
  out[1] = (first + 1 + Math.min(table.size - 2, Math.floor(uniform(random) * (table.size - 1)))) % table.size;
}
