import { createHash } from 'node:crypto';
import {
  assertRedisRepliesSettle,
  finiteNumber,
  hasBrand,
  InvalidOptionError,
  PortcullisError,
  type Clock,
} from '@portcullis/core';
import type { Cluster, Redis } from 'ioredis';
import type { Evaluation, LimitState } from '../../algorithms/types.js';
import { KIND_CODES } from '../../algorithms/types.js';
import { redisKeyPart } from '../../key.js';
import {
  storageKey,
  type RateLimitStore,
  type StoreDimension,
  type StoreOutcome,
  type StoreSubject,
} from '../store.js';
import {
  CONSUME,
  CROSS_SLOT_FLAG,
  DENIED,
  DONE,
  limitScript,
  NOT_LOCAL,
  REFUND,
  RESET,
  RETRY,
  STATE_DOUBLES,
} from './script.js';
import { scriptSetting, type ScriptSetting } from './settings.js';
import { tagSlot } from './slot.js';

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /**
   * Your ioredis client: a `Redis` (single node, Sentinel) or a `Cluster`. The store never closes
   * it. Create it with `enableOfflineQueue: false`, or rely on the store's own check: it fails fast
   * while the client is not `ready`, so requests do not pile up during an outage.
   *
   * A connection that drops after Redis ran a command and before its reply arrived: by ioredis's
   * default (`autoResendUnfulfilledCommands`) the command is sent again on reconnect and applies
   * twice (a decision charged twice, a refund given back twice). For at most once, create the
   * client with `autoResendUnfulfilledCommands: false` and a `commandTimeout`: the lost operation
   * then fails (the limiter answers from its fail mode). Without `commandTimeout` ioredis never
   * settles such a command, so that combination is refused with an `InvalidOptionError`.
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
   * long one call holds Redis. 1 sends every operation on its own; at most 1,024. Default 32. On a
   * `Cluster` of Redis ≥ 7.0, a call holds operations of the slots one master serves (a script
   * flagged `allow-cross-slot-keys`): the tick's operations are grouped by master, one call per
   * group (see the Cluster notes of the guide). On older servers a call holds operations of one
   * identity (one hash tag, so one slot).
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
 * Sends of one operation whose fixed window did not hold the server's time (each answered "retry",
 * nothing written) before it fails: the window is named from this process's estimate of the server's
 * clock, corrected by every reply, so a second send normally lands.
 */
const MAX_SENDS = 5;

