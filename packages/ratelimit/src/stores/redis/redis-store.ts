import { createHash } from 'node:crypto';
import { finiteNumber, hasBrand, InvalidOptionError, PortcullisError, type Clock } from '@portcullis/core';
import type { Cluster, Redis } from 'ioredis';
import { KIND_CODES } from '../../algorithms/types.js';
import {
  storageKey,
  type DimensionOutcome,
  type RateLimitStore,
  type StoreDimension,
  type StoreOutcome,
  type StoreSubject,
} from '../store.js';
import { KIND_NUMBERS, limitScript } from './script.js';

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
  /**
   * Most operations sent in one script call. Operations issued in the same tick go together (each
   * still atomic, each one round trip); with many concurrent callers this saves most of the
   * per-command cost on both sides. Redis answers a call only once it has run all of it, so
   * batches are bounded: that keeps this process and Redis working at the same time, and bounds how
   * long one call holds Redis. 1 sends every operation on its own; at most 1,024. Default 32. A
   * `Cluster` client always sends operations on their own (their keys are in different slots).
   */
  batchSize?: number;
  /**
   * Most operations (decisions, refunds, resets) sent to Redis and not answered yet, those waiting
   * for the end of the tick included. A hung server (frozen, or a network path that drops packets)
   * keeps its connection open, so ioredis accepts and queues every command, each holding its
   * decision's state, for as long as the hang lasts; the limiter's timeout answers the caller but
   * cannot take a sent command back. Past this bound an operation fails at once, unsent, with a
   * `StoreSaturatedError`, and the limiter answers from its fallback or fail mode until Redis
   * answers again. Size it above your peak concurrent decisions. A whole number from 1 to 1,000,000.
   * Default 10,000.
   */
  maxInFlight?: number;
}

/** A script and the SHA1 that EVALSHA names it by. */
interface Script {
  readonly source: string;
  readonly sha: string;
}

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
 * Too many operations are waiting on Redis (see `maxInFlight`): thrown without sending anything, so
 * a hung server cannot make the process queue a command per decision.
 *
 * @example
 * ```ts
 * import { isStoreSaturatedError } from '@portcullis/ratelimit';
 *
 * limiter.events.on('storeError', ({ error }) => {
 *   if (isStoreSaturatedError(error)) console.warn('rate-limit store not answering');
 * });
 * ```
 */
export class StoreSaturatedError extends PortcullisError {
  /** Brand checked by {@link isStoreSaturatedError}. */
  readonly isStoreSaturatedError = true as const;
  constructor(maxInFlight: number) {
    super(
      'ERR_PORTCULLIS_RATELIMIT_STORE_SATURATED',
      `${String(maxInFlight)} operations are already waiting on Redis (maxInFlight)`,
    );
  }
}

/**
 * True when `value` is a {@link StoreSaturatedError}.
 *
 * @example
 * ```ts
 * import { isStoreSaturatedError } from '@portcullis/ratelimit';
 *
 * isStoreSaturatedError(new Error('x')); // false
 * ```
 */
