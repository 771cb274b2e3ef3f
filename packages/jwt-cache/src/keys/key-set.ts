import type { JWK } from 'jose';
import { KeyEntry, keyMaterial } from './key-entry.js';

/** What {@link KeySet.find} answers besides a key. */
export const KEY_REVOKED = 'revoked';
/** The `kid` names a key of another type than the token's algorithm needs. */
export const KEY_MISMATCH = 'mismatch';

export type FindResult = KeyEntry | typeof KEY_REVOKED | typeof KEY_MISMATCH | undefined;

/** What a replacement changed, by key label (the `kid`, or `(no kid)`). */
export interface KeySetChange {
  readonly added: readonly string[];
  readonly retired: readonly string[];
}

/** A key that left the set and still verifies until `graceUntil`. */
export interface RetiringKey {
  readonly jwk: JWK;
  readonly graceUntil: number;
}

export interface KeySetLimits {
  /** Keys kept from one set (and at most as many retiring ones). */
  readonly maxKeys: number;
  /** Revoked kids remembered (oldest forgotten first). */
  readonly maxRevoked: number;
  /** Whether `kty: 'oct'` secrets are accepted (static keys only; never from a remote set). */
  readonly allowSecrets: boolean;
}

// Only these members are kept: nothing else of a served JWK is ever used (no x5c, no x5u, no d).
const PUBLIC_MEMBERS = ['kty', 'kid', 'alg', 'use', 'key_ops', 'n', 'e', 'crv', 'x', 'y', 'k'] as const;

/**
 * The keys of one source: the current set, keys that left it and are in their rotation grace, and
 * revoked kids (remembered, so a set that still lists a revoked key does not bring it back).
 * Every collection is bounded.
 */
export class KeySet {
  readonly #limits: KeySetLimits;
  #active = new Map<string, KeyEntry>();
  // Keyed by material: a kid may come back with other material while the old key is retiring.
  readonly #retiring = new Map<string, KeyEntry>();
  readonly #revokedKids = new Set<string>();
  readonly #revokedMaterial = new Set<string>();

  constructor(limits: KeySetLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#active.size;
  }

