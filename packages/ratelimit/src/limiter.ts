import {
  Emitter,
  InvalidOptionError,
  finiteNumber,
  nonEmptyString,
  oneOf,
  systemClock,
  type Clock,
} from '@portcullis/core';
import { KIND_CODES, type Algorithm, type EvaluationSlot } from './algorithms/types.js';
import { DeadlineQueue } from './deadline-queue.js';
import { DenyCache } from './deny-cache.js';
import type { Decision, DecisionSource, DimensionUsage } from './decision.js';
import { InvalidCostError, StoreTimeoutError, UnknownTierError } from './errors.js';
import { LONE_SURROGATE, normaliseKey } from './key.js';
import { MemoryStore, consumeOneInto, type DecidedAt } from './stores/memory-store.js';
import type { DimensionOutcome, RateLimitStore, StoreDimension, StoreOutcome, StoreSubject } from './stores/store.js';

/** Named limits enforced together, atomically: `{ perSecond: tokenBucket(…), daily: fixedWindow(…) }`. */
export type Policy = Readonly<Record<string, Algorithm>>;

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Where state lives. Default: a new `MemoryStore` (100,000 keys). */
  store?: RateLimitStore;
  /** The policy when there are no tiers (or for keys without a tier). */
  limits?: Policy;
  /** Policies by tier name (`free`, `pro`, …); pick one per call with `{ tier }`. */
  tiers?: Readonly<Record<string, Policy>>;
  /**
   * The tier used when a call names none (also when the HTTP guard's `tier` function returns
   * `undefined`). Default: the first tier declared in `tiers`; set it to make the choice explicit.
   */
  defaultTier?: string;
  /** Limits shared by a pool (a team): charged with the caller's own in one atomic step when a call names `{ pool }`. */
  poolLimits?: Policy;
  /** Prefix of every stored key (no braces, no lone surrogates). Default `'rl'`. */
  prefix?: string;
  /**
   * What to decide when the store fails or times out and there is no fallback: `'open'` admits
   * (right for protective limits), `'closed'` denies (right for billing quotas). Default `'open'`.
   */
  failMode?: 'open' | 'closed';
  /**
   * How long an asynchronous store may take before the fail mode applies, in whole ms from 1 to
   * 2,147,483,647 (the longest timer Node keeps; a longer one would fire after 1 ms). Default 50.
   */
  timeoutMs?: number;
  /** A limiter (usually on a `MemoryStore`) that decides while the store is failing. */
  fallback?: RateLimiter;
  /**
   * Remember keys denied by an asynchronous store until their retry time, and deny them again
   * without a round trip. Bounded LRU: `maxKeys` from 1 to 1,000,000 (lru-cache allocates its
   * slots up front). A refund, a reset or a tier change on this limiter voids what it holds for
   * that key (and, for a pool, every member); a denial is trusted at most `maxAgeMs` (default
   * 1,000), which bounds how long another instance's refund or reset goes unseen. Default
   * `{ maxKeys: 10_000, maxAgeMs: 1_000 }`; `false` turns it off.
   */
  denyCache?: { maxKeys?: number; maxAgeMs?: number } | false;
  /** Time source for the deny cache and fail decisions. Default: the system clock. */
  clock?: Clock;
}

/** Per-call options of {@link RateLimiter.limit}. */
export interface LimitOptions {
  /** Units this request costs. Default 1. 0 only reports usage. */
  cost?: number;
  /** Which tier's policy applies. Default: `defaultTier`. */
  tier?: string;
  /** A pool (team) whose shared `poolLimits` are charged in the same atomic step. */
  pool?: string;
}

/** Events a limiter emits. */
export interface RateLimiterEvents {
  /**
   * Every decision: the store's, and those answered without it (deny cache, fallback, fail mode);
   * `source` says which (it is `decision.source`).
   */
  decision: { key: string; decision: Decision; source: DecisionSource };
  /** The store failed or timed out; the decision followed the fallback or fail mode. */
  storeError: { key: string; error: unknown; source: DecisionSource };
}

