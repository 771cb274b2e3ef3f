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

/** {@link chooseVariant}, answering the candidate itself (the split keeps its answers on it). */
export function chooseCandidate<C extends WeightedCandidate>(candidates: readonly C[], key: string): C | undefined {
  let best: C | undefined;
  let bestScore = -Infinity;
  const keyHash = hash32(KEY_SEED, key);
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