  /**
   * Replaces the set with `jwks` (a served `keys` array, unvalidated). Keys that left it retire for
   * `graceMs` (at once when 0); keys already known keep their entry (and their cached tokens).
   */
  replace(jwks: readonly unknown[], now: number, graceMs: number): KeySetChange {
    const previous = this.#active;
    const next = new Map<string, KeyEntry>();
    for (const raw of jwks) {
      if (next.size >= this.#limits.maxKeys) break;
      const jwk = publicJwk(raw);
      const material = jwk === undefined ? undefined : keyMaterial(jwk);
      if (jwk === undefined || material === undefined) continue;
      if (jwk.kty === 'oct' && !this.#limits.allowSecrets) continue;
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      const id = jwk.kid ?? material;
      if (next.has(id)) continue;
      const entry = this.#reuse(previous.get(id), jwk, material) ?? new KeyEntry(jwk, material);
      entry.graceUntil = Number.POSITIVE_INFINITY;
      if ((entry.kid !== undefined && this.#revokedKids.has(entry.kid)) || this.#revokedMaterial.has(material)) {
        entry.revoked = true;
      }
      next.set(id, entry);
    }
    const retired: string[] = [];
    for (const [id, old] of previous) {
      if (next.get(id) === old) continue;
      old.graceUntil = now + graceMs;
      retired.push(label(old));
      if (!old.revoked && graceMs > 0) this.#retiring.set(old.material, old);
    }
    const added: string[] = [];
    for (const [id, entry] of next) {
      if (previous.get(id) !== entry) added.push(label(entry));
      if (this.#retiring.get(entry.material) === entry) this.#retiring.delete(entry.material);
    }
    this.#active = next;
    this.#prune(now);
    return { added, retired };
  }

  /** The key for a token's `kid` and `alg`. */
  find(kid: string | undefined, alg: string, now: number): FindResult {
    if (kid === undefined) return this.#onlyFitting(alg, now);
    const active = this.#active.get(kid);
    if (active !== undefined) {
      if (active.revoked) return KEY_REVOKED;
      return active.fits(alg) ? active : KEY_MISMATCH;
    }
    for (const entry of this.#retiring.values()) {
      if (entry.kid === kid && entry.usable(now)) return entry.fits(alg) ? entry : KEY_MISMATCH;
    }
    return this.#revokedKids.has(kid) ? KEY_REVOKED : undefined;
  }

  /** Revokes every key with this `kid`, now and in sets fetched later. Returns how many keys were held. */
  revoke(kid: string): number {
    let held = 0;
    const mark = (entry: KeyEntry): void => {
      if (entry.kid !== kid) return;
      entry.revoked = true;
      held++;
      remember(this.#revokedMaterial, entry.material, this.#limits.maxRevoked);
    };
    for (const entry of this.#active.values()) mark(entry);
    for (const entry of this.#retiring.values()) mark(entry);
    remember(this.#revokedKids, kid, this.#limits.maxRevoked);
    return held;
  }

  /** The served keys as JWKs (public members only). */
  activeJwks(): JWK[] {
    return [...this.#active.values()].map((entry) => entry.jwk);
  }

  /** The keys in their rotation grace at `now`. */
  retiringKeys(now: number): RetiringKey[] {
    this.#prune(now);
    return [...this.#retiring.values()].map((entry) => ({ jwk: entry.jwk, graceUntil: entry.graceUntil }));
  }

  revokedKids(): string[] {
    return [...this.#revokedKids];
  }

  /** Restores retiring keys and revocations saved by a snapshot (after {@link KeySet.replace}). */
  restore(retiring: readonly RetiringKey[], revokedKids: readonly string[], now: number): void {
    for (const kid of revokedKids) this.revoke(kid);
    for (const { jwk: raw, graceUntil } of retiring) {
      const jwk = publicJwk(raw);
      const material = jwk === undefined ? undefined : keyMaterial(jwk);
      if (jwk === undefined || material === undefined || graceUntil <= now) continue;
      if (this.#retiring.size >= this.#limits.maxKeys) break;
      const entry = new KeyEntry(jwk, material);
      entry.graceUntil = graceUntil;
      entry.revoked =
        (entry.kid !== undefined && this.#revokedKids.has(entry.kid)) || this.#revokedMaterial.has(material);
      if (!entry.revoked) this.#retiring.set(material, entry);
    }
  }

  #reuse(candidate: KeyEntry | undefined, jwk: JWK, material: string): KeyEntry | undefined {
    if (candidate !== undefined && candidate.material === material && sameUse(candidate.jwk, jwk)) return candidate;
    const retiring = this.#retiring.get(material);
    if (retiring !== undefined && retiring.kid === jwk.kid && sameUse(retiring.jwk, jwk)) return retiring;
    return undefined;
  }

  #onlyFitting(alg: string, now: number): FindResult {
    let found: KeyEntry | undefined;
    let revoked = false;
    for (const entry of [...this.#active.values(), ...this.#retiring.values()]) {
      if (!entry.fits(alg)) continue;
      if (entry.revoked) {
        revoked = true;
        continue;
      }
      if (!entry.usable(now)) continue;
      // Several candidates and no kid to choose: refuse rather than try each (no oracle, bounded work).
      if (found !== undefined) return undefined;
      found = entry;
    }
    return found ?? (revoked ? KEY_REVOKED : undefined);
  }

  /** Drops retiring keys past their grace, then the oldest beyond the bound. */
  #prune(now: number): void {
    for (const [material, entry] of this.#retiring) {
      if (!entry.usable(now)) this.#retiring.delete(material);
    }
    for (const material of this.#retiring.keys()) {
      if (this.#retiring.size <= this.#limits.maxKeys) break;
      this.#retiring.delete(material);
    }
  }
}

/** The key's label in events: its `kid`, or a marker for a key without one. */
export function label(entry: KeyEntry): string {
  return entry.kid ?? '(no kid)';
}

function sameUse(a: JWK, b: JWK): boolean {
  return a.alg === b.alg && a.use === b.use && String(a.key_ops) === String(b.key_ops);
}

function remember(set: Set<string>, value: string, max: number): void {
  set.delete(value);
  set.add(value);
  for (const oldest of set) {
    if (set.size <= max) break;
    set.delete(oldest);
  }
}

/** A copy of the public members of a served JWK, or `undefined` when it is not a JWK object. */
function publicJwk(raw: unknown): JWK | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const source = raw as Record<string, unknown>;
  if (typeof source['kty'] !== 'string') return undefined;
  if (source['kid'] !== undefined && typeof source['kid'] !== 'string') return undefined;
  const copy: Record<string, unknown> = {};
  for (const member of PUBLIC_MEMBERS) {
    const value = source[member];
    if (value === undefined) continue;
    if (member === 'key_ops') {
      if (!Array.isArray(value) || !value.every((op) => typeof op === 'string')) return undefined;
      copy[member] = Object.freeze([...value]);
    } else if (typeof value === 'string') {
      copy[member] = value;
    } else {
      return undefined;
    }
  }
  return Object.freeze(copy);
}
