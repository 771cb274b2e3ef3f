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
