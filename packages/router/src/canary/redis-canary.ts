import { randomUUID } from 'node:crypto';
import {
  assertRedisRepliesSettle,
  Emitter,
  finiteNumber,
  InvalidOptionError,
  isFunctionOption,
  nonEmptyString,
  reportUnhandled,
} from '@portcullis/core';
import type { Cluster, Redis } from 'ioredis';
import { figuresOf, type CheckResult } from './checks.js';
import {
  applyWeights,
  type CanaryDecision,
  type CanaryEvents,
  type CanaryState,
  type RequestOutcome,
} from './controller.js';
import { VariantWindow } from './metrics.js';
import { canarySettings, checkOutcome, runChecks, type CanaryOptions } from './options.js';
import { afterInterval, initialState, manualTransition, type CanaryAction, type ReleaseState } from './transitions.js';

/** Options of {@link createRedisCanary}: those of `createCanary`, plus where and how often to share. */
export interface RedisCanaryOptions extends CanaryOptions {
  /**
   * Your ioredis client (`Redis` or `Cluster`; every key of one release shares a hash tag). Never
   * closed by the controller. With `autoResendUnfulfilledCommands: false` it needs a
   * `commandTimeout` (refused otherwise): a command whose reply a dropped connection lost would
   * never settle, and sync rounds run one at a time.
   */
  redis: Redis | Cluster;
  /** Key prefix. Default is `portcullis:canary`. */
  prefix?: string | undefined;
  /** How often `start()` syncs with Redis, in ms; every instance applies a published weight within this. Default is 1_000. */
  pollMs?: number | undefined;
  /**
   * How long after an interval ends it is analysed, so that every instance has flushed its figures
   * for it (at least one poll). Default is 2 × `pollMs`.
   */
  settleMs?: number | undefined;
  /**
   * Told of every round of `start()`'s timer that failed (Redis down or not answering in time):
   * a metric, a rate-limited log line. The round is tried again at the next poll, and meanwhile the
   * instance keeps the share it last applied. Default: `reportUnhandled` (a `PortcullisWarning` per
   * failed round, every `pollMs` while Redis is down). An error it throws is reported the same way.
   */
  onSyncError?: ((event: RedisCanarySyncError) => void) | undefined;
}

/** What {@link RedisCanaryOptions.onSyncError} is told: the release's name and why the round failed. */
export interface RedisCanarySyncError {
  /** The release's name. */
  readonly name: string;
  /** What the round failed with (usually an ioredis error). */
  readonly error: unknown;
}

/** A canary release shared by several gateway instances through Redis (see {@link createRedisCanary}). */
export interface RedisCanary {
  /** Decisions (on the instance that made them) and weight changes (on every instance). */
  readonly events: Emitter<CanaryEvents>;
  /** The canary's share this instance applies, in percent (as of its last sync). */
  percent(): number;
  /** The state as of the last sync; `undefined` before the first. */
  state(): CanaryState | undefined;
  /** Counts one outcome locally; flushed to Redis by `sync`. Outcomes before the first sync are not counted. */
  record(variant: string, outcome: RequestOutcome): void;
  /**
   * One round with Redis: flushes the figures of intervals that have ended, analyses the last ended
   * interval if this instance wins its lease, and applies the published share.
   */
  sync(): Promise<void>;
  /** Calls `sync` every `pollMs` on one unref'd timer (a failed round goes to `onSyncError`, never thrown). */
  start(): void;
  /** Stops the timer. */
  stop(): void;
  /** Manual actions, applied atomically to the shared state; they win over a decision in flight. */
  promote(reason?: string): Promise<CanaryDecision | undefined>;
  /** Stops the schedule; the share stays where it is. */
  pause(reason?: string): Promise<CanaryDecision | undefined>;
  /** Starts the schedule again, from a fresh interval. */
  resume(reason?: string): Promise<CanaryDecision | undefined>;
  /** Sends the canary to 0 %, where nothing scheduled moves it again. */
  rollback(reason?: string): Promise<CanaryDecision | undefined>;
  /** Starts the release over from its first step. */
  restart(reason?: string): Promise<CanaryDecision | undefined>;
}

/** The shared state: the release's, plus where its intervals start and the last one analysed. */
interface SharedState extends ReleaseState {
  /** When interval 0 started (ms); manual actions start a new epoch. */
  readonly epoch: number;
  /** The last interval analysed in this epoch (-1: none). */
  readonly decided: number;
}

interface LocalInterval {
  readonly epoch: number;
  readonly index: number;
  readonly canary: VariantWindow;
  readonly baseline: VariantWindow;
}

