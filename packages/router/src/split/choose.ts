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
 * The answer is exactly that of the scores above, but most keys are decided without a logarithm:
 * with `x = 1/u > 1`, `2(x − 1)/(x + 1) ≤ ln x ≤ (x − 1)/√x`, so each candidate's race time
 * `−ln(u) / weight` (the inverse of its score) lies in an interval computed with a square root.
 * When the interval of the smallest upper bound ends, by a relative margin far above rounding
 * error, before every other candidate's interval begins, that candidate wins; otherwise (close
 * calls) the scores are computed with `Math.log` as before. Two `Math.log` calls were a tenth of a
 * routing decision's instructions.
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
    // (h + 0.5) / 2^32 is in (0, 1) and has at most 33 significant bits, so 1 − u is exact.
    const u = (mix32(candidate.seed, keyHash) + 0.5) / TWO_POW_32;
    const gap = 1 - u;
    const low = (2 * gap) / ((1 + u) * weight);
    const high = gap / (Math.sqrt(u) * weight);
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
  // Not decided by the bounds (also when they overflowed, for a tiny weight): the full scores.
  if (firstHigh * (1 + MARGIN) < othersLowest * (1 - MARGIN)) return first;
  return chooseByScores(candidates, keyHash);
}

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
