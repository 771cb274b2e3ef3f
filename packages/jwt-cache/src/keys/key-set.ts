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
 *
 * One rule decides whether a token verifies, and it holds for a cached token as for a fresh one:
 * the key {@link KeySet.find} picks for the token's `kid` and `alg` now. A cached verification is
 * served only while that is still the very key that verified it ({@link KeySet.selects}), so
 * whatever happened to the key since — revoked, past its grace, dropped beyond `maxKeys`, its kid
 * listed again with other material — a cached token ends exactly when a fresh copy would fail.
 * Keys that leave the set are also ended explicitly (`graceUntil`), so a key can never come back
 * through another path.
 */
export class KeySet {
  readonly #limits: KeySetLimits;
  #active = new Map<string, KeyEntry>();
  // Keyed by kid and material (see slot()): two kids sharing material each keep their own grace.
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
   * `graceMs` (end at once when 0); keys already known keep their entry (and their cached tokens).
   * A kid names one key: when the set lists a kid with other material than before, the old key
   * ends at once, without grace (a fresh token of the old key could no longer verify with that kid,
   * so a cached one must not either).
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
      if (this.#isRevoked(entry)) entry.revoked = true;
      next.set(id, entry);
    }
    const retired: string[] = [];
    for (const [id, old] of previous) {
      if (next.get(id) === old) continue;
      retired.push(label(old));
      const relisted = old.kid !== undefined && next.has(old.kid);
      if (old.revoked || graceMs <= 0 || relisted) {
        end(old, now);
      } else {
        old.graceUntil = now + graceMs;
        this.#retiring.set(slot(old), old);
      }
    }
    for (const [key, entry] of this.#retiring) {
      const listed = entry.kid === undefined ? undefined : next.get(entry.kid);
      if (listed === entry) {
        this.#retiring.delete(key);
      } else if (listed !== undefined) {
        // Its kid is listed again with other material: it ends, as above.
        end(entry, now);
        this.#retiring.delete(key);
      } else if (entry.kid === undefined && next.get(entry.material) === entry) {
        this.#retiring.delete(key);
      }
    }
    const added: string[] = [];
    for (const [id, entry] of next) {
      if (previous.get(id) !== entry) added.push(label(entry));
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
    let revoked = this.#revokedKids.has(kid);
    for (const entry of this.#retiring.values()) {
      if (entry.kid !== kid) continue;
      if (entry.usable(now)) return entry.fits(alg) ? entry : KEY_MISMATCH;
      revoked ||= entry.revoked;
    }
    return revoked ? KEY_REVOKED : undefined;
  }

  /**
   * True while {@link KeySet.find} would pick `key` for a token with this `kid` and `alg`: the
   * check a cached verification must pass to be served (see the class comment). `key` verified
   * `alg` before, and a key's fit for an algorithm never changes.
   */
  selects(key: KeyEntry, kid: string | undefined, alg: string, now: number): boolean {
    if (kid === undefined) return this.#onlyFitting(alg, now) === key;
    if (key.servedAs(kid)) return true;
    const active = this.#active.get(kid);
    if (active !== undefined) return active === key && !key.revoked;
    if (!key.usable(now) || key.kid !== kid) return false;
    // The first usable retiring key with this kid is the one find() picks.
    for (const entry of this.#retiring.values()) {
      if (entry.kid === kid && entry.usable(now)) return entry === key;
    }
    return false;
  }

  /**
   * Revokes every key with this `kid`, now and in sets fetched later, and with it the material of
   * the keys it names at `now` (served, or retiring and not past their grace): every key sharing
   * it, under any kid, now and later (another kid that names other material stays valid). Returns
   * how many keys with this `kid` were held.
   */
  revoke(kid: string, now: number): number {
    let held = 0;
    for (const entry of this.#entries()) {
      // A key past its grace is gone (whether or not it was pruned yet): it names nothing.
      if (entry.kid !== kid || !(entry.graceUntil > now)) continue;
      held++;
      remember(this.#revokedMaterial, entry.material, this.#limits.maxRevoked);
    }
    remember(this.#revokedKids, kid, this.#limits.maxRevoked);
    // Revoked entries stay where they are (a retiring one answers `key_revoked` for its kid until
    // it is pruned); they verify nothing.
    for (const entry of this.#entries()) if (this.#isRevoked(entry)) entry.revoked = true;
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
    for (const kid of revokedKids) this.revoke(kid, now);
    for (const { jwk: raw, graceUntil } of retiring) {
      const jwk = publicJwk(raw);
      const material = jwk === undefined ? undefined : keyMaterial(jwk);
      if (jwk === undefined || material === undefined || graceUntil <= now) continue;
      if (this.#retiring.size >= this.#limits.maxKeys) break;
      // A kid listed in the set names that key; an older key of the same kid has ended.
      if (this.#active.has(jwk.kid ?? material)) continue;
      const entry = new KeyEntry(jwk, material);
      entry.graceUntil = graceUntil;
      if (this.#isRevoked(entry) || this.#retiring.has(slot(entry))) continue;
      this.#retiring.set(slot(entry), entry);
    }
  }

  #isRevoked(entry: KeyEntry): boolean {
    return (entry.kid !== undefined && this.#revokedKids.has(entry.kid)) || this.#revokedMaterial.has(entry.material);
  }

  *#entries(): IterableIterator<KeyEntry> {
    yield* this.#active.values();
    yield* this.#retiring.values();
  }

  #reuse(candidate: KeyEntry | undefined, jwk: JWK, material: string): KeyEntry | undefined {
    if (candidate !== undefined && candidate.material === material && sameUse(candidate.jwk, jwk)) return candidate;
    const retiring = this.#retiring.get(slotOf(jwk.kid, material));
    if (retiring !== undefined && sameUse(retiring.jwk, jwk)) return retiring;
    return undefined;
  }

  #onlyFitting(alg: string, now: number): FindResult {
    let found: KeyEntry | undefined;
    let revoked = false;
    for (const map of [this.#active, this.#retiring]) {
      for (const entry of map.values()) {
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
    }
    return found ?? (revoked ? KEY_REVOKED : undefined);
  }

  /**
   * Drops retiring keys past their grace, then the oldest beyond the bound; a key dropped early
   * ends there (its cached tokens with it).
   */
  #prune(now: number): void {
    for (const [key, entry] of this.#retiring) {
      if (!entry.usable(now)) this.#retiring.delete(key);
    }
    for (const [key, entry] of this.#retiring) {
      if (this.#retiring.size <= this.#limits.maxKeys) break;
      end(entry, now);
      this.#retiring.delete(key);
    }
  }
}

/** Ends a key's life at `now`: it verifies nothing from then on, cached tokens included. */
function end(entry: KeyEntry, now: number): void {
  entry.graceUntil = Math.min(entry.graceUntil, now);
}

/** Where a retiring key is kept: by kid and material, so neither alone overwrites another key. */
function slot(entry: KeyEntry): string {
  return slotOf(entry.kid, entry.material);
}

function slotOf(kid: string | undefined, material: string): string {
  // Any string may be a kid: length-prefixed, a kid cannot run into the material.
  return kid === undefined ? `-${material}` : `${kid.length}:${kid}:${material}`;
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