/** A rate limiter over one store; see {@link createRateLimiter}. */
export interface RateLimiter {
  /** Checks and, when allowed, charges `cost` to every dimension of the key (and pool) atomically. */
  limit(key: string, options?: LimitOptions): Decision | Promise<Decision>;
  /**
   * Decides like {@link RateLimiter.limit}, but writes the decision into `into` — a buffer from
   * {@link createDecisionBuffer} that the caller owns and reuses — and returns it, instead of a new
   * object: on the memory store, a one-limit decision then allocates nothing at all. For callers
   * that read the decision and drop it (a custom middleware that only needs `allowed` and the
   * headers, a queue consumer). Only `into` changes: decisions from `limit` are never reused, and
   * `decision` event listeners get their own copy.
   *
   * The contract: `into` holds the latest decision written into it, until the next `limitInto`
   * with it. Read (or copy) what you keep before deciding again into the same buffer, and do not
   * share a buffer between calls in flight (with an asynchronous store, one buffer per pending
   * call). `refund(into)` gives back the charge of the decision it holds now, once.
   *
   * @throws InvalidOptionError when `into` is not a buffer from {@link createDecisionBuffer}.
   *
   * @example
   * ```ts
   * import { createDecisionBuffer, createRateLimiter, fixedWindow } from '@portcullis/ratelimit';
   *
   * const limiter = createRateLimiter({ limits: { perMinute: fixedWindow({ limit: 100, windowMs: 60_000 }) } });
   * const scratch = createDecisionBuffer(); // one per synchronous caller, reused
   * const d = limiter.limitInto(scratch, 'user:42');
   * if (!(d instanceof Promise) && !d.allowed) console.log(`retry in ${d.retryAfterMs} ms`);
   * ```
   */
  limitInto(into: DecisionBuffer, key: string, options?: LimitOptions): DecisionBuffer | Promise<DecisionBuffer>;
  /** Usage without charging anything. */
  peek(key: string, options?: Omit<LimitOptions, 'cost'>): Decision | Promise<Decision>;
  /**
   * Gives back what an allowed decision charged (e.g. for a request that failed), at most once per
   * decision and never more than it charged. Returns false when there was nothing to refund.
   */
  refund(decision: Decision, amount?: number): boolean | Promise<boolean>;
  /**
   * Forgets the key's own usage in every dimension of every tier (an explicit quota reset); with
   * `{ pool }`, also its own usage counted under that pool. The pool's shared usage is the team's
   * and stays as it is: forget it with {@link RateLimiter.resetPool}.
   *
   * @example
   * ```ts
   * await limiter.reset('alice', { pool: 'acme' }); // Alice's own limits; the team's total stays
   * ```
   */
  reset(key: string, options?: { pool?: string }): void | Promise<void>;
  /**
   * Forgets a pool's shared usage in every pool limit (`poolLimits`); its members' own limits stay
   * as they are. On an asynchronous store the promise rejects with the store's error, or with a
   * `StoreTimeoutError` after `timeoutMs`.
   *
   * @throws InvalidOptionError when the limiter has no `poolLimits`.
   * @throws InvalidKeyError when `pool` is empty or not a string.
   *
   * @example
   * ```ts
   * await limiter.resetPool('acme'); // the team starts afresh; each member's own usage stays
   * ```
   */
  resetPool(pool: string): void | Promise<void>;
  /** Replaces (or adds) a tier's policy at runtime; takes effect for the next call. */
  setTier(tier: string, policy: Policy): void;
  /** Typed events: `decision`, `storeError`. */
  readonly events: Emitter<RateLimiterEvents>;
}

/** Everything about a (tier, pooled or not) combination that does not depend on the key. */
interface Template {
  readonly algorithms: readonly Algorithm[];
  /** Names as reported in `limitedBy` (`pool.` prefix for pool limits). */
  readonly names: readonly string[];
  /** Names as reported in `dimensions[].name`. */
  readonly shortNames: readonly string[];
  readonly scopes: readonly ('key' | 'pool')[];
  /** What the store needs of each dimension; keys are formed from them and the call's subject. */
  readonly dimensions: readonly StoreDimension[];
  readonly wholeCostsOnly: boolean;
}

/** What a charged decision gives back on refund. */
interface Receipt {
  readonly subject: StoreSubject;
  readonly template: Template;
  readonly cost: number;
  readonly chargedAt: number;
}

/** The memory store's own `consume`: the limiter only bypasses it for a store that still has it. */
// eslint-disable-next-line @typescript-eslint/unbound-method -- compared by identity, never called
const memoryConsume = MemoryStore.prototype.consume;

/** No options: shared, so a call without options allocates none. */
const NO_OPTIONS: LimitOptions = Object.freeze({});

/** Brands buffers from {@link createDecisionBuffer}, so a plain decision is not passed by mistake. */
declare const BUFFER: unique symbol;

/**
 * A decision the caller owns and {@link RateLimiter.limitInto} overwrites in place; make one with
 * {@link createDecisionBuffer}. It reads like any {@link Decision} (its fields are those of the
 * latest decision written into it).
 */
export type DecisionBuffer = Decision & { readonly [BUFFER]: true };

