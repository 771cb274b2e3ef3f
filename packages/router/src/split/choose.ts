import { hash32, mix32 } from './hash.js';

/** A variant as {@link chooseVariant} sees it: its name, its current weight and its hash seed. */
export interface WeightedCandidate {
  /** The variant's name. */
  readonly name: string;
  /** Its weight, >= 0 (0: never chosen). */
  readonly weight: number;
  /** Its seed (see `seedOf`): the split's and the variant's names hashed together. */
  readonly seed: number;
}

/** The seed keys are hashed under (FNV-1a's offset basis). */
const KEY_SEED = 0x811c9dc5;

/** 2^32: maps a 32-bit hash into (0, 1). */
const TWO_POW_32 = 4_294_967_296;

/**
 * Weighted rendezvous hashing: every candidate scores the key as `-weight / ln(u)`, where `u` in
 * (0, 1) is the key's hash mixed with the candidate's seed (`mix32`; the key is hashed once), and
 * the highest score wins. A candidate wins
 * with probability `weight / Σ weights`, and a candidate's score depends only on its own weight, so:
 *
 * - the same key with the same weights always gets the same variant (sticky);
 * - raising one variant's weight (and lowering others') never moves a key out of it, and the keys
 *   that move go only into it (monotone under ramp-up, minimal disruption).
 *
 * Returns `undefined` when no candidate has a positive weight.
 *
 * @example
 * ```ts
 * const candidates = [
 *   { name: 'stable', weight: 95, seed: seedOf('api:stable') },
 *   { name: 'canary', weight: 5, seed: seedOf('api:canary') },
 * ];
 * chooseVariant(candidates, 'user-42'); // 'stable' (for about 95 % of keys)
 * ```
 */
export function chooseVariant(candidates: readonly WeightedCandidate[], key: string): string | undefined {
  return chooseCandidate(candidates, key)?.name;
}

/**
 * {@link chooseVariant}, answering the candidate itself. Prepares a {@link Race} for this one
 * choice: a caller choosing many keys under the same weights keeps the race instead.
 */
export function chooseCandidate<C extends WeightedCandidate>(candidates: readonly C[], key: string): C | undefined {
  return new Race(candidates).choose(key);
}

/**
 * Candidates prepared for many choices under the same weights: the positive ones, with their
 * seeds and `1 / weight` in typed arrays, so that a choice reads no candidate object and divides
 * nothing. One positive candidate is the answer for every key, without hashing.
 *
 * A choice's answer is exactly that of the scores ({@link chooseByScores}), but most keys are
 * decided without a logarithm. A candidate's race time `−ln(u) / weight` (the inverse of its score)
 * lies in an interval read from a table: `u`'s top {@link LOG_BITS} bits name the slot `k`, and
 * `−ln` of the slot's ends bound `−ln(u)` (`u` is never an end: it is a 32-bit hash plus one half,
 * over 2^32). When the interval of the smallest upper bound ends, by a relative margin far above
 * rounding error, before every other candidate's interval begins, that candidate wins; otherwise
 * (close calls, about one key in a hundred for two variants) the scores are computed with
 * `Math.log`. The choice was most of `split.assign()`'s time.
 *
 * @example
 * ```ts
 * const race = new Race([
 *   { name: 'stable', weight: 95, seed: seedOf('api:stable') },
 *   { name: 'canary', weight: 5, seed: seedOf('api:canary') },
 * ]);
 * race.choose('user-42')?.name; // 'stable' (for about 95 % of keys)
 * ```
 */
export class Race<C extends WeightedCandidate> {
  /** The candidates as given: the full scores read them (they skip the non-positive ones). */
  readonly #all: readonly C[];
  /** The candidates with a positive weight, in the order given (the first wins a tie). */
  readonly #items: readonly C[];
  readonly #seeds: Int32Array;
  readonly #inverses: Float64Array;
  /** A weight so small or large that the bounds would overflow or lose precision: the full scores always. */
  readonly #scoresOnly: boolean;

