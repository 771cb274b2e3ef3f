import type { Algorithm } from '../algorithms/types.js';
import { redisKeyPart } from '../key.js';

/**
 * One dimension of an atomic operation, independent of the key it is applied to (built once per
 * policy, not per call): its algorithm, whose state it is, and how its storage key is formed.
 */
export interface StoreDimension {
  /** The algorithm deciding this dimension. */
  readonly algorithm: Algorithm;
  /** `'key'`: the caller's own state; `'pool'`: the state shared by the pool (team). */
  readonly scope: 'key' | 'pool';
  /**
   * Names this dimension's state among all the dimensions a store holds for one owner, and differs
   * for every (prefix, name, algorithm, scope, pooled call or not): a store that keys its state by
   * owner (see {@link stateOwner}) keeps it apart by slot.
   */
  readonly slot: string;
  /** Storage key text before the hash tag (`rl:{`). */
  readonly keyPrefix: string;
  /**
   * Storage key text after the hash tag: `}:daily:fw:k:` (followed by the key) for a plain call's
   * limits, `}:daily:fw:kp:` (followed by the key) for the caller's own limits in a pooled call,
   * `}:daily:fw:p` for the pool's.
   */
  readonly keySuffix: string;
}

/**
 * Whom one atomic operation is about, by ids the limiter made of the client's key and pool
 * (validated and bounded; distinct keys give distinct ids): a store keeps state under them as they
 * are, or through {@link storageKey}.
 */
export interface StoreSubject {
  /** The caller's key. Not read by a pool's own dimensions (scope `'pool'`). */
  readonly key: string;
  /** The pool (team) charged in the same step, if any. */
  readonly pool: string | undefined;
}

/** What a store decided for one dimension. */
export interface DimensionOutcome {
  readonly allowed: boolean;
  readonly remaining: number;
  readonly overage: number;
  readonly resetAt: number;
  readonly retryAfterMs: number;
}

/** The result of one atomic store operation. */
export interface StoreOutcome {
  /** True when every dimension allowed (and so all were charged, for `consume`). */
  readonly allowed: boolean;
  /** The instant the store decided at (the Redis server's clock for the Redis store). */
  readonly now: number;
  /** Per dimension, in the order given. */
  readonly dimensions: readonly DimensionOutcome[];
}

/**
 * Where limit state lives. Every operation is atomic over all its dimensions: `consume` charges
 * every dimension or none. Implementations: `MemoryStore` (in-process, synchronous) and
 * `RedisStore` (shared; one round trip per operation).
 */
export interface RateLimitStore {
  /**
   * Charges `cost` to every dimension if it fits in all of them; otherwise charges nothing. With
   * `cost` 0 it only reports usage (a peek).
   */
  consume(
    subject: StoreSubject,
    dimensions: readonly StoreDimension[],
    cost: number,
  ): StoreOutcome | Promise<StoreOutcome>;
  /** Gives back `amount` units charged at `chargedAt` to every dimension (clamped per algorithm). */
  refund(
    subject: StoreSubject,
    dimensions: readonly StoreDimension[],
    amount: number,
    chargedAt: number,
  ): void | Promise<void>;
  /** Forgets the subject's state in the given dimensions (an explicit quota reset). */
  reset(subject: StoreSubject, dimensions: readonly StoreDimension[]): void | Promise<void>;
}

/**
 * The storage key of a dimension for a subject: `prefix:{key}:name:code:k:key` for a plain call,
 * `prefix:{pool}:name:code:kp:key` for the caller's own state in a pooled call and
 * `prefix:{pool}:name:code:p` for the pool's, with the ids escaped by `redisKeyPart` (`}` → `%7D`,
 * …). Every key of one call shares the hash tag, the pool's id when pooled and the key otherwise,
 * so a multi-dimensional or pooled operation touches one Redis Cluster slot; escaped ids contain no
 * braces, so the tag is always exactly that id, never empty, whatever the client sent.
 *
 * The encoding is injective: the prefix ends at the first `{` (a prefix has no braces), the tag at
 * the first `}`, the name and the algorithm's code at the next colons (names have none), and `k:`,
 * `kp:` or `p` tell the three kinds of state apart; what follows is the key. So distinct (prefix,
 * dimension, scope, pool, key) never share a key, and memory (by slot and {@link stateOwner})
 * and Redis keep the same states apart.
 *
 * @example
 * ```ts
 * import { storageKey, type StoreDimension } from '@portcullis/ratelimit';
 *
 * declare const daily: StoreDimension; // from a limiter's policy
 * storageKey({ key: 'user:42', pool: undefined }, daily); // 'rl:{user:42}:daily:fw:k:user:42'
 * ```
 */
export function storageKey(subject: StoreSubject, dimension: StoreDimension): string {
  const head = dimension.keyPrefix + redisKeyPart(subject.pool ?? subject.key) + dimension.keySuffix;
  return dimension.scope === 'key' ? head + redisKeyPart(subject.key) : head;
}

/**
 * Whose state a dimension is, for stores that group state by owner (the memory store): the key
 * itself for a plain call, the pool's id for the pool's limits, and the (pool, key) pair for the
 * caller's own limits in a pooled call (those live under the pool's hash tag in Redis, so they are
 * a state of their own; their slot tells them apart from the plain key's).
 *
 * @example
 * ```ts
 * import { stateOwner, type StoreDimension } from '@portcullis/ratelimit';
 *
 * declare const perUser: StoreDimension;
 * stateOwner({ key: 'user:42', pool: undefined }, perUser); // 'user:42'
 * ```
 */
export function stateOwner(subject: StoreSubject, dimension: StoreDimension): string {
  return ownerOf(subject.key, subject.pool, dimension.scope);
}

/** {@link stateOwner} of the ids themselves (no subject object needed). */
export function ownerOf(key: string, pool: string | undefined, scope: 'key' | 'pool'): string {
  if (pool === undefined) return key;
  if (scope === 'pool') return pool;
  // Length-prefixed, so no (pool, key) pair reads as another.
  return `${String(pool.length)}:${pool}:${key}`;
}