/** Compare-and-set: the state is replaced only if it is still what the caller decided on. */
const CAS = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0`;

/** At most this many intervals are held locally before a flush (older ones are dropped). */
const MAX_LOCAL_INTERVALS = 3;
/** At most this many serialised histograms per side and interval are merged (one per instance and interval). */
const MAX_MERGED = 1_000;

/**
 * Creates a canary controller shared by several instances through Redis. Each instance counts its
 * own outcomes and, after each interval, adds its counts and its serialised latency histogram to
 * the interval's keys; the instance that wins the interval's lease (`SET NX PX`) merges them, runs
 * the checks and publishes the next state with a compare-and-set (so a manual action in between
 * wins); every instance applies the published share at its next sync.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisCanary, createSplit } from '@portcullis/router';
 *
 * const split = createSplit({ name: 'orders', variants: [{ name: 'stable', weight: 100 }, { name: 'canary' }] });
 * const canary = createRedisCanary({ redis: new Redis(), name: 'orders-v2', split, pollMs: 1_000 });
 * canary.start();
 * // in the guard's onComplete:
 * canary.record('canary', { status: 200, durationMs: 42 });
 * ```
 */
export function createRedisCanary(options: RedisCanaryOptions): RedisCanary {
  const settings = canarySettings(options);
  const { name, steps, intervalMs, threshold, split, clock } = settings;
  const redis = options.redis as unknown;
  if (typeof redis !== 'object' || redis === null) throw new InvalidOptionError('redis', redis, 'an ioredis client');
  // Sync rounds run one at a time: a command ioredis never settles would stop every later round.
  assertRedisRepliesSettle(redis, 'redis');
  const client = options.redis;
  const prefix = nonEmptyString(options.prefix ?? 'portcullis:canary', 'prefix', 256);
  const pollMs = finiteNumber(options.pollMs ?? 1_000, 'pollMs', { min: 1, max: intervalMs });
  const settleMs = finiteNumber(options.settleMs ?? 2 * pollMs, 'settleMs', { min: pollMs, max: intervalMs });
  const onSyncError =
    options.onSyncError === undefined ? undefined : isFunctionOption(options.onSyncError, 'onSyncError');
  const owner = randomUUID();
  // One hash tag per release: every key of it lives on one Cluster slot.
  const base = `{${prefix}:${encodeURIComponent(name)}}`;
  const stateKey = `${base}:state`;
  const metricsKey = (epoch: number, index: number): string => `${base}:m:${String(epoch)}:${String(index)}`;
  const latencyKey = (epoch: number, index: number, side: 'c' | 'b'): string =>
    `${base}:h:${String(epoch)}:${String(index)}:${side}`;
  const leaseKey = (epoch: number, index: number): string => `${base}:lease:${String(epoch)}:${String(index)}`;
  const keepMs = String(Math.ceil(10 * intervalMs));

  const events = new Emitter<CanaryEvents>();
  let known: SharedState | undefined;
  let applied = 0;
  const local: LocalInterval[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  let syncing: Promise<void> | undefined;

  function indexAt(state: SharedState, now: number): number {
    return Math.floor((now - state.epoch) / intervalMs);
  }

  function apply(state: SharedState): void {
    known = state;
    if (state.percent !== applied) {
      const from = applied;
      applied = state.percent;
      applyWeights(split, settings, applied);
      events.emit('weight', { name, percent: applied, from });
    }
  }

  async function readState(): Promise<{ raw: string; state: SharedState }> {
    const fresh = JSON.stringify({ ...initialState(steps), epoch: clock.now(), decided: -1 } satisfies SharedState);
    await client.set(stateKey, fresh, 'NX');
    const raw = (await client.get(stateKey)) ?? fresh;
    return { raw, state: JSON.parse(raw) as SharedState };
  }

  async function flush(now: number): Promise<void> {
    const current = known === undefined ? undefined : indexAt(known, now);
    const done = local.filter((w) => known === undefined || w.epoch !== known.epoch || w.index !== current);
    if (done.length === 0) return;
    const multi = client.multi();
    for (const w of done) {
      local.splice(local.indexOf(w), 1);
      const m = metricsKey(w.epoch, w.index);
      multi.hincrby(m, 'cr', w.canary.requests).hincrby(m, 'ce', w.canary.errors);
      multi.hincrby(m, 'br', w.baseline.requests).hincrby(m, 'be', w.baseline.errors).pexpire(m, keepMs);
      for (const [side, window] of [
        ['c', w.canary],
        ['b', w.baseline],
      ] as const) {
        if (window.requests === 0) continue;
        const l = latencyKey(w.epoch, w.index, side);
        multi.rpush(l, window.serialiseLatency()).pexpire(l, keepMs);
      }
    }
    try {
      await multi.exec();
    } catch (error) {
      // Not applied (Redis down): kept for the next round, ahead of newer intervals, within the bound.
      local.unshift(...done);
      local.splice(0, Math.max(0, local.length - MAX_LOCAL_INTERVALS));
      throw error;
    }
  }

  async function analyse(state: SharedState, index: number): Promise<readonly CheckResult[]> {
    const m = metricsKey(state.epoch, index);
    const [counts, canaryLatencies, baselineLatencies] = await Promise.all([
      client.hgetall(m),
      client.lrange(latencyKey(state.epoch, index, 'c'), 0, MAX_MERGED - 1),
      client.lrange(latencyKey(state.epoch, index, 'b'), 0, MAX_MERGED - 1),
    ]);
    const canary = new VariantWindow();
    const baseline = new VariantWindow();
    const n = (field: string): number => Number(counts[field] ?? 0);
    const ok = canary.absorb(n('cr'), n('ce'), canaryLatencies) && baseline.absorb(n('br'), n('be'), baselineLatencies);
    if (!ok) reportUnhandled(new Error(`canary ${name}: a stored latency histogram did not decode`), 'redis canary');
    return runChecks(settings, { canary: figuresOf(canary), baseline: figuresOf(baseline) });
  }

  function decision(
    from: number,
    to: ReleaseState,
    action: CanaryAction,
    trigger: 'schedule' | 'manual',
    reason: string,
    checks: readonly CheckResult[],
    at: number,
  ): CanaryDecision {
    const d: CanaryDecision = {
      name,
      action,
      trigger,
      from,
      to: to.percent,
      failedChecks: to.failedChecks,
      reason,
      checks,
      at,
    };
    events.emit('decision', d);
    return d;
  }

  async function syncOnce(): Promise<void> {
    const now = clock.now();
    await flush(now);
    const { raw, state } = await readState();
    // The last interval that ended at least settleMs ago: every instance has flushed it.
    const ended = Math.floor((now - settleMs - state.epoch) / intervalMs) - 1;
    if (state.phase === 'progressing' && ended > state.decided) {
      const won = await client.set(leaseKey(state.epoch, ended), owner, 'PX', Math.ceil(intervalMs), 'NX');
      if (won === 'OK') {
        const checks = await analyse(state, ended);
        const t = afterInterval(state, checks, steps, threshold);
        if (t !== undefined) {
          const next: SharedState = { ...t.state, epoch: state.epoch, decided: ended };
          const nextRaw = JSON.stringify(next);
          if ((await client.eval(CAS, 1, stateKey, raw, nextRaw)) === 1) {
            apply(next);
            decision(state.percent, next, t.action, 'schedule', t.reason, checks, now);
            return;
          }
          // The state changed under us (a manual action): it wins; read it below.
          const again = await readState();
          apply(again.state);
          return;
        }
      }
    }
    apply(state);
  }

  async function manual(
    action: 'promote' | 'pause' | 'resume' | 'rollback' | 'restart',
    reason: string,
  ): Promise<CanaryDecision | undefined> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const { raw, state } = await readState();
      const t = manualTransition(state, action, steps);
      if (t === undefined) {
        apply(state);
        return undefined;
      }
      const now = clock.now();
      // A new epoch: the schedule restarts from now, and no lease of the old one can publish.
      const next: SharedState = { ...t.state, epoch: now, decided: -1 };
      if ((await client.eval(CAS, 1, stateKey, raw, JSON.stringify(next))) === 1) {
        apply(next);
        return decision(state.percent, next, t.action, 'manual', reason, [], now);
      }
    }
    throw new Error(`canary ${name}: the shared state kept changing; ${action} not applied`);
  }

  function sync(): Promise<void> {
    // One round at a time per instance: overlapping polls would flush the same window twice.
    syncing ??= syncOnce().finally(() => {
      syncing = undefined;
    });
    return syncing;
  }

  return {
    events,
    percent: () => applied,
    state: () =>
      known === undefined
        ? undefined
        : {
            phase: known.phase,
            percent: known.percent,
            step: known.step,
            failedChecks: known.failedChecks,
            nextAnalysisAt: known.epoch + (known.decided + 2) * intervalMs + settleMs,
          },
    record: function record(variant: string, outcome: RequestOutcome): void {
      const side = variant === settings.canary ? 'canary' : variant === settings.baseline ? 'baseline' : undefined;
      if (side === undefined || known === undefined) return;
      checkOutcome(outcome);
      const epoch = known.epoch;
      const index = indexAt(known, clock.now());
      let w = local.find((l) => l.epoch === epoch && l.index === index);
      if (w === undefined) {
        w = { epoch, index, canary: new VariantWindow(), baseline: new VariantWindow() };
        local.push(w);
        if (local.length > MAX_LOCAL_INTERVALS) local.shift(); // no sync for several intervals: the oldest is stale anyway
      }
      w[side].record(settings.isError(outcome.status), outcome.durationMs);
    },
    sync,
    start: function start(): void {
      if (timer !== undefined) return;
      timer = setInterval(() => {
        sync().catch((error: unknown) => {
          if (onSyncError === undefined) {
            reportUnhandled(error, `redis canary ${name}`);
            return;
          }
          try {
            onSyncError({ name, error });
          } catch (thrown) {
            reportUnhandled(thrown, 'redis canary onSyncError');
          }
        });
      }, pollMs);
      timer.unref();
    },
    stop: function stop(): void {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
    promote: (reason = 'manual promotion') => manual('promote', reason),
    pause: (reason = 'manual pause') => manual('pause', reason),
    resume: (reason = 'manual resume') => manual('resume', reason),
    rollback: (reason = 'manual rollback') => manual('rollback', reason),
    restart: (reason = 'manual restart') => manual('restart', reason),
  };
}
