import { hash32, seedOf } from '../split/hash.js';

/** The seed request keys are hashed under: distinct from the splits' seeds, so the two layers are independent. */
const KEY_SEED = seedOf('portcullis:balancer:key');

/** A request key (from `stickyKey`, a header, the client IP) as 32 bits: `hash32` under the balancers' seed. */
export function keyHash(key: string): number {
  return hash32(KEY_SEED, key);
}

/** The 32-bit hash of an endpoint id under `salt` (Maglev needs two independent ones per endpoint). */
export function idHash(id: string, salt: string): number {
  return hash32(seedOf(`portcullis:balancer:${salt}`), id);
}

/**
 * Mixes two 32-bit values into one: MurmurHash3's block step, then its finaliser. Rendezvous
 * hashing scores every endpoint with `mix32(keyHash, endpointHash)`, so a key is hashed once per
 * pick rather than once per endpoint, and each endpoint's score still looks independent of the
 * others'.
 */
export function mix32(a: number, b: number): number {
  let k = Math.imul(b, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = a ^ k;
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
