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
 * {@link chooseVariant}, answering the candidate itself (the split keeps its answers on it).
 *
 * The answer is exactly that of the scores above, but most keys are decided without a logarithm.
 * A candidate's race time `−ln(u) / weight` (the inverse of its score) lies in an interval read
 * from a table: `u`'s top {@link LOG_BITS} bits name the slot `k`, and `−ln` of the slot's ends
 * bound `−ln(u)` (`u` is never an end: it is a 32-bit hash plus one half, over 2^32). When the
 * interval of the smallest upper bound ends, by a relative margin far above rounding error,
 * before every other candidate's interval begins, that candidate wins; otherwise (close calls,
 * about one key in a hundred for two variants) the scores are computed with `Math.log`. The table
 * replaced bounds computed per candidate with a square root and two divisions, themselves a
 * replacement for two `Math.log` calls: the choice was most of `split.assign()`'s time.
 */
export function chooseCandidate<C extends WeightedCandidate>(candidates: readonly C[], key: string): C | undefined {
  const keyHash = hash32(KEY_SEED, key);
  let first: C | undefined;
  let firstHigh = Infinity;
  // The two smallest lower bounds, and whose the smallest is: the others' bound is one of them.
  let lowest = Infinity;
  let lowestOf: C | undefined;
  let secondLowest = Infinity;
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i] as C;
    const weight = candidate.weight;
    if (!(weight > 0)) continue;
    const inverse = 1 / weight;
    // A weight so small or large that the bounds would overflow or lose precision: the full scores.
    if (!(inverse < MAX_INVERSE && inverse > MIN_INVERSE)) return chooseByScores(candidates, keyHash);
    const slot = mix32(candidate.seed, keyHash) >>> (32 - LOG_BITS);
    const low = (NEG_LOG[slot + 1] as number) * inverse;
    const high = (NEG_LOG[slot] as number) * inverse;
    if (first === undefined || high < firstHigh) {
      firstHigh = high;
      first = candidate;
    }
    if (low < lowest) {
      secondLowest = lowest;
      lowest = low;
      lowestOf = candidate;
    } else if (low < secondLowest) {
      secondLowest = low;
    }
  }
  if (first === undefined) return undefined;
  const othersLowest = lowestOf === first ? secondLowest : lowest;
  // Not decided by the bounds (also for a key in the table's first slot, whose bound is infinite).
  if (firstHigh * (1 + MARGIN) < othersLowest * (1 - MARGIN)) return first;
  return chooseByScores(candidates, keyHash);
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