export function isStoreSaturatedError(value: unknown): value is StoreSaturatedError {
  return hasBrand(value, 'isStoreSaturatedError');
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
 * Each decision is **one round trip**: an EVALSHA of a script that reads, decides and writes
 * every dimension atomically (the script is loaded on first use and reloaded after a `NOSCRIPT`);
 * decisions issued in the same tick share one call (see `batchSize`), never more than one command
 * per decision. Time comes from the Redis server. Every key is written with its expiry in the same command
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
  /** Script calls issued during the current tick, sent together when it ends. */
  #batch: Operation[] = [];
  readonly #batchSize: number;
  /** The Redis server's clock minus this process's, as last seen (server time only). */
  #skew = 0;
  readonly #maxInFlight: number;
  /** Operations issued and not settled yet (queued for the tick, or sent and unanswered). */
  #inFlight = 0;
  /** By the algorithms they hold: at most 31. */
  readonly #scripts = new Map<string, Script>();
  /** By parameter array, which lives as long as its algorithm (or its calendar window). */
  readonly #args = new WeakMap<readonly number[], readonly number[]>();

  constructor(options: RedisStoreOptions) {
    const client = options.client as Partial<Redis> | undefined;
    if (typeof client?.evalsha !== 'function') {
      throw new TypeError('RedisStore needs an ioredis client (new Redis(...) or new Cluster(...)) as `client`');
    }
    this.#client = options.client;
    this.#clock = options.time === 'server' || options.time === undefined ? undefined : options.time;
    if (this.#clock !== undefined && typeof (this.#clock as Partial<Clock> | null)?.now !== 'function')
      throw new InvalidOptionError('time', options.time, "'server' or a clock: { now(): number }");
    this.#batchSize = finiteNumber(options.batchSize ?? 32, 'batchSize', { min: 1, max: 1_024, integer: true });
    this.#maxInFlight = finiteNumber(options.maxInFlight ?? 10_000, 'maxInFlight', {
      min: 1,
      max: 1_000_000,
      integer: true,
    });
  }

  /** Operations waiting on Redis right now (never above `maxInFlight`): a gauge worth exporting. */
  get inFlight(): number {
    return this.#inFlight;
  }

  async consume(subject: StoreSubject, dimensions: readonly StoreDimension[], cost: number): Promise<StoreOutcome> {
    const now = this.#clock?.now();
    const { reply, offset } = await this.#run(CONSUME, subject, dimensions, cost, now, 0);
    const outcomes: DimensionOutcome[] = [];
    let allowed = true;
    for (let i = 0; i < dimensions.length; i++) {
      const at = offset + 8 + i * 32;
      const retryAfterMs = reply.readDoubleLE(at + 24);
      if (retryAfterMs !== 0) allowed = false;
      outcomes.push({
        allowed: retryAfterMs === 0,
        remaining: reply.readDoubleLE(at),
        overage: reply.readDoubleLE(at + 8),
        resetAt: reply.readDoubleLE(at + 16),
        retryAfterMs,
      });
    }
    const decidedAt = reply.readDoubleLE(offset);
    if (now === undefined) this.#skew = decidedAt - Date.now();
    return { allowed, now: decidedAt, dimensions: outcomes };
  }

  async refund(
    subject: StoreSubject,
    dimensions: readonly StoreDimension[],
    amount: number,
    chargedAt: number,
  ): Promise<void> {
    await this.#run(REFUND, subject, dimensions, amount, this.#clock?.now(), chargedAt);
  }

  async reset(subject: StoreSubject, dimensions: readonly StoreDimension[]): Promise<void> {
    this.#ready();
    if (dimensions.length === 0) return;
    // Operations issued before this reset are sent before it, so Redis applies them in issue order.
    if (this.#batch.length > 0) this.#flush();
    this.#inFlight++;
    try {
      await this.#client.del(...dimensions.map((d) => storageKey(subject, d)));
    } finally {
      this.#inFlight--;
    }
  }

  #ready(): void {
    // ioredis would queue commands while disconnected; during an outage that piles requests up.
    if (this.#client.status !== 'ready') throw new StoreUnavailableError(this.#client.status);
    // While connected but unanswered (a hung server), it would queue them just the same.
    if (this.#inFlight >= this.#maxInFlight) throw new StoreSaturatedError(this.#maxInFlight);
  }

  /** Queues one operation for the end of the tick; resolves with the reply and where its part starts. */
  #run(
    op: typeof CONSUME | typeof REFUND,
    subject: StoreSubject,
    dimensions: readonly StoreDimension[],
    amount: number,
    now: number | undefined,
    chargedAt: number,
  ): Promise<ReplyPart> {
    this.#ready();
    const keys: string[] = [];
    for (const d of dimensions) keys.push(storageKey(subject, d));
    // NaN: "the server's TIME".
    const head = [op, amount, now ?? Number.NaN, chargedAt, dimensions.length];
    const at = now ?? Date.now() + this.#skew;
    // Calendar windows pass boundaries around the server's time as last seen (so they hold it even
    // when this process's clock is off); the script picks by the server's clock.
    const settings = dimensions.map((d) => this.#argsOf(d.algorithm.kind, d.algorithm.scriptParams(at)));
    this.#inFlight++;
    return new Promise<ReplyPart>((resolve, reject) => {
      const operation: Operation = {
        keys,
        head,
        settings,
        dimensions,
        replyBytes: 8 * (1 + (op === CONSUME ? 4 * dimensions.length : 0)),
        resolve,
        reject,
      };
      // A Cluster routes by key: its operations go one by one (their keys are in different slots).
      if (this.#client.isCluster) this.#send([operation]);
      else if (this.#batch.push(operation) === 1) process.nextTick(this.#flush);
    });
  }

  /** A dimension's script arguments: kind, count, parameters (cached per parameter array). */
  #argsOf(kind: StoreDimension['algorithm']['kind'], params: readonly number[]): readonly number[] {
    let args = this.#args.get(params);
    if (args === undefined) {
      args = [KIND_NUMBERS[KIND_CODES[kind]] ?? 0, params.length, ...params];
      this.#args.set(params, args);
    }
    return args;
  }

  /**
   * Sends the operations of the tick together, in one EVALSHA per `batchSize` operations: each still
   * costs one round trip and is atomic, but the per-command costs (ioredis's encoding and parsing,
   * a socket write, Redis's dispatch and the script's set-up) are paid once per batch rather than
   * once per decision. Scheduled with `nextTick`, which runs once the microtasks are drained, so
   * callers resumed by the same replies travel together.
   */
  readonly #flush = (): void => {
    const all = this.#batch;
    this.#batch = [];
    const size = this.#batchSize;
    for (let from = 0; from < all.length; from += size) this.#send(all.slice(from, from + size));
  };

  #send(batch: readonly Operation[]): void {
    if (this.#client.status !== 'ready') {
      const error = new StoreUnavailableError(this.#client.status);
      this.#inFlight -= batch.length;
      for (const operation of batch) operation.reject(error);
      return;
    }
    const keys: string[] = [];
    const codes = new Set<string>();
    // Each distinct dimension setting once per call, referred to by index (the script reads it once).
    const index = new Map<readonly number[], number>();
    const numbers: number[] = [0];
    for (const operation of batch) {
      for (const setting of operation.settings) {
        if (!index.has(setting)) {
          index.set(setting, index.size + 1);
          for (const n of setting) numbers.push(n);
        }
      }
    }
    numbers[0] = index.size;
    numbers.push(batch.length);
    for (const operation of batch) {
      for (const key of operation.keys) keys.push(key);
      for (const n of operation.head) numbers.push(n);
      for (const setting of operation.settings) numbers.push(index.get(setting) ?? 0);
      for (const d of operation.dimensions) codes.add(KIND_CODES[d.algorithm.kind]);
    }
    const args = Buffer.allocUnsafe(numbers.length * 8);
    for (let i = 0; i < numbers.length; i++) args.writeDoubleLE(numbers[i] as number, i * 8);
    this.#call(this.#scriptFor([...codes].sort().join(',')), keys, args).then(
      (reply) => {
        this.#inFlight -= batch.length;
        let offset = 0;
        for (const operation of batch) {
          operation.resolve({ reply, offset });
          offset += operation.replyBytes;
        }
      },
      (error: unknown) => {
        this.#inFlight -= batch.length;
        for (const operation of batch) operation.reject(error);
      },
    );
  }

  /** The script holding just these algorithms (at most one per combination of the five). */
  #scriptFor(codes: string): Script {
    let script = this.#scripts.get(codes);
    if (script === undefined) {
      const source = limitScript(codes.split(','));
      script = { source, sha: createHash('sha1').update(source).digest('hex') };
      this.#scripts.set(codes, script);
    }
    return script;
  }

  async #call(script: Script, keys: readonly string[], args: Buffer): Promise<Buffer> {
    try {
      return reply(await this.#client.callBuffer('evalsha', script.sha, keys.length, ...keys, args));
    } catch (error) {
      if (!isNoScript(error)) throw error;
      // First use on this node (or after a restart / failover): EVAL runs it and caches it.
      return reply(await this.#client.callBuffer('eval', script.source, keys.length, ...keys, args));
    }
  }
}

/** Operation codes of the script. */
const CONSUME = 0;
const REFUND = 1;

/** The script's whole reply (doubles) and the byte offset where one operation's part starts. */
interface ReplyPart {
  readonly reply: Buffer;
  readonly offset: number;
}

/** An operation waiting for the end of the tick. */
interface Operation {
  readonly keys: readonly string[];
  /** op, amount, now (NaN: the server's), chargedAt, number of dimensions. */
  readonly head: readonly number[];
  /** Per dimension: kind, parameter count, parameters (shared arrays: see `#argsOf`). */
  readonly settings: readonly (readonly number[])[];
  readonly dimensions: readonly StoreDimension[];
  /** How many bytes of the script's reply are this operation's. */
  readonly replyBytes: number;
  readonly resolve: (part: ReplyPart) => void;
  readonly reject: (error: unknown) => void;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** The script's reply: one string of doubles (anything else means a script of another version). */
function reply(value: unknown): Buffer {
  if (!Buffer.isBuffer(value)) throw new TypeError('The rate-limit script answered something other than a string');
  return value;
}