  constructor(candidates: readonly C[]) {
    this.#all = candidates;
    this.#items = candidates.filter((c) => c.weight > 0);
    this.#seeds = Int32Array.from(this.#items, (c) => c.seed | 0);
    this.#inverses = Float64Array.from(this.#items, (c) => 1 / c.weight);
    this.#scoresOnly = this.#inverses.some((inverse) => !(inverse < MAX_INVERSE && inverse > MIN_INVERSE));
  }

  /** The candidate `key` goes to, or `undefined` when no candidate has a positive weight. */
  choose(key: string): C | undefined {
    const items = this.#items;
    const n = items.length;
    if (n <= 1) return items[0];
    const keyHash = hash32(KEY_SEED, key);
    if (this.#scoresOnly) return chooseByScores(this.#all, keyHash);
    const seeds = this.#seeds;
    const inverses = this.#inverses;
    let first = -1;
    let firstHigh = Infinity;
    // The two smallest lower bounds, and whose the smallest is: the others' bound is one of them.
    let lowest = Infinity;
    let lowestOf = -1;
    let secondLowest = Infinity;
    for (let i = 0; i < n; i++) {
      const slot = mix32(seeds[i] as number, keyHash) >>> (32 - LOG_BITS);
      const inverse = inverses[i] as number;
      const low = (NEG_LOG[slot + 1] as number) * inverse;
      const high = (NEG_LOG[slot] as number) * inverse;
      if (first === -1 || high < firstHigh) {
        firstHigh = high;
        first = i;
      }
      if (low < lowest) {
        secondLowest = lowest;
        lowest = low;
        lowestOf = i;
      } else if (low < secondLowest) {
        secondLowest = low;
      }
    }
    const othersLowest = lowestOf === first ? secondLowest : lowest;
    // Not decided by the bounds (also for a key in the table's first slot, whose bound is infinite).
    if (firstHigh * (1 + MARGIN) < othersLowest * (1 - MARGIN)) return items[first];
    return chooseByScores(this.#all, keyHash);
  }
}

/** Bits of `u` that name its slot in {@link NEG_LOG}: 1,024 slots, 8 KiB. */
const LOG_BITS = 10;

/**
 * `NEG_LOG[k] = −ln(k / 1024)`, for `k` from 0 (+∞) to 1,024 (0): for `u` in slot `k`, that is in
 * (k / 1024, (k + 1) / 1024), `NEG_LOG[k + 1] < −ln(u) < NEG_LOG[k]`. `Math.log` is within an ulp
 * or so; {@link MARGIN} is far wider.
 */
const NEG_LOG = new Float64Array((1 << LOG_BITS) + 1);
for (let k = 0; k <= 1 << LOG_BITS; k++) NEG_LOG[k] = k === 1 << LOG_BITS ? 0 : -Math.log(k / (1 << LOG_BITS));

/** `1 / weight` outside these, the bounds are left to the full scores (no overflow, no subnormals). */
const MAX_INVERSE = 1e290;
const MIN_INVERSE = 1e-290;

/**
 * The relative margin by which the bounds must separate: their rounding error is a few units in
 * the last place (about 1e-15), so 1e-9 leaves every close call to the logarithms.
 */
const MARGIN = 1e-9;

/** The scores computed in full: the highest `−weight / ln(u)` wins, the first one on a tie. */
export function chooseByScores<C extends WeightedCandidate>(candidates: readonly C[], keyHash: number): C | undefined {
  let best: C | undefined;
  let bestScore = -Infinity;
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i] as C;
    if (!(candidate.weight > 0)) continue;
    // (h + 0.5) / 2^32 is in (0, 1), so ln(u) < 0 and the score is finite and positive.
    const u = (mix32(candidate.seed, keyHash) + 0.5) / TWO_POW_32;
    const score = -candidate.weight / Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = candidate;
    }
  }
  return best;
}

/** The hash {@link chooseCandidate} scores `key` by (exported for tests that compare with {@link chooseByScores}). */
export function keyHashOf(key: string): number {
  return hash32(KEY_SEED, key);
}