/**
 * Limit state shared by every gateway instance, in Redis (single node or Cluster) through ioredis.
 * Each decision is **one round trip**: an EVALSHA of a script that reads, decides and writes
 * every dimension atomically (the script is loaded on first use and reloaded after a `NOSCRIPT`);
 * decisions issued in the same tick share one call (see `batchSize`; on a Cluster, one call per
 * identity), never more than one command per decision. Time comes from the Redis server. Every key
 * is written with its expiry in the same script call, so no key outlives its use. Keys of one call
 * share a hash tag, so multi-dimensional and pooled checks stay in one Cluster slot.
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
  /** Operations issued during the current tick, sent together when it ends. */
  #batch: Operation[] = [];
  readonly #batchSize: number;
  /** The Redis server's clock at execution minus this process's at sending, as last seen. */
  #skew = 0;
  readonly #maxInFlight: number;
  /** Operations issued and not settled yet (queued for the tick, or sent and unanswered). */
  #inFlight = 0;
  /** By the algorithms they hold: at most 31. */
  readonly #scripts = new Map<string, Script>();
  /** The same, each for a call of one consume at the server's time. */
  readonly #singleScripts = new Map<string, Script>();
  /** The same, each for a call of several slots of one Cluster master (Redis ≥ 7.0). */
  readonly #crossSlotScripts = new Map<string, Script>();
  /** A Cluster's node connections by `host:port` (see `#node`): as many as the Cluster has nodes. */
  readonly #nodes = new Map<string, Redis>();
  /**
   * Whether the Cluster runs cross-slot scripts (Redis ≥ 7.0), as a probe found: until it has,
   * calls hold one slot each.
   */
  #crossSlot: 'unknown' | 'probing' | 'yes' | 'no' = 'unknown';

  constructor(options: RedisStoreOptions) {
    const client = options.client as Partial<Redis> | undefined;
    if (typeof client?.evalsha !== 'function') {
      throw new TypeError('RedisStore needs an ioredis client (new Redis(...) or new Cluster(...)) as `client`');
    }
    // Every operation counts as in flight until it settles: a command ioredis never settles would
    // hold a maxInFlight slot for the life of the process.
    assertRedisRepliesSettle(options.client, 'client');
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
    const { now, status, states } = await this.#run(CONSUME, subject, dimensions, cost, this.#clock?.now(), 0);
    // The script answered with the state each dimension held: the algorithms report from it, as
    // they do in memory (and the script's verdict must be theirs).
    const evaluations: Evaluation[] = [];
    let allowed = true;
    for (let i = 0; i < dimensions.length; i++) {
      const e = (dimensions[i] as StoreDimension).algorithm.evaluate(states[i], now, cost);
      if (!e.allowed) allowed = false;
      evaluations.push(e);
    }
    if (allowed !== (status === DONE)) {
      throw new Error('The rate-limit script and the algorithm disagree on a decision (a script of another version?)');
    }
    if (!allowed) {
      // Nothing was charged: dimensions that would have admitted report their usage as it is.
      for (let i = 0; i < dimensions.length; i++) {
        if ((evaluations[i] as Evaluation).allowed)
          evaluations[i] = (dimensions[i] as StoreDimension).algorithm.evaluate(states[i], now, 0);
      }
    }
    return { allowed, now, dimensions: evaluations };
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
    if (dimensions.length === 0) {
      this.#ready();
      return;
    }
    await this.#run(RESET, subject, dimensions, 0, this.#clock?.now(), 0);
  }

  #ready(): void {
    // ioredis would queue commands while disconnected; during an outage that piles requests up.
    if (this.#client.status !== 'ready') throw new StoreUnavailableError(this.#client.status);
    // While connected but unanswered (a hung server), it would queue them just the same.
    if (this.#inFlight >= this.#maxInFlight) throw new StoreSaturatedError(this.#maxInFlight);
  }

  /** Queues one operation for the end of the tick. */
  #run(
    op: number,
    subject: StoreSubject,
    dimensions: readonly StoreDimension[],
    amount: number,
    now: number | undefined,
    chargedAt: number,
  ): Promise<Answer> {
    this.#ready();
    this.#inFlight++;
    // The hash tag: what a Cluster routes by (the pool's id when pooled, the key's otherwise).
    const tag = redisKeyPart(subject.pool ?? subject.key);
    // Its slot, once: every flush (and every send again) routes by it.
    const slot = this.#client.isCluster ? tagSlot(tag) : 0;
    return new Promise<Answer>((resolve, reject) => {
      const operation: Operation = {
        op,
        subject,
        tag,
        slot,
        shape: shapeOf(dimensions),
        dimensions,
        amount,
        now,
        chargedAt,
        sends: 0,
        settings: [],
        resolve,
        reject,
      };
      if (this.#batch.push(operation) === 1) process.nextTick(this.#flush);
    });
  }

  /**
   * Sends the operations of the tick together, in one EVALSHA per `batchSize` operations of one
   * policy shape: each still costs one round trip and is atomic, but the per-command costs
   * (ioredis's encoding and parsing, a socket write, Redis's dispatch and the script's set-up) are
   * paid once per call rather than once per decision. Scheduled with `nextTick`, which runs once the
   * microtasks are drained, so callers resumed by the same replies travel together. On a Cluster a
   * call's keys must share a slot: operations are grouped by hash tag (one identity, one slot).
   */
  readonly #flush = (): void => {
    const all = this.#batch;
    this.#batch = [];
    if (this.#client.status !== 'ready') {
      const error = new StoreUnavailableError(this.#client.status);
      this.#inFlight -= all.length;
      for (const operation of all) operation.reject(error);
      return;
    }
    if (all.length === 1) {
      this.#send([this.#prepare(all)]);
      return;
    }
    const size = this.#batchSize;
    const cluster = this.#client.isCluster;
    if (cluster && this.#crossSlot !== 'no') {
      if (this.#crossSlot === 'yes') {
        this.#flushByMaster(all);
        return;
      }
      if (this.#crossSlot === 'unknown') this.#probe();
    }
    const groups = new Map<string, Operation[]>();
    for (const operation of all) {
      const id = cluster ? `${operation.shape}{${operation.tag}` : operation.shape;
      const group = groups.get(id);
      if (group === undefined) groups.set(id, [operation]);
      else group.push(operation);
    }
    const calls: Call[] = [];
    for (const group of groups.values()) {
      if (group.length <= size) calls.push(this.#prepare(group));
      else
        for (let from = 0; from < group.length; from += size) calls.push(this.#prepare(group.slice(from, from + size)));
    }
    this.#send(calls);
  };

  /**
   * A Cluster's tick (Redis ≥ 7.0): operations grouped by policy shape and by the master serving
   * their slot as ioredis last saw the slots, one cross-slot call per `batchSize` operations of a
   * group (an operation alone in its group, or of a slot no master is known for, goes in a call of
   * its own slot, as on older servers).
   */
  #flushByMaster(all: readonly Operation[]): void {
    const cluster = this.#client as Cluster;
    const size = this.#batchSize;
    // By master, then by shape: both keys are strings kept as they are (ioredis's slot map, the
    // shape cached per policy), so a lookup reuses their hash rather than building an id per operation.
    const byNode = new Map<string, Map<string, Operation[]>>();
    const calls: Call[] = [];
    for (const operation of all) {
      const node = cluster.slots[operation.slot]?.[0];
      if (node === undefined) {
        calls.push(this.#prepare([operation]));
        continue;
      }
      let shapes = byNode.get(node);
      if (shapes === undefined) byNode.set(node, (shapes = new Map<string, Operation[]>()));
      const group = shapes.get(operation.shape);
      if (group === undefined) shapes.set(operation.shape, [operation]);
      else group.push(operation);
    }
    for (const [node, shapes] of byNode) {
      for (const group of shapes.values()) {
        if (group.length === 1) calls.push(this.#prepare(group));
        else
          for (let from = 0; from < group.length; from += size)
            calls.push(this.#prepare(group.length <= size ? group : group.slice(from, from + size), node));
      }
    }
    this.#send(calls);
  }

  /**
   * Asks the Cluster once whether it runs a script flagged `allow-cross-slot-keys` (Redis ≥ 7.0;
   * older servers fail to compile the flag line). Until it answers, calls hold one slot each; an
   * answer other than an error reply (the Cluster down, a connection lost) leaves it to ask again.
   */
  #probe(): void {
    this.#crossSlot = 'probing';
    (this.#client as Cluster).call('eval', `${CROSS_SLOT_FLAG}\nreturn 1`, '0').then(
      (value) => {
        this.#crossSlot = value === 1 ? 'yes' : 'no';
      },
      (error: unknown) => {
        this.#crossSlot = crossSlotRefused(error) ? 'no' : 'unknown';
      },
    );
  }

  /**
   * Sends the calls of a flush. On one node: one call on its own, several in one write (a
   * pipeline: the socket write and Redis's read are paid once; each call is still one EVALSHA,
   * atomic, answered on its own). On a Cluster: each call straight to the master serving its slot as
   * ioredis last saw the slots, on that node's own connection, those of one node in one pipeline.
   * Routing through the Cluster client costs more than the command itself (key extraction, slot
   * and node lookups per command), and a call that meets a redirection (MOVED, ASK, TRYAGAIN) was
   * not run: it is sent again through the Cluster client, which follows it and refreshes its slots.
   * A cross-slot call goes to the master it was made for; its operations whose keys that master
   * does not hold (answered `NOT_LOCAL`) are sent again each in a call of its own slot, the same way.
   */
  #send(calls: readonly Call[]): void {
    const client = this.#client;
    if (!client.isCluster) {
      if (calls.length === 1) this.#dispatch(calls[0] as Call);
      else this.#pipeline(client as Redis, calls);
      return;
    }
    const cluster = client as Cluster;
    const byNode = new Map<string, Call[]>();
    for (const call of calls) {
      const node = call.node ?? cluster.slots[call.slot]?.[0];
      if (node === undefined) {
        this.#dispatch(call);
        continue;
      }
      const group = byNode.get(node);
      if (group === undefined) byNode.set(node, [call]);
      else group.push(call);
    }
    for (const [key, group] of byNode) {
      const node = this.#node(cluster, key);
      if (node?.status !== 'ready') for (const call of group) this.#dispatch(call);
      else if (group.length === 1) this.#direct(node, group[0] as Call);
      else this.#pipeline(node, group);
    }
  }

  /**
   * The connection of the Cluster node `key` (`host:port`, as `slots` names it). Kept between
   * flushes and listed again only when the node is missing or its connection is not ready (ioredis
   * replaced it, or it is down). Whether the node still serves a slot is the server's to say: a
   * node that no longer does answers MOVED, and the call goes through the Cluster client.
   */
  #node(cluster: Cluster, key: string): Redis | undefined {
    const node = this.#nodes.get(key);
    if (node?.status === 'ready') return node;
    this.#nodes.clear();
    for (const each of cluster.nodes('all'))
      this.#nodes.set(`${String(each.options.host)}:${String(each.options.port)}`, each);
    return this.#nodes.get(key);
  }

  /** One call on a Cluster node's own connection. */
  #direct(node: Redis, call: Call): void {
    const sent =
      call.node === undefined
        ? node.callBuffer('evalsha', call.script.sha, call.keys.length, ...call.keys, call.args)
        : node.callBuffer('evalsha', call.script.sha, 0, call.args, ...call.keys);
    sent.then(
      (value) => {
        this.#answered(call, value);
      },
      (error: unknown) => {
        this.#notAnswered(node, call, error);
      },
    );
  }

  /**
   * A call on a Cluster node's connection answered `error`. Not run (see `notRun`): sent again
   * through the client, where EVAL loads the script and ioredis follows redirections; a cross-slot
   * call, which the client cannot route, is loaded on its node by EVAL, or (the Cluster down, say)
   * sent again as one call per operation.
   */
  #notAnswered(node: Redis, call: Call, error: unknown): void {
    if (!notRun(error)) this.#failed(call, error);
    else if (call.node === undefined || !isNoScript(error)) this.#dispatch(call);
    else {
      node.callBuffer('eval', call.script.source, 0, call.args, ...call.keys).then(
        (value) => {
          this.#answered(call, value);
        },
        (e: unknown) => {
          if (notRun(e) && !isNoScript(e)) this.#dispatch(call);
          else this.#failed(call, e);
        },
      );
    }
  }

  /** Operations not run: each sent again in a call of its own slot, through the Cluster client. */
  #scatter(operations: readonly Operation[]): void {
    for (const operation of operations) this.#dispatch(this.#prepare([operation]));
  }

  /** Several calls in one write, on a single node's connection. */
  #pipeline(target: Redis, calls: readonly Call[]): void {
    const pipeline = target.pipeline();
    for (const call of calls) {
      if (call.node === undefined)
        pipeline.callBuffer('evalsha', call.script.sha, call.keys.length, ...call.keys, call.args);
      else pipeline.callBuffer('evalsha', call.script.sha, 0, call.args, ...call.keys);
    }
    pipeline.exec().then(
      (results) => {
        for (let i = 0; i < calls.length; i++) {
          const call = calls[i] as Call;
          const [error, value] = results?.[i] ?? [new Error('The pipeline answered no result'), undefined];
          if (error === null) this.#answered(call, value);
          // Not run (a script this node has not loaded, a slot on the move): sent again.
          else this.#notAnswered(target, call, error);
        }
      },
      (error: unknown) => {
        for (const call of calls) this.#failed(call, error);
      },
    );
  }

  /**
   * One call through the client (which routes it by its keys). A cross-slot call cannot be routed
   * so (its keys are not declared, and span slots): its operations go each in a call of its own slot.
   */
  #dispatch(call: Call): void {
    if (call.node !== undefined) {
      this.#scatter(call.batch);
      return;
    }
    this.#call(call.script, call.keys, call.args).then(
      (value) => {
        this.#answered(call, value);
      },
      (error: unknown) => {
        this.#failed(call, error);
      },
    );
  }

  #answered(call: Call, value: unknown): void {
    if (Buffer.isBuffer(value)) this.#settle(call.batch, value, call.sentAt);
    else this.#failed(call, new TypeError('The rate-limit script answered something other than a string'));
  }

  #failed(call: Call, error: unknown): void {
    this.#inFlight -= call.batch.length;
    for (const operation of call.batch) operation.reject(error);
  }

  /**
   * One call's keys and arguments: the operations of `batch`, in order. `node`: a cross-slot call
   * for that Cluster master (`host:port`).
   */
  #prepare(batch: readonly Operation[], node?: string): Call {
    const keys: string[] = [];
    const numbers: number[] = [batch.length];
    // The server's clock when this call runs, as this process last saw it.
    const estimate = Date.now() + this.#skew;
    for (const operation of batch) {
      const { dimensions, now, subject } = operation;
      const at = now ?? estimate;
      // Not pooled: the key's own part is the tag.
      const own = subject.pool === undefined ? operation.tag : redisKeyPart(subject.key);
      const head = numbers.length;
      // NaN: "the server's time".
      numbers.push(operation.op + 4 * dimensions.length, operation.amount, now ?? Number.NaN);
      for (let i = 0; i < dimensions.length; i++) {
        const d = dimensions[i] as StoreDimension;
        const setting = scriptSetting(d.algorithm, at);
        operation.settings[i] = setting;
        numbers.push(setting.params[0], setting.params[1], setting.params[2]);
        const base = d.keyPrefix + operation.tag;
        const tail = d.scope === 'key' ? own : '';
        keys.push(base + (setting.startText === '' ? d.keySuffix : windowedSuffix(d, setting.startText)) + tail);
      }
      if (operation.op === REFUND) numbers.push(operation.chargedAt);
      if (operation.op === RESET) {
        // Fixed windows: also the counter a version before window-numbered keys kept.
        let more = 0;
        for (const d of dimensions) {
          if (d.algorithm.kind !== 'fixed-window') continue;
          keys.push(storageKey(subject, d));
          more++;
        }
        numbers[head] = RESET + 4 * (dimensions.length + more);
      }
    }
    const args = Buffer.allocUnsafe(numbers.length * 8);
    for (let i = 0; i < numbers.length; i++) args.writeDoubleLE(numbers[i] as number, i * 8);
    const first = batch[0] as Operation;
    // One consume at the server's time (every call with `batchSize: 1`): the script made for it.
    const single = node === undefined && batch.length === 1 && first.op === CONSUME && first.now === undefined;
    return {
      batch,
      script: this.#scriptFor(first.shape, single, node !== undefined),
      keys,
      args,
      slot: first.slot,
      node,
      sentAt: Date.now(),
    };
  }

  /** Hands each operation its part of the reply; sends again those answered "retry" and after. */
  #settle(batch: readonly Operation[], reply: Buffer, sentAt: number): void {
    let offset = 0;
    let notLocal: Operation[] | undefined;
    for (let b = 0; b < batch.length; b++) {
      const operation = batch[b] as Operation;
      if (offset + 16 > reply.length) {
        this.#inFlight -= batch.length - b;
        const error = new TypeError('The rate-limit script answered too little (a script of another version?)');
        for (const rest of batch.slice(b)) rest.reject(error);
        return;
      }
      const now = reply.readDoubleLE(offset);
      const status = reply.readDoubleLE(offset + 8);
      offset += 16;
      if (status === NOT_LOCAL) {
        (notLocal ??= []).push(operation);
        continue;
      }
      if (operation.now === undefined && operation.op !== RESET) this.#skew = now - sentAt;
      if (status === RETRY) {
        if (notLocal !== undefined) this.#scatter(notLocal);
        this.#again(batch.slice(b));
        return;
      }
      const states: (LimitState | undefined)[] = [];
      if (operation.op === CONSUME) offset = readStates(reply, offset, operation.settings, states);
      this.#inFlight--;
      operation.resolve({ now, status: status === DENIED ? DENIED : DONE, states });
    }
    if (notLocal !== undefined) this.#scatter(notLocal);
  }

  /**
   * Operations not run because a fixed window did not hold the server's time: sent again, ahead of
   * any issued since, with windows named from the server's time as the reply showed it.
   */
  #again(operations: readonly Operation[]): void {
    const again: Operation[] = [];
    for (const operation of operations) {
      operation.sends++;
      if (operation.sends < MAX_SENDS) again.push(operation);
      else {
        this.#inFlight--;
        operation.reject(new Error(`No fixed window held the Redis server's time in ${String(MAX_SENDS)} sends`));
      }
    }
    if (again.length === 0) return;
    const waiting = this.#batch;
    this.#batch = again.concat(waiting);
    if (waiting.length === 0) process.nextTick(this.#flush);
  }

  /**
   * The script of a policy shape: general, for one consume, or cross-slot (bounded by the limiters'
   * policies).
   */
  #scriptFor(shape: string, single: boolean, crossSlot: boolean): Script {
    const scripts = crossSlot ? this.#crossSlotScripts : single ? this.#singleScripts : this.#scripts;
    let script = scripts.get(shape);
    if (script === undefined) {
      const source = limitScript(shape.split(','), single, crossSlot);
      script = { source, sha: createHash('sha1').update(source).digest('hex') };
      scripts.set(shape, script);
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

/** The codes of a policy's algorithms, in order: `tb,fw,fw` (cached per dimension list). */
function shapeOf(dimensions: readonly StoreDimension[]): string {
  let shape = SHAPES.get(dimensions);
  if (shape === undefined) {
    shape = dimensions.map((d) => KIND_CODES[d.algorithm.kind]).join(',');
    SHAPES.set(dimensions, shape);
  }
  return shape;
}

const SHAPES = new WeakMap<readonly StoreDimension[], string>();

/**
 * A consume's states from the reply at `offset` (see `STATE_DOUBLES`), in the algorithms' own
 * terms; returns the offset after them.
 */
function readStates(
  reply: Buffer,
  offset: number,
  settings: readonly ScriptSetting[],
  states: (LimitState | undefined)[],
): number {
  let at = offset;
  for (const setting of settings) at += 8 * (STATE_DOUBLES[setting.code] ?? 0);
  // Sliding logs' entries follow every dimension's fixed part.
  let logs = at;
  for (const setting of settings) {
    const code = setting.code;
    const a = reply.readDoubleLE(offset);
    if (code === 'fw') {
      // The window's usage; the algorithm's state is [start, used] (none when nothing is used).
      states.push(a > 0 ? [setting.start, a] : undefined);
    } else if (code === 'sl') {
      const entries: number[] = [];
      for (let j = 0; j < a; j++) entries.push(reply.readDoubleLE(logs + j * 8));
      logs += a * 8;
      states.push(a > 0 ? entries : undefined);
    } else if (Number.isNaN(a)) {
      states.push(undefined);
    } else {
      const state: number[] = [];
      for (let j = 0; j < (STATE_DOUBLES[code] ?? 1); j++) state.push(reply.readDoubleLE(offset + j * 8));
      states.push(state);
    }
    offset += 8 * (STATE_DOUBLES[code] ?? 0);
  }
  return logs;
}

/** `}:name:fw:k:` → `}:name:fw@<start>:k:`: a fixed window's counter, one key per window. */
function windowedSuffix(d: StoreDimension, startText: string): string {
  let parts = SUFFIXES.get(d);
  if (parts === undefined) {
    const at = d.keySuffix.indexOf(':fw:') + 3;
    parts = [d.keySuffix.slice(0, at), d.keySuffix.slice(at)];
    SUFFIXES.set(d, parts);
  }
  return `${parts[0]}@${startText}${parts[1]}`;
}

/** Each fixed-window dimension's key suffix, split where the window's start goes. */
const SUFFIXES = new WeakMap<StoreDimension, readonly [string, string]>();

/** One EVALSHA: its operations, script, keys and arguments, and when it was sent. */
interface Call {
  readonly batch: readonly Operation[];
  readonly script: Script;
  readonly keys: readonly string[];
  readonly args: Buffer;
  /** The Cluster slot of its (first operation's) keys (0 on a single node). */
  readonly slot: number;
  /** A cross-slot call's Cluster master (`host:port`); keys in ARGV. Undefined: keys in KEYS. */
  readonly node: string | undefined;
  readonly sentAt: number;
}

/**
 * Errors with which Redis answers a command it did not run: the script is not loaded (NOSCRIPT),
 * or the slot is elsewhere or moving (MOVED, ASK, TRYAGAIN, CLUSTERDOWN).
 */
function notRun(error: unknown): boolean {
  return error instanceof Error && /^(NOSCRIPT|MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /.test(error.message);
}

/** What the script answered for one operation. */
interface Answer {
  /** The instant it was decided at (the server's, or the caller's). */
  readonly now: number;
  readonly status: typeof DONE | typeof DENIED;
  /** A consume's: each dimension's state before it. */
  readonly states: readonly (LimitState | undefined)[];
}

/** An operation waiting for the end of the tick (or to be sent again). */
interface Operation {
  readonly op: number;
  readonly subject: StoreSubject;
  readonly tag: string;
  /** The Cluster slot of its keys (0 on a single node). */
  readonly slot: number;
  /** The algorithms' codes, in order: which script runs it. */
  readonly shape: string;
  readonly dimensions: readonly StoreDimension[];
  readonly amount: number;
  /** The caller's clock; undefined: the server's. */
  readonly now: number | undefined;
  readonly chargedAt: number;
  /** Sends answered "retry" so far. */
  sends: number;
  /** Per dimension, the settings of its last send (a fixed window: the window). */
  readonly settings: ScriptSetting[];
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The server refused the cross-slot probe script itself (an error reply: a server before 7.0 does
 * not compile the flag line), rather than not answering it.
 */
function crossSlotRefused(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'ReplyError' &&
    !notRun(error) &&
    !/^(LOADING|BUSY|MASTERDOWN) /.test(error.message)
  );
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** The script's reply: one string of doubles (anything else means a script of another version). */
function reply(value: unknown): Buffer {
  if (!Buffer.isBuffer(value)) throw new TypeError('The rate-limit script answered something other than a string');
  return value;
}
