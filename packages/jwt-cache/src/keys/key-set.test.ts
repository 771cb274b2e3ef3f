import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import type { KeyEntry } from './key-entry.js';
import { KeySet } from './key-set.js';

const ALG = 'ES256';
const GRACE_MS = 1_000;
const KIDS = ['a', 'b', 'c'] as const;
const MATERIALS = [0, 1, 2, 3] as const;

type Kid = (typeof KIDS)[number] | undefined;
type Material = (typeof MATERIALS)[number];

/** A public P-256 JWK of one of four materials (never imported here: only bookkeeping is tested). */
function jwk(kid: Kid, material: Material): Record<string, string> {
  const key: Record<string, string> = { kty: 'EC', crv: 'P-256', x: `x${material}`, y: `y${material}` };
  if (kid !== undefined) key['kid'] = kid;
  return key;
}

type Op =
  | { readonly op: 'publish'; readonly keys: readonly (readonly [Kid, Material])[] }
  | { readonly op: 'revoke'; readonly kid: NonNullable<Kid> }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'verify'; readonly kid: Kid; readonly material: Material };

function ops(withoutKid: boolean): fc.Arbitrary<Op[]> {
  const kid: fc.Arbitrary<Kid> = withoutKid ? fc.constantFrom<Kid>(...KIDS, undefined) : fc.constantFrom<Kid>(...KIDS);
  const material = fc.constantFrom(...MATERIALS);
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('publish' as const),
        keys: fc.array(fc.tuple(kid, material), { maxLength: 4 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('revoke' as const), kid: fc.constantFrom(...KIDS) }) },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 2 * GRACE_MS }) }),
    },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('verify' as const), kid, material }) },
  );
  return fc.array(op, { minLength: 1, maxLength: 40 });
}

/** A token verified earlier, with the key that verified it (what the token cache holds). */
interface Cached {
  readonly kid: Kid;
  readonly material: Material;
  readonly key: KeyEntry;
}

/**
 * The rules as the guide states them, on plain lists: a kid names one key; a key that leaves the
 * set verifies for the grace (a revoked one does not); a kid listed again with other material ends
 * its old key; revoking a kid revokes it and the material it names, under any kid, for good.
 */
class Model {
  active = new Map<Kid, Material>();
  retiring = new Map<string, number>(); // `${kid}/${material}` → graceUntil
  revokedKids = new Set<Kid>();
  revokedMaterials = new Set<Material>();

  publish(keys: readonly (readonly [Kid, Material])[], now: number): void {
    // The first key listed for a kid is the one kept (kid-less keys are not modelled).
    const next = new Map<Kid, Material>();
    for (const [kid, material] of keys) if (!next.has(kid)) next.set(kid, material);
    for (const [kid, material] of this.active) {
      if (kid !== undefined && next.get(kid) === material) continue;
      if (kid !== undefined && next.has(kid)) continue; // relisted with other material: ended
      if (this.revokedKids.has(kid) || this.revokedMaterials.has(material)) continue; // no grace for a revoked key
      this.retiring.set(`${String(kid)}/${material}`, now + GRACE_MS);
    }
    for (const slot of [...this.retiring.keys()]) {
      const [kid] = slot.split('/');
      if (kid !== 'undefined' && next.has(kid as Kid)) this.retiring.delete(slot);
    }
    this.active = next;
  }

  revoke(kid: NonNullable<Kid>, now: number): void {
    const retiring = [...this.retiring].filter(([, until]) => until > now).map(([slot]) => this.#pair(slot));
    const held = [...this.active, ...retiring];
    for (const [k, m] of held) if (k === kid) this.revokedMaterials.add(m);
    this.revokedKids.add(kid);
  }

  verifies(kid: NonNullable<Kid>, material: Material, now: number): boolean {
    if (this.revokedKids.has(kid) || this.revokedMaterials.has(material)) return false;
    if (this.active.has(kid)) return this.active.get(kid) === material;
    return (this.retiring.get(`${kid}/${material}`) ?? Number.NEGATIVE_INFINITY) > now;
  }

  #pair(slot: string): [Kid, Material] {
    const [kid, material] = slot.split('/');
    return [kid === 'undefined' ? undefined : (kid as Kid), Number(material) as Material];
  }
}

/** Runs `steps`, calling `check` with every token verified so far after each step. */
function run(
  set: KeySet,
  steps: readonly Op[],
  check: (cached: readonly Cached[], now: number, step: Op, model: Model) => void,
): void {
  const model = new Model();
  const cached: Cached[] = [];
  let now = 0;
  for (const step of steps) {
    switch (step.op) {
      case 'publish':
        set.replace(
          step.keys.map(([kid, material]) => jwk(kid, material)),
          now,
          GRACE_MS,
        );
        model.publish(step.keys, now);
        break;
      case 'revoke':
        set.revoke(step.kid, now);
        model.revoke(step.kid, now);
        break;
      case 'advance':
        now += step.ms;
        break;
      case 'verify': {
        const found = set.find(step.kid, ALG, now);
        if (typeof found === 'object' && found.material === `EC.P-256.x${step.material}.y${step.material}`) {
          cached.push({ kid: step.kid, material: step.material, key: found });
        }
        break;
      }
    }
    check(cached, now, step, model);
  }
}

/** Whether a fresh token of this kid and material verifies now (the key is found and is its material). */
function fresh(set: KeySet, token: Cached, now: number): boolean {
  const found = set.find(token.kid, ALG, now);
  return typeof found === 'object' && found.material === token.key.material;
}

describe('key set: cached and fresh tokens follow one rule', () => {
  test.prop([ops(false)], { numRuns: 5_000 })(
    'a fresh token verifies exactly when the rules say so, and a cached one only when a fresh one would',
    (steps) => {
      const set = new KeySet({ maxKeys: 10, maxRevoked: 100, allowSecrets: false });
      run(set, steps, (cached, now, _step, model) => {
        for (const token of cached) {
          const kid = token.kid as NonNullable<Kid>;
          const isFresh = fresh(set, token, now);
          expect(isFresh).toBe(model.verifies(kid, token.material, now));
          if (set.selects(token.key, token.kid, ALG, now)) expect(isFresh).toBe(true);
        }
      });
    },
  );

  test.prop([ops(true), fc.integer({ min: 1, max: 3 })], { numRuns: 5_000 })(
    'with kid-less keys and keys dropped beyond maxKeys: a cached token never outlives a fresh one, nor a revocation',
    (steps, maxKeys) => {
      const set = new KeySet({ maxKeys, maxRevoked: 100, allowSecrets: false });
      const revoked = new Set<string>();
      run(set, steps, (cached, now, step) => {
        if (step.op === 'revoke') revoked.add(step.kid);
        for (const token of cached) {
          const selected = set.selects(token.key, token.kid, ALG, now);
          if (selected) expect(fresh(set, token, now)).toBe(true);
          if (token.kid !== undefined && revoked.has(token.kid)) {
            expect(selected).toBe(false);
            expect(set.find(token.kid, ALG, now)).toBe('revoked');
          }
        }
      });
    },
  );
});
