import { createHash } from 'node:crypto';
import { hasBrand, PortcullisError, type Clock } from '@portcullis/core';
import type { Cluster, Redis } from 'ioredis';
import type { AlgorithmKind } from '../../algorithms/types.js';
import {
  storageKey,
  type DimensionOutcome,
  type RateLimitStore,
  type StoreDimension,
  type StoreOutcome,
  type StoreSubject,
} from '../store.js';
import { LIMIT_SCRIPT } from './script.js';

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * Your ioredis client: a `Redis` (single node, Sentinel) or a `Cluster`. The store never closes
   * it. Create it with `enableOfflineQueue: false`, or rely on the store's own check: it fails fast
   * while the client is not `ready`, so requests do not pile up during an outage.
   */
  client: Redis | Cluster;
  /**
   * Where "now" comes from. Default `'server'`: the Redis server's `TIME`, so gateway clocks may
   * disagree without affecting limits. Pass a `Clock` to decide at the caller's time instead (tests,
   * or replaying a schedule).
   */
  time?: 'server' | Clock;
}

const KIND_CODES: Readonly<Record<AlgorithmKind, string>> = {
  'token-bucket': 'tb',
  gcra: 'gc',
  'fixed-window': 'fw',
  'sliding-window': 'sw',
  'sliding-log': 'sl',
};

const SHA = createHash('sha1').update(LIMIT_SCRIPT).digest('hex');

/**
 * The Redis store is not reachable (the client is not ready); thrown without sending anything.
 *
 * @example
 * ```ts
 * import { isStoreUnavailableError } from '@portcullis/ratelimit';
 *
 * limiter.events.on('storeError', ({ error }) => {
 *   if (isStoreUnavailableError(error)) console.warn('rate-limit store offline');
 * });
 * ```
 */
export class StoreUnavailableError extends PortcullisError {
  /** Brand checked by {@link isStoreUnavailableError}. */
  readonly isStoreUnavailableError = true as const;
  constructor(status: string) {
    super('ERR_PORTCULLIS_RATELIMIT_STORE_UNAVAILABLE', `The Redis client is not ready (status "${status}")`);
  }
}

/**
 * True when `value` is a {@link StoreUnavailableError}.
 *
 * @example
 * ```ts
 * import { isStoreUnavailableError } from '@portcullis/ratelimit';
 *
 * isStoreUnavailableError(new Error('x')); // false
 * ```
 */
export function isStoreUnavailableError(value: unknown): value is StoreUnavailableError {
  return hasBrand(value, 'isStoreUnavailableError');
}

/**
 * Limit state shared by every gateway instance, in Redis (single node or Cluster) through ioredis.
 * Each decision is **one round trip**: a single EVALSHA of a script that reads, decides and writes
 * every dimension atomically (the script is loaded on first use and reloaded after a `NOSCRIPT`).
 * Time comes from the Redis server. Every key is written with its expiry in the same command
 * (`SET … PX`), so no key ever lives without a TTL. Keys of one call share a hash tag, so
 * multi-dimensional and pooled checks stay in one Cluster slot.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisStore, createRateLimiter, tokenBucket } from '@portcullis/ratelimit';
 *
 * const limiter = createRateLimiter({
 *   store: new RedisStore({ client: new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') }),
 *   limits: { perSecond: tokenBucket({ capacity: 10, refillPerSecond: 10 }) },
 * });
 * ```
 */
export class RedisStore implements RateLimitStore {
  readonly #client: Redis | Cluster;
  readonly #clock: Clock | undefined;

  constructor(options: RedisStoreOptions) {
    const client = options.client as Partial<Redis> | undefined;
    if (typeof client?.evalsha !== 'function') {
      throw new TypeError('RedisStore needs an ioredis client (new Redis(...) or new Cluster(...)) as `client`');
    }
    this.#client = options.client;
    this.#clock = options.time === 'server' || options.time === undefined ? undefined : options.time;
  }

  async consume(subject: StoreSubject, dimensions: readonly StoreDimension[], cost: number): Promise<StoreOutcome> {
    const now = this.#clock?.now();
    const reply = await this.#run(
      subject,
      dimensions,
      ['c', String(cost), now === undefined ? '' : String(now), '0'],
      now,
    );
    const outcomes: DimensionOutcome[] = [];
    for (let i = 0; i < dimensions.length; i++) {
      const at = 2 + i * 5;
      outcomes.push({
        allowed: reply[at] === '1',
        remaining: num(reply[at + 1]),
        overage: num(reply[at + 2]),
        resetAt: num(reply[at + 3]),
        retryAfterMs: num(reply[at + 4]),
      });
    }
    return { allowed: reply[0] === '1', now: num(reply[1]), dimensions: outcomes };
  }

  async refund(
    subject: StoreSubject,
    dimensions: readonly StoreDimension[],
    amount: number,
    chargedAt: number,
  ): Promise<void> {
    const now = this.#clock?.now();
    await this.#run(
      subject,
      dimensions,
      ['r', String(amount), now === undefined ? '' : String(now), String(chargedAt)],
      now,
    );
  }

  async reset(subject: StoreSubject, dimensions: readonly StoreDimension[]): Promise<void> {
    this.#ready();
    if (dimensions.length > 0) await this.#client.del(...dimensions.map((d) => storageKey(subject, d)));
  }

  #ready(): void {
    // ioredis would queue commands while disconnected; during an outage that piles requests up.
    if (this.#client.status !== 'ready') throw new StoreUnavailableError(this.#client.status);
  }

  async #run(
    subject: StoreSubject,
    dimensions: readonly StoreDimension[],
    head: string[],
    now: number | undefined,
  ): Promise<string[]> {
    this.#ready();
    const keys: string[] = [];
    const args: string[] = head;
    const at = now ?? Date.now();
    for (const d of dimensions) {
      const { algorithm } = d;
      keys.push(storageKey(subject, d));
      // Calendar windows pass boundaries near the caller's clock; the script picks by the server's.
      const params = algorithm.scriptParams(at);
      args.push(KIND_CODES[algorithm.kind], String(params.length));
      for (const p of params) args.push(String(p));
    }
    try {
      return (await this.#client.evalsha(SHA, keys.length, ...keys, ...args)) as string[];
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      // First use on this node (or after a restart / failover): EVAL runs it and caches it.
      return (await this.#client.eval(LIMIT_SCRIPT, keys.length, ...keys, ...args)) as string[];
    }
  }
}

function num(value: string | undefined): number {
  if (value === 'inf') return Infinity;
  return Number(value);
}
