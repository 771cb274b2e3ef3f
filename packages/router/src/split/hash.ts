/**
 * A 32-bit hash of `key` under `seed`: FNV-1a over the UTF-16 code units, then MurmurHash3's
 * finaliser so that keys differing in one character land far apart. Hand-written on purpose: it
 * runs on every request a split decides, and `node:crypto` costs about half a microsecond and an
 * allocation per call. Split keys are not secrets (a client can pick its bucket by picking its
 * cookie, but it could as well send the override header), so a non-cryptographic hash is enough.
 *
 * @example
 * ```ts
 * hash32(seedOf('checkout:canary'), 'user-42'); // the same number on every process, every run
 * ```
 */
export function hash32(seed: number, key: string): number {
  // Int32 throughout (XOR and Math.imul read their operands as int32 anyway): a uint32 start made
  // V8 keep `h` as a double in the loop (callgrind: 431 → 317 instructions for a 9-character key).
  let h = seed | 0;
  const length = key.length;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a's offset basis: the seed of {@link seedOf}. */
const FNV_OFFSET = 0x811c9dc5;

/**
 * The seed a name stands for (a split and variant name), so that each variant of each split hashes
 * keys independently of the others.
 *
 * @example
 * ```ts
 * seedOf('checkout:canary') === seedOf('checkout:canary'); // true
 * ```
 */
export function seedOf(name: string): number {
  return hash32(FNV_OFFSET, name);
}

/**
 * A 32-bit hash of `keyHash` (a {@link hash32} of the key) under `seed`: the two mixed and then
 * MurmurHash3's finaliser, a bijection with full avalanche, so the same key gets unrelated values
 * under different seeds. Rendezvous hashing scores a key once per variant: hashing the key once and
 * mixing per variant costs one pass over the key instead of one per variant.
 *
 * @example
 * ```ts
 * const keyHash = hash32(0, 'user-42');
 * mix32(seedOf('checkout\u0000stable'), keyHash) !== mix32(seedOf('checkout\u0000canary'), keyHash); // true (almost always)
 * ```
 */
export function mix32(seed: number, keyHash: number): number {
  let h = Math.imul(keyHash ^ seed, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  h = Math.imul(h, 0x1b873593) ^ seed;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
