import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { KeyEntry } from '../keys/key-entry.js';
import type { KeyProvider } from '../keys/provider.js';
import type { VerifiedJwt } from '../verified.js';
import { jsonBytes, stringBytes } from './entry-size.js';

/** How cache entries are keyed: the token itself, or its SHA-256 (never claims, never the signature alone). */
export type TokenCacheKey = 'token' | 'sha256';

export interface TokenCacheLimits {
  readonly max: number;
  readonly maxBytes: number;
  readonly key: TokenCacheKey;
}

/** A verification, valid while its time lasts and the key that made it may still verify. */
interface Entry {
  readonly result: VerifiedJwt;
  readonly expiresAt: number;
  readonly key: KeyEntry;
  readonly provider: KeyProvider;
}

// Per entry, besides the key and the decoded claims: the entry, the result object and the LRU's
// bookkeeping (measured at ~200 bytes; rounded up).
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * What an entry holds, in bytes: its key (the token itself, or the 44-character SHA-256), the
 * decoded header and payload, and the fixed overhead. Not the token's length alone: with a hashed
 * key the token is not held at all, while its decoded claims may take 3x its length.
 */
function entryBytes(entry: Entry, key: string): number {
  return stringBytes(key) + jsonBytes(entry.result.payload) + jsonBytes(entry.result.header) + ENTRY_OVERHEAD_BYTES;
}

/**
 * The verified-token cache: a bounded LRU (entries and bytes). A hit means the exact same bytes
 * were verified before (the key is the whole token or its SHA-256), is served only before the
 * entry's expiry (never later than the token's `exp`), and only while its key set may still be
 * served and would pick, for a fresh copy of the token, the very key that verified it (so a
 * revocation, the end of a grace, a key dropped or its kid re-published end it at once).
 */
export class TokenCache {
  readonly #lru: LRUCache<string, Entry>;
  readonly #hashed: boolean;

  constructor(limits: TokenCacheLimits) {
    this.#hashed = limits.key === 'sha256';
    this.#lru = new LRUCache<string, Entry>({
      max: limits.max,
      maxSize: limits.maxBytes,
      sizeCalculation: entryBytes,
    });
  }

  get size(): number {
    return this.#lru.size;
  }

  /** The cached result for `token` at `now`, or `undefined` (an entry no longer valid is dropped). */
  get(token: string, now: number): VerifiedJwt | undefined {
    const key = this.#hashed ? sha256(token) : token;
    const entry = this.#lru.get(key);
    if (entry === undefined) return undefined;
    const { result, key: verifiedBy, provider } = entry;
    if (now < entry.expiresAt) {
      // The common case first: the key is served under the token's kid (the rule itself, for that
      // case, without a lookup); otherwise the key set decides (retiring keys, tokens without kid).
      if (
        verifiedBy.servedAs(result.kid)
          ? provider.servable(now)
          : provider.selects(verifiedBy, result.kid, result.alg, now)
      ) {
        return result;
      }
    }
    this.#lru.delete(key);
    return undefined;
  }

  set(token: string, result: VerifiedJwt, expiresAt: number, key: KeyEntry, provider: KeyProvider): void {
    this.#lru.set(this.#hashed ? sha256(token) : token, { result, expiresAt, key, provider });
  }

  clear(): void {
    this.#lru.clear();
  }
}

function sha256(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}