/** A decision's public fields, writable: how a buffer is rewritten in place. */
type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A decision; one the store charged also remembers, privately, whom it charged under which
 * policy, so `refund` can give it back once. Private fields rather than a WeakMap from decisions to
 * receipts (a WeakMap entry per decision made the garbage collector the hottest part of the memory
 * store's path) or a receipt object (one more allocation per decision).
 *
 * A buffer ({@link createDecisionBuffer}) is the same class, rewritten in place by `limitInto`:
 * its `dimensions` array and usage objects are its own, so nothing is allocated per decision.
 */
class LimitDecision implements Decision {
  // Whom it charged: the ids rather than a subject object, which the memory path never builds.
  #key: string | undefined;
  #pool: string | undefined;
  #template: Template | undefined;
  // Copies of cost and decidedAt: the public fields are plain properties a caller could change.
  #cost: number;
  #chargedAt: number;
  constructor(
    readonly allowed: boolean,
    readonly cost: number,
    readonly reportedBy: string,
    readonly remaining: number,
    readonly limit: number,
    readonly windowMs: number,
    readonly resetAt: number,
    readonly retryAfterMs: number,
    readonly limitedBy: string | undefined,
    readonly overLimit: boolean,
    readonly dimensions: readonly DimensionUsage[],
    readonly decidedAt: number,
    readonly source: DecisionSource,
    chargedKey: string | undefined,
    chargedPool: string | undefined,
    template: Template | undefined,
  ) {
    this.#key = chargedKey;
    this.#pool = chargedPool;
    this.#template = template;
    this.#cost = cost;
    this.#chargedAt = decidedAt;
  }

  /**
   * Writes a one-limit decision into `into` (the memory store's slot `e`): the same fields the
   * memory path of `limit` builds, and the dimension's usage into the buffer's own usage object.
   */
  static writeOne(
    into: ReusedDecision,
    e: Readonly<EvaluationSlot>,
    algorithm: Algorithm,
    name: string,
    shortName: string,
    scope: 'key' | 'pool',
    cost: number,
    decidedAt: number,
    chargedKey: string | undefined,
    chargedPool: string | undefined,
    template: Template | undefined,
  ): void {
    const { allowed } = e;
    const usages = into.dimensions as Writable<DimensionUsage>[];
    let usage = usages[0];
    if (usage === undefined) {
      usage = { ...EMPTY_USAGE };
      usages.push(usage);
    }
    // Only when it changes: writing an array's length is a runtime call, even to the same value.
    if (usages.length !== 1) usages.length = 1;
    usage.name = shortName;
    usage.scope = scope;
    usage.allowed = allowed;
    usage.limit = algorithm.limit;
    usage.windowMs = algorithm.windowMs;
    usage.remaining = e.remaining;
    usage.overage = e.overage;
    usage.resetAt = e.resetAt;
    usage.retryAfterMs = e.retryAfterMs;
    const d = into as Writable<LimitDecision>;
    d.allowed = allowed;
    d.cost = cost;
    d.reportedBy = name;
    d.remaining = e.remaining;
    d.limit = algorithm.limit;
    d.windowMs = algorithm.windowMs;
    d.resetAt = e.resetAt;
    d.retryAfterMs = allowed ? 0 : e.retryAfterMs;
    d.limitedBy = allowed ? undefined : name;
    d.overLimit = e.overage > 0;
    d.decidedAt = decidedAt;
    d.source = 'store';
    into.#key = chargedKey;
    into.#pool = chargedPool;
    into.#template = template;
    into.#cost = cost;
    into.#chargedAt = decidedAt;
    ReusedDecision.setOrigin(into, undefined);
  }

  /** Copies `from` (a decision the allocating path made) into `into`; refunds of `into` go to `from`. */
  static copyInto(into: ReusedDecision, from: Decision): DecisionBuffer {
    const usages = into.dimensions as Writable<DimensionUsage>[];
    for (let i = 0; i < from.dimensions.length; i++) {
      const source = from.dimensions[i] as DimensionUsage;
      const usage = usages[i];
      if (usage === undefined) usages.push({ ...source });
      else Object.assign(usage, source);
    }
    if (usages.length !== from.dimensions.length) usages.length = from.dimensions.length;
    const d = into as Writable<LimitDecision>;
    d.allowed = from.allowed;
    d.cost = from.cost;
    d.reportedBy = from.reportedBy;
    d.remaining = from.remaining;
    d.limit = from.limit;
    d.windowMs = from.windowMs;
    d.resetAt = from.resetAt;
    d.retryAfterMs = from.retryAfterMs;
    d.limitedBy = from.limitedBy;
    d.overLimit = from.overLimit;
    d.decidedAt = from.decidedAt;
    d.source = from.source;
    into.#key = undefined;
    into.#pool = undefined;
    into.#template = undefined;
    ReusedDecision.setOrigin(into, from);
    return into as unknown as DecisionBuffer;
  }

  /** True while `decision` charged something that was not refunded yet. */
  static refundable(decision: Decision): boolean {
    return #key in decision && decision.#key !== undefined;
  }

  /** Takes the decision's one refund: its receipt, or undefined when it has none (left). */
  static claimRefund(decision: Decision): Receipt | undefined {
    if (!(#key in decision)) return undefined;
    const key = decision.#key;
    const template = decision.#template;
    if (key === undefined || template === undefined) return undefined;
    decision.#key = undefined;
    return { subject: { key, pool: decision.#pool }, template, cost: decision.#cost, chargedAt: decision.#chargedAt };
  }
}

/**
 * A buffer: a decision rewritten in place. A subclass, so the decisions `limit` allocates carry
 * no field of it (they are the hot path's only allocation).
 */
class ReusedDecision extends LimitDecision {
  // Filled from a decision made elsewhere (the allocating path): refunds go to that decision.
  #origin: Decision | undefined;

  constructor() {
    super(false, 0, '', 0, 0, 0, 0, 0, undefined, false, [], 0, 'store', undefined, undefined, undefined);
    this.#origin = undefined;
  }

  static setOrigin(into: ReusedDecision, origin: Decision | undefined): void {
    into.#origin = origin;
  }

  /** The decision a refund of `decision` goes to: the one a buffer was copied from, else itself. */
  static refundTarget(decision: Decision): Decision {
    return #origin in decision && decision.#origin !== undefined ? decision.#origin : decision;
  }
}

/** The usage object a buffer starts its first dimension from. */
const EMPTY_USAGE: DimensionUsage = Object.freeze({
  name: '',
  scope: 'key',
  allowed: false,
  limit: 0,
  windowMs: 0,
  remaining: 0,
  overage: 0,
  resetAt: 0,
  retryAfterMs: 0,
});

/**
 * A reusable decision for {@link RateLimiter.limitInto}: the caller owns it, and each `limitInto`
 * with it overwrites it in place (on the memory store, a one-limit decision then allocates
 * nothing). Keep one per synchronous caller; read or copy what you keep before the next call.
 *
 * @example
 * ```ts
 * import { createDecisionBuffer, createRateLimiter, tokenBucket } from '@portcullis/ratelimit';
 *
 * const limiter = createRateLimiter({ limits: { burst: tokenBucket({ capacity: 20, refillPerSecond: 10 }) } });
 * const scratch = createDecisionBuffer();
 * const result = limiter.limitInto(scratch, 'user:42');
 * const allowed = (result instanceof Promise ? await result : result).allowed;
 * ```
 */
export function createDecisionBuffer(): DecisionBuffer {
  return new ReusedDecision() as unknown as DecisionBuffer;
}

/**
 * Creates a rate limiter: one or more named limits per key (multi-dimensional, all-or-nothing),
 * optional tiers, optional pooled team limits, on a memory or Redis store, with bounded store
 * timeouts and a fail mode.
 *
 * @example
 * ```ts
 * import { createRateLimiter, fixedWindow, tokenBucket } from '@portcullis/ratelimit';
 *
 * const limiter = createRateLimiter({
 *   tiers: {
 *     free: {
 *       perSecond: tokenBucket({ capacity: 10, refillPerSecond: 10 }),
 *       daily: fixedWindow({ limit: 1_000, calendar: 'day', timeZone: 'UTC' }),
 *     },
 *     pro: {
 *       perSecond: tokenBucket({ capacity: 100, refillPerSecond: 100 }),
 *       daily: fixedWindow({ limit: 100_000, calendar: 'day', timeZone: 'UTC' }),
 *     },
 *   },
 * });
 *
 * const decision = await limiter.limit('user:42', { tier: 'pro' });
 * if (!decision.allowed) console.log(`retry in ${decision.retryAfterMs} ms (${decision.limitedBy})`);
 * ```
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const store = checkStore(options.store ?? new MemoryStore());
  const prefix = nonEmptyString(options.prefix ?? 'rl', 'prefix', 64);
  if (/[{}]/.test(prefix))
    throw new InvalidOptionError('prefix', prefix, 'a prefix without { or } (they form Redis Cluster hash tags)');
  // Redis stores UTF-8, which turns every lone surrogate into U+FFFD: two prefixes would share keys.
  if (LONE_SURROGATE.test(prefix))
    throw new InvalidOptionError('prefix', prefix, 'a prefix of whole characters (no lone surrogate)');
  const failMode = oneOf(options.failMode ?? 'open', ['open', 'closed'], 'failMode');
  const timeoutMs = finiteNumber(options.timeoutMs ?? 50, 'timeoutMs', { min: 1, max: MAX_TIMER_MS, integer: true });
  const clock = options.clock ?? systemClock;
  if (typeof (clock as Partial<Clock> | undefined)?.now !== 'function')
    throw new InvalidOptionError('clock', clock, 'a clock: { now(): number }');
  const fallback = options.fallback;
  const fallbackShape = fallback as Partial<RateLimiter> | null | undefined;
  if (
    fallback !== undefined &&
    (typeof fallbackShape?.limit !== 'function' || typeof fallbackShape.refund !== 'function')
  )
    throw new InvalidOptionError('fallback', fallback, 'a RateLimiter (createRateLimiter)');
  const tiers = new Map<string, Policy>();
  for (const [name, policy] of Object.entries(options.tiers ?? {}))
    tiers.set(name, checkPolicy(policy, `tiers.${name}`));
  const basePolicy = options.limits === undefined ? undefined : checkPolicy(options.limits, 'limits');
  if (basePolicy === undefined && tiers.size === 0) {
    throw new InvalidOptionError('limits', undefined, 'a policy of named limits (or `tiers`)');
  }
  const defaultTier = options.defaultTier ?? (basePolicy === undefined ? tiers.keys().next().value : undefined);
  if (defaultTier !== undefined && !tiers.has(defaultTier)) {
    throw new InvalidOptionError('defaultTier', defaultTier, `one of the tiers (${[...tiers.keys()].join(', ')})`);
  }
  const poolPolicy = options.poolLimits === undefined ? undefined : checkPolicy(options.poolLimits, 'poolLimits');
  const denyCacheOption = options.denyCache ?? {};
  if (denyCacheOption !== false && typeof denyCacheOption !== 'object')
    throw new InvalidOptionError('denyCache', denyCacheOption, '{ maxKeys?, maxAgeMs? } or false');
  const denyCacheSize =
    denyCacheOption === false
      ? undefined
      : {
          maxKeys: finiteNumber(denyCacheOption.maxKeys ?? 10_000, 'denyCache.maxKeys', {
            min: 1,
            max: MAX_DENY_CACHE_KEYS,
            integer: true,
          }),
          maxAgeMs: finiteNumber(denyCacheOption.maxAgeMs ?? 1_000, 'denyCache.maxAgeMs', { min: 1 }),
        };
  // The memory store answers synchronously: a cache would save nothing.
  const denyCache =
    denyCacheSize === undefined || store instanceof MemoryStore
      ? undefined
      : new DenyCache(denyCacheSize.maxKeys, denyCacheSize.maxAgeMs, clock);
  const deadlines = new DeadlineQueue(timeoutMs);
  // The memory store decides one-limit policies without intermediate objects (see decideInMemory).
  const memory = store instanceof MemoryStore ? store : undefined;
  const decidedAt: DecidedAt = { now: 0 };
  const events = new Emitter<RateLimiterEvents>();
  // Decisions the fallback charged, by the copy this limiter returned: only made during an outage.
  const fallbackCharges = new WeakMap<Decision, Decision>();
  // Per (tier, pooled?): names, algorithms and key segments, so a call only concatenates its key.
  // Keyed by tier name as given (no key string to build per call); the default tier apart.
  const templates = { plain: new Map<string | undefined, Template>(), pooled: new Map<string | undefined, Template>() };
  let defaultTemplate: Template | undefined;

  function policyFor(tier: string | undefined): Policy {
    const name = tier ?? defaultTier;
    if (name === undefined) return basePolicy as Policy;
    const policy = tiers.get(name);
    if (policy === undefined) throw new UnknownTierError(String(tier), [...tiers.keys()]);
    return policy;
  }

  function templateFor(tier: string | undefined, pooled: boolean): Template {
    if (tier === undefined && !pooled && defaultTemplate !== undefined) return defaultTemplate;
    const byTier = pooled ? templates.pooled : templates.plain;
    const cached = byTier.get(tier);
    if (cached !== undefined) return cached;
    const algorithms: Algorithm[] = [];
    const names: string[] = [];
    const shortNames: string[] = [];
    const scopes: ('key' | 'pool')[] = [];
    const dimensions: StoreDimension[] = [];
    const keyPrefix = `${prefix}:{`;
    for (const [name, algorithm] of Object.entries(policyFor(tier))) {
      const code = KIND_CODES[algorithm.kind];
      algorithms.push(algorithm);
      names.push(name);
      shortNames.push(name);
      scopes.push('key');
      // The caller's own state under a pool's hash tag is a state of its own: a slot and a key of
      // its own (`kp`), or the pooled user `u` of pool `u` would share the plain key `u`'s state.
      const kind = pooled ? 'kp' : 'k';
      const slot = `${prefix}:${name}:${code}:${kind}`;
      dimensions.push({ algorithm, scope: 'key', slot, keyPrefix, keySuffix: `}:${name}:${code}:${kind}:` });
    }
    if (pooled) {
      if (poolPolicy === undefined)
        throw new InvalidOptionError('pool', 'a pool', 'no pool (the limiter has no `poolLimits`)');
      for (const [name, algorithm] of Object.entries(poolPolicy)) {
        const code = KIND_CODES[algorithm.kind];
        algorithms.push(algorithm);
        names.push(`pool.${name}`);
        shortNames.push(name);
        scopes.push('pool');
        dimensions.push({
          algorithm,
          scope: 'pool',
          slot: `${prefix}:${name}:${code}:p`,
          keyPrefix,
          keySuffix: `}:${name}:${code}:p`,
        });
      }
    }
    const template: Template = {
      algorithms,
      names,
      shortNames,
      scopes,
      dimensions,
      wholeCostsOnly: algorithms.some((a) => a.kind === 'sliding-log'),
    };
    // Only tiers that exist get here (policyFor throws otherwise), so the maps stay bounded.
    byTier.set(tier, template);
    if (tier === undefined && !pooled) defaultTemplate = template;
    return template;
  }

  function toDecision(
    subject: StoreSubject,
    template: Template,
    outcome: StoreOutcome,
    cost: number,
    source: DecisionSource,
  ): Decision {
    const count = outcome.dimensions.length;
    // Filled by push: a preallocated `new Array(count)` is holey, and slower to build and read.
    const dimensions: DimensionUsage[] = [];
    // The most constrained dimension: fewest remaining (ties: the later reset); when denied, the
    // denying dimension with the longest wait.
    let tightest = 0;
    let limiting = -1;
    let overLimit = false;
    for (let i = 0; i < count; i++) {
      const d = outcome.dimensions[i] as DimensionOutcome;
      const algorithm = template.algorithms[i] as Algorithm;
      const usage: DimensionUsage = {
        name: template.shortNames[i] as string,
        scope: template.scopes[i] as 'key' | 'pool',
        allowed: d.allowed,
        limit: algorithm.limit,
        windowMs: algorithm.windowMs,
        remaining: d.remaining,
        overage: d.overage,
        resetAt: d.resetAt,
        retryAfterMs: d.retryAfterMs,
      };
      dimensions.push(usage);
      if (i > 0) {
        const t = dimensions[tightest] as DimensionUsage;
        if (usage.remaining < t.remaining || (usage.remaining === t.remaining && usage.resetAt > t.resetAt))
          tightest = i;
      }
      if (
        !usage.allowed &&
        (limiting === -1 || usage.retryAfterMs > (dimensions[limiting] as DimensionUsage).retryAfterMs)
      )
        limiting = i;
      if (usage.overage > 0) overLimit = true;
    }
    const reported = limiting === -1 ? tightest : limiting;
    const shown = dimensions[reported] as DimensionUsage;
    const charged = outcome.allowed && cost > 0 && source === 'store';
    return new LimitDecision(
      outcome.allowed,
      cost,
      template.names[reported] as string,
      shown.remaining,
      shown.limit,
      shown.windowMs,
      shown.resetAt,
      outcome.allowed ? 0 : shown.retryAfterMs,
      limiting === -1 ? undefined : template.names[limiting],
      overLimit,
      dimensions,
      outcome.now,
      source,
      charged ? subject.key : undefined,
      charged ? subject.pool : undefined,
      charged ? template : undefined,
    );
  }

  /**
   * A one-limit policy on the memory store: the same decision as `store.consume` then `finish`
   * (no deny cache on this store), without the subject, outcome and array those pass around; with
   * `into`, written into that buffer instead of a new decision (then it allocates nothing).
   */
  function decideInMemory(
    memory: MemoryStore,
    key: string,
    pool: string | undefined,
    template: Template,
    cost: number,
    opts: LimitOptions,
    into: ReusedDecision | undefined,
  ): Decision | Promise<Decision> {
    // The store's slot: read it all before anything else can decide (an event listener could).
    let e: Readonly<EvaluationSlot>;
    try {
      e = consumeOneInto(memory, key, pool, template.dimensions[0] as StoreDimension, cost, decidedAt);
    } catch (error) {
      const failed = onStoreError({ key, pool }, template, error, opts, cost);
      if (into === undefined) return failed;
      return failed instanceof Promise
        ? failed.then((d) => LimitDecision.copyInto(into, d))
        : LimitDecision.copyInto(into, failed);
    }
    const algorithm = template.algorithms[0] as Algorithm;
    const { allowed } = e;
    const charged = allowed && cost > 0;
    const name = template.names[0] as string;
    if (into !== undefined) {
      // No listener here (limitInto takes the allocating path for them): nothing to emit.
      LimitDecision.writeOne(
        into,
        e,
        algorithm,
        name,
        template.shortNames[0] as string,
        template.scopes[0] as 'key' | 'pool',
        cost,
        decidedAt.now,
        charged ? key : undefined,
        charged ? pool : undefined,
        charged ? template : undefined,
      );
      return into;
    }
    const usage: DimensionUsage = {
      name: template.shortNames[0] as string,
      scope: template.scopes[0] as 'key' | 'pool',
      allowed,
      limit: algorithm.limit,
      windowMs: algorithm.windowMs,
      remaining: e.remaining,
      overage: e.overage,
      resetAt: e.resetAt,
      retryAfterMs: e.retryAfterMs,
    };
    const decision = new LimitDecision(
      allowed,
      cost,
      name,
      usage.remaining,
      usage.limit,
      usage.windowMs,
      usage.resetAt,
      allowed ? 0 : usage.retryAfterMs,
      allowed ? undefined : name,
      usage.overage > 0,
      [usage],
      decidedAt.now,
      'store',
      charged ? key : undefined,
      charged ? pool : undefined,
      charged ? template : undefined,
    );
    return decided(key, decision);
  }

  function failDecision(subject: StoreSubject, template: Template, cost: number): Decision {
    const now = clock.now();
    const allowed = failMode === 'open';
    const outcome: StoreOutcome = {
      allowed,
      now,
      dimensions: template.algorithms.map((algorithm) => ({
        allowed,
        // Unknown usage: report the full limit when failing open, nothing when failing closed.
        remaining: allowed ? algorithm.limit : 0,
        overage: 0,
        resetAt: now + (allowed ? 0 : 1_000),
        retryAfterMs: allowed ? 0 : 1_000,
      })),
    };
    return toDecision(subject, template, outcome, cost, allowed ? 'fail-open' : 'fail-closed');
  }

  function finish(
    subject: StoreSubject,
    template: Template,
    outcome: StoreOutcome,
    cost: number,
    cacheId: string | undefined,
    epoch: number,
  ): Decision {
    const decision = toDecision(subject, template, outcome, cost, 'store');
    if (!decision.allowed && cacheId !== undefined && Number.isFinite(decision.retryAfterMs)) {
      denyCache?.set(cacheId, subject, cost, decision, epoch);
    }
    return decided(subject.key, decision);
  }

  /** Every answer leaves through here, so the `decision` event sees them all. */
  function decided(key: string, decision: Decision): Decision {
    if (events.has('decision')) events.emit('decision', { key, decision, source: decision.source });
    return decision;
  }

  function onStoreError(
    subject: StoreSubject,
    template: Template,
    error: unknown,
    opts: LimitOptions,
    cost: number,
  ): Decision | Promise<Decision> {
    const { key } = subject;
    if (fallback !== undefined) {
      events.emit('storeError', { key, error, source: 'fallback' });
      const fromFallback = (d: Decision): Decision => {
        const decision: Decision = { ...d, source: 'fallback' };
        // The fallback charged it: a refund of this copy goes back to the fallback.
        if (LimitDecision.refundable(d)) fallbackCharges.set(decision, d);
        return decided(key, decision);
      };
      const result = fallback.limit(key, opts);
      return result instanceof Promise ? result.then(fromFallback) : fromFallback(result);
    }
    const decision = failDecision(subject, template, cost);
    events.emit('storeError', { key, error, source: decision.source });
    return decided(key, decision);
  }

  function withTimeout<T>(pending: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = deadlines.add(() => {
        reject(new StoreTimeoutError(timeoutMs));
      });
      pending.then(
        (value) => {
          deadline.cancel();
          resolve(value);
        },
        (error: unknown) => {
          deadline.cancel();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /**
   * Invalidates the key's (and pool's) denials again once the store has settled `done` (even past
   * the timeout): a denial decided meanwhile may predate the change, if the store reorders.
   */
  function settled(done: Promise<unknown>, key: string | undefined, pool: string | undefined): void {
    if (denyCache === undefined) return;
    const again = (): void => {
      denyCache.invalidate(key, pool);
    };
    done.then(again, again);
  }

  function checkCost(cost: unknown, template: Template): number {
    if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) {
      throw new InvalidCostError(cost, 'a finite number >= 0');
    }
    if (template.wholeCostsOnly && !Number.isInteger(cost)) {
      throw new InvalidCostError(cost, 'a whole number (the policy has a sliding log)');
    }
    return cost;
  }

  function limit(rawKey: string, opts: LimitOptions = NO_OPTIONS): Decision | Promise<Decision> {
    const key = normaliseKey(rawKey);
    const pool = opts.pool === undefined ? undefined : normaliseKey(opts.pool, 'pool');
    const template = templateFor(opts.tier, pool !== undefined);
    const cost = checkCost(opts.cost ?? 1, template);
    // Not when `consume` was replaced (a subclass, a spy): then the store's own method decides.
    if (memory !== undefined && template.dimensions.length === 1 && memory.consume === memoryConsume)
      return decideInMemory(memory, key, pool, template, cost, opts, undefined);
    const subject: StoreSubject = { key, pool };
    let cacheId: string | undefined;
    // Denials decided from here on are void if the key or its pool is invalidated meanwhile.
    const epoch = denyCache?.epoch ?? 0;
    if (denyCache !== undefined && cost > 0) {
      cacheId = denialId(opts.tier, pool, key);
      const denied = denyCache.get(cacheId, cost);
      if (denied !== undefined) return decided(key, denied);
    }
    let result: StoreOutcome | Promise<StoreOutcome>;
    try {
      result = store.consume(subject, template.dimensions, cost);
    } catch (error) {
      return onStoreError(subject, template, error, opts, cost);
    }
    if (!(result instanceof Promise)) return finish(subject, template, result, cost, cacheId, epoch);
    return withTimeout(result).then(
      (outcome) => finish(subject, template, outcome, cost, cacheId, epoch),
      (error: unknown) => onStoreError(subject, template, error, opts, cost),
    );
  }

  function limitInto(
    into: DecisionBuffer,
    rawKey: string,
    opts: LimitOptions = NO_OPTIONS,
  ): DecisionBuffer | Promise<DecisionBuffer> {
    if (!(into instanceof ReusedDecision))
      throw new InvalidOptionError('into', into, 'a DecisionBuffer from createDecisionBuffer()');
    // A listener may keep what it is given: it gets a decision of its own, copied into the buffer.
    if (memory !== undefined && memory.consume === memoryConsume && !events.has('decision')) {
      const key = normaliseKey(rawKey);
      const pool = opts.pool === undefined ? undefined : normaliseKey(opts.pool, 'pool');
      const template = templateFor(opts.tier, pool !== undefined);
      const cost = checkCost(opts.cost ?? 1, template);
      if (template.dimensions.length === 1)
        return decideInMemory(memory, key, pool, template, cost, opts, into) as
          DecisionBuffer | Promise<DecisionBuffer>;
    }
    const result = limit(rawKey, opts);
    return result instanceof Promise
      ? result.then((d) => LimitDecision.copyInto(into, d))
      : LimitDecision.copyInto(into, result);
  }

  return {
    events,
    limit,
    limitInto,
    peek: function peek(key, opts = {}) {
      return limit(key, { ...opts, cost: 0 });
    },
    refund: function refund(given, amount) {
      // A buffer filled by the allocating path refunds the decision it was copied from.
      const decision = ReusedDecision.refundTarget(given);
      const charged = fallbackCharges.get(decision);
      if (charged !== undefined && fallback !== undefined) return fallback.refund(charged, amount);
      // Nothing to give (amount 0) leaves the one refund unclaimed.
      if (!LimitDecision.refundable(decision) || !((amount ?? 1) > 0)) return false;
      const receipt = LimitDecision.claimRefund(decision);
      if (receipt === undefined) return false;
      const give = Math.min(receipt.cost, amount ?? receipt.cost);
      const { key, pool } = receipt.subject;
      // Capacity comes back: denials of the key (and of its pool's members) no longer hold.
      denyCache?.invalidate(key, pool);
      const done = store.refund(receipt.subject, receipt.template.dimensions, give, receipt.chargedAt);
      if (!(done instanceof Promise)) return true;
      settled(done, key, pool);
      return withTimeout(done).then(() => true);
    },
    reset: function reset(rawKey, opts = {}) {
      const key = normaliseKey(rawKey);
      const pool = opts.pool === undefined ? undefined : normaliseKey(opts.pool, 'pool');
      // Every tier's dimensions (by slot, once each): the key's usage may sit under any of them.
      // Only the key's own: a pool's counters hold the team's total, not who spent it.
      const plain = new Map<string, StoreDimension>();
      const pooled = new Map<string, StoreDimension>();
      const policies = [...(basePolicy === undefined ? [] : [undefined]), ...tiers.keys()];
      for (const tier of policies) {
        for (const d of templateFor(tier, false).dimensions) plain.set(d.slot, d);
        if (pool !== undefined)
          for (const d of templateFor(tier, true).dimensions) if (d.scope === 'key') pooled.set(d.slot, d);
      }
      denyCache?.invalidate(key, pool);
      const done = [store.reset({ key, pool: undefined }, [...plain.values()])];
      if (pool !== undefined) done.push(store.reset({ key, pool }, [...pooled.values()]));
      const pending = done.filter((d) => d instanceof Promise);
      if (pending.length === 0) return undefined;
      const all = Promise.all(pending);
      settled(all, key, pool);
      // Bounded like every store call: a hung store must not hold the caller forever.
      return withTimeout(all).then(() => undefined);
    },
    resetPool: function resetPool(rawPool) {
      const pool = normaliseKey(rawPool, 'pool');
      // The pool's limits are the same in every tier's pooled template (and it throws without any).
      const shared = templateFor(undefined, true).dimensions.filter((d) => d.scope === 'pool');
      // Capacity comes back to every member: their denials no longer hold.
      denyCache?.invalidate(undefined, pool);
      // A pool's own dimensions read only the pool; the subject's key is not used.
      const done = store.reset({ key: pool, pool }, shared);
      if (!(done instanceof Promise)) return undefined;
      settled(done, undefined, pool);
      // Bounded like every store call: a hung store must not hold the caller forever.
      return withTimeout(done);
    },
    setTier: function setTier(tier, policy) {
      tiers.set(nonEmptyString(tier, 'tier'), checkPolicy(policy, `tiers.${tier}`));
      templates.plain.clear();
      templates.pooled.clear();
      defaultTemplate = undefined;
      denyCache?.clear();
    },
  };
}

/** The longest delay `setTimeout` keeps (2^31 - 1 ms); above it, Node fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** lru-cache allocates a cache's slots up front (about 28 bytes each): 1,000,000 is ~28 MB. */
const MAX_DENY_CACHE_KEYS = 1_000_000;

/**
 * The deny cache's id of a call: length-prefixed, so no (tier, pool, key) reads as another
 * (a pool or key may hold any character, the separator included).
 */
function denialId(tier: string | undefined, pool: string | undefined, key: string): string {
  const t = tier === undefined ? '-' : `${String(tier.length)}:${tier}`;
  const p = pool === undefined ? '-' : `${String(pool.length)}:${pool}`;
  return `${t}${p}${key}`;
}

function checkStore(store: RateLimitStore): RateLimitStore {
  const s = store as Partial<RateLimitStore> | null;
  if (typeof s?.consume !== 'function' || typeof s.refund !== 'function' || typeof s.reset !== 'function')
    throw new InvalidOptionError('store', store, 'a RateLimitStore (MemoryStore, RedisStore)');
  return store;
}

function checkPolicy(policy: Policy, option: string): Policy {
  const entries = Object.entries(policy);
  if (entries.length === 0) throw new InvalidOptionError(option, policy, 'at least one named limit');
  for (const [name, algorithm] of entries) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
      throw new InvalidOptionError(`${option}.${name}`, name, 'a name of letters, digits, _ or - (1–64)');
    if (typeof (algorithm as Partial<Algorithm> | undefined)?.evaluate !== 'function') {
      throw new InvalidOptionError(
        `${option}.${name}`,
        algorithm,
        'an algorithm from tokenBucket(), gcra(), fixedWindow(), slidingWindow() or slidingLog()',
      );
    }
  }
  return policy;
}
