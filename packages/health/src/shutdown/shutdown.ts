import type { Server } from 'node:http';
import { constants } from 'node:os';
import { Emitter, InvalidOptionError, isFunctionOption, nonEmptyString } from '@portcullis/core';
import { timerMs } from '../check.js';
import type { Health } from '../health.js';
import { ServerDrain } from './drain.js';

/**
 * Options of {@link createShutdown}.
 *
 * @example
 * ```ts
 * import type { ShutdownOptions } from '@portcullis/health';
 *
 * const options: ShutdownOptions = { drainDelayMs: 5_000, requestTimeoutMs: 20_000, closeTimeoutMs: 10_000 };
 * ```
 */
export interface ShutdownOptions {
  /** Its readiness fails the moment shutdown starts (and its background runs stop at the end). */
  health?: Health | undefined;
  /** `node:http` / `node:https` servers to drain (Fastify: `app.server`). Default none. */
  servers?: readonly Server[] | undefined;
  /** Signals that start the shutdown; a second one forces the exit. Default `['SIGTERM', 'SIGINT']`. */
  signals?: readonly NodeJS.Signals[] | undefined;
  /**
   * How long the servers keep serving, readiness failing, so load balancers stop sending traffic
   * before connections are refused. Default 5,000 ms.
   */
  drainDelayMs?: number | undefined;
  /** How long requests in flight may still take once the servers close; then they are cut. Default 10,000 ms. */
  requestTimeoutMs?: number | undefined;
  /**
   * The closers' total deadline: closers run one at a time, last registered first; at the
   * deadline the one running is abandoned (its signal aborted) and the rest skipped. Default 10,000 ms.
   */
  closeTimeoutMs?: number | undefined;
  /**
   * Called with the exit code at the end (and on a second signal). `false`: the process is not
   * exited (then `start()`'s result tells the code). Default `process.exit`.
   */
  exit?: ((code: number) => void) | false | undefined;
}

/**
 * A closer: releases one resource; its signal aborts when the closers' deadline passes.
 *
 * @example
 * ```ts
 * import type { Closer } from '@portcullis/health';
 *
 * const closePool: Closer = async (signal) => {
 *   signal.addEventListener('abort', () => pool.destroy()); // out of time: stop being nice
 *   await pool.drain();
 * };
 * ```
 */
export type Closer = (signal: AbortSignal) => unknown;

/**
 * Where a shutdown stands.
 *
 * @example
 * ```ts
 * if (shutdown.phase !== 'running') console.log('leaving:', shutdown.phase);
 * ```
 */
export type ShutdownPhase = 'running' | 'draining' | 'closing-servers' | 'closing' | 'done';

/**
 * What a shutdown reports (`shutdown.events`): each phase as it begins, and each closer's end.
 *
 * @example
 * ```ts
 * shutdown.events.on('phase', (e) => console.log('shutdown:', e.phase));
 * shutdown.events.on('closer', (e) => console.log('closed', e.name, e.outcome, e.durationMs));
 * ```
 */
export interface ShutdownEvents {
  /**
   * A phase began (`reason` is the signal's name or the reason given to `start`). At
   * `closing-servers` the servers have already stopped accepting connections.
   */
  phase: { readonly phase: Exclude<ShutdownPhase, 'running'>; readonly reason: string };
  /** A closer ended: `closed`, `failed` (threw or rejected), `timeout` (abandoned at the deadline) or `skipped`. */
  closer: {
    readonly name: string;
    readonly outcome: 'closed' | 'failed' | 'timeout' | 'skipped';
    readonly durationMs: number;
    readonly error?: unknown;
  };
  /** A second signal arrived: the process exits now with `code`. */
  forced: { readonly signal: NodeJS.Signals; readonly code: number };
}

/**
 * How a shutdown ended: `code` is 0 when every closer closed in time, 1 otherwise.
 *
 * @example
 * ```ts
 * const result = await shutdown.start('deploy');
 * if (result.code !== 0) console.error('left behind:', result.failed, result.timedOut);
 * ```
 */
export interface ShutdownResult {
  readonly code: number;
  readonly reason: string;
  /** Requests cut off at `requestTimeoutMs`, over all servers. */
  readonly cutOffRequests: number;
  /** Closers that threw or rejected. */
  readonly failed: readonly string[];
  /** The closer abandoned at the deadline, and those skipped after it. */
  readonly timedOut: readonly string[];
}

interface Registered {
  readonly name: string;
  readonly close: Closer;
}

/**
 * A graceful shutdown: readiness first, then drain, then close. See {@link createShutdown}.
 *
 * @example
 * ```ts
 * import { Shutdown } from '@portcullis/health';
 *
 * const shutdown = new Shutdown({ health, servers: [server], exit: false }); // = createShutdown(...)
 * const { code } = await shutdown.start('deploy');
 * ```
 */
export class Shutdown {
  /** Phases and closers, as they happen. */
  readonly events: Emitter<ShutdownEvents> = new Emitter<ShutdownEvents>();
  readonly #health: Health | undefined;
  readonly #drains: readonly ServerDrain[];
  readonly #signals: readonly NodeJS.Signals[];
  readonly #drainDelayMs: number;
  readonly #requestTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #exit: ((code: number) => void) | undefined;
  readonly #closers: Registered[] = [];
  #phase: ShutdownPhase = 'running';
  #result: Promise<ShutdownResult> | undefined;

  /** @param options - See {@link ShutdownOptions}. */
  constructor(options: ShutdownOptions = {}) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new InvalidOptionError('options', options, 'an object');
    }
    const { health, servers = [], signals = ['SIGTERM', 'SIGINT'], exit } = options;
    if (health !== undefined && typeof (health as Partial<Health> | null)?.markShuttingDown !== 'function') {
      throw new InvalidOptionError('health', health, 'a Health (from createHealth)');
    }
    if (!Array.isArray(servers)) throw new InvalidOptionError('servers', servers, 'an array of node:http servers');
    servers.forEach((server, i) => {
      if (typeof (server as Partial<Server> | null)?.closeAllConnections !== 'function') {
        throw new InvalidOptionError(`servers[${String(i)}]`, server, 'a node:http or node:https server');
      }
    });
    if (!Array.isArray(signals)) throw new InvalidOptionError('signals', signals, 'an array of signal names');
    for (const signal of signals) {
      if (typeof signal !== 'string' || !(signal in constants.signals)) {
        throw new InvalidOptionError('signals', signal, 'signal names such as "SIGTERM"');
      }
    }
    this.#health = health;
    this.#drainDelayMs = delayOption(options.drainDelayMs, 5_000, 'drainDelayMs');
    this.#requestTimeoutMs = timerMs(options.requestTimeoutMs ?? 10_000, 'requestTimeoutMs');
    this.#closeTimeoutMs = timerMs(options.closeTimeoutMs ?? 10_000, 'closeTimeoutMs');
    this.#exit = exit === false ? undefined : exit === undefined ? defaultExit : isFunctionOption(exit, 'exit');
    this.#drains = (servers as readonly Server[]).map((server) => new ServerDrain(server));
    this.#signals = [...new Set(signals)];
    for (const signal of this.#signals) process.on(signal, this.#onSignal);
  }

  /** Where the shutdown stands. */
  get phase(): ShutdownPhase {
    return this.#phase;
  }

  /**
   * Registers a closer (a Redis client's `quit`, a pool's `close`, a forwarder's `close`):
   * closers run last registered first, after the servers are closed. Returns a function that
   * removes it.
   *
   * @throws InvalidOptionError for a bad name or function, or once the shutdown has started.
   */
  addCloser(name: string, close: Closer): () => void {
    nonEmptyString(name, 'name', 200);
    isFunctionOption(close, 'close');
    if (this.#phase !== 'running') throw new InvalidOptionError('name', name, 'a closer added before the shutdown');
    const entry: Registered = { name, close };
    this.#closers.push(entry);
    return () => {
      const i = this.#closers.indexOf(entry);
      if (i !== -1 && this.#phase === 'running') this.#closers.splice(i, 1);
    };
  }

  /**
   * Starts the shutdown (what the signals do); later calls return the same result.
   *
   * 1. Readiness fails at once (`health.markShuttingDown()`).
   * 2. `drainDelayMs` later the servers stop accepting connections (new ones are refused); requests
   *    in flight finish, for up to `requestTimeoutMs`; keep-alive connections close as they idle.
   * 3. Closers run, last registered first, within `closeTimeoutMs` in all.
   * 4. The health's background runs stop; `exit(code)`: 0 when every closer closed in time, else 1.
   */
  start(reason = 'manual'): Promise<ShutdownResult> {
    this.#result ??= this.#run(reason);
    return this.#result;
  }

  /** Removes the signal listeners (the shutdown can still be started by hand). */
  dispose(): void {
    for (const signal of this.#signals) process.off(signal, this.#onSignal);
    for (const drain of this.#drains) drain.dispose();
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#result === undefined) {
      void this.start(signal);
      return;
    }
    const code = 128 + constants.signals[signal];
    this.events.emit('forced', { signal, code });
    this.#exit?.(code);
  };

  async #run(reason: string): Promise<ShutdownResult> {
    this.#health?.markShuttingDown();
    this.#enter('draining', reason);
    await sleep(this.#drainDelayMs);
    // The servers stop listening first, so that whoever hears of this phase finds them closed.
    const draining = Promise.all(this.#drains.map((drain) => drain.close(this.#requestTimeoutMs)));
    this.#enter('closing-servers', reason);
    const drained = await draining;
    const cutOffRequests = drained.reduce((sum, d) => sum + d.cutOff, 0);
    this.#enter('closing', reason);
    const { failed, timedOut } = await this.#runClosers();
    this.#health?.dispose();
    this.dispose();
    const code = failed.length === 0 && timedOut.length === 0 ? 0 : 1;
    this.#enter('done', reason);
    this.#exit?.(code);
    return { code, reason, cutOffRequests, failed, timedOut };
  }

  #enter(phase: Exclude<ShutdownPhase, 'running'>, reason: string): void {
    this.#phase = phase;
    this.events.emit('phase', { phase, reason });
  }

  async #runClosers(): Promise<{ failed: string[]; timedOut: string[] }> {
    const failed: string[] = [];
    const timedOut: string[] = [];
    const controller = new AbortController();
    const deadlineState = { expired: false };
    let onExpiry: () => void = () => undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      onExpiry = () => {
        resolve('deadline');
      };
    });
    const timer = setTimeout(() => {
      deadlineState.expired = true;
      controller.abort(new Error(`closers' deadline of ${String(this.#closeTimeoutMs)} ms passed`));
      onExpiry();
    }, this.#closeTimeoutMs);
    for (const { name, close } of [...this.#closers].reverse()) {
      if (deadlineState.expired) {
        timedOut.push(name);
        this.events.emit('closer', { name, outcome: 'skipped', durationMs: 0 });
        continue;
      }
      const started = performance.now();
      const ended = await Promise.race([settle(close, controller.signal), deadline]);
      const durationMs = Math.round(performance.now() - started);
      if (ended === 'deadline') {
        timedOut.push(name);
        this.events.emit('closer', { name, outcome: 'timeout', durationMs });
      } else if (ended.ok) {
        this.events.emit('closer', { name, outcome: 'closed', durationMs });
      } else {
        failed.push(name);
        this.events.emit('closer', { name, outcome: 'failed', durationMs, error: ended.error });
      }
    }
    clearTimeout(timer);
    return { failed, timedOut };
  }
}

async function settle(close: Closer, signal: AbortSignal): Promise<{ ok: true } | { ok: false; error: unknown }> {
  try {
    await close(signal);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

function sleep(ms: number): Promise<void> {
  return ms === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

function delayOption(value: unknown, fallback: number, option: string): number {
  if (value === 0) return 0;
  return timerMs(value ?? fallback, option);
}

function defaultExit(code: number): void {
  process.exit(code);
}

/**
 * Creates a graceful {@link Shutdown} and listens for its signals: on SIGTERM or SIGINT (or
 * `start()`), readiness fails at once; after `drainDelayMs` the servers stop accepting connections
 * and their requests in flight finish (for up to `requestTimeoutMs`); then the closers run, last
 * registered first, within `closeTimeoutMs`; then the process exits: code 0 when every closer
 * closed in time, 1 when one failed or the deadline passed. A second signal exits at once with
 * 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
 *
 * @param options - See {@link ShutdownOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { Redis } from 'ioredis';
 * import { createHealth, createShutdown, healthListener, redisCheck } from '@portcullis/health';
 *
 * const redis = new Redis();
 * const health = createHealth({ checks: [redisCheck({ client: redis })] });
 * const server = createServer(healthListener(health)).listen(3000);
 * const shutdown = createShutdown({ health, servers: [server], drainDelayMs: 5_000 });
 * shutdown.addCloser('redis', () => redis.quit());
 * ```
 */
export function createShutdown(options?: ShutdownOptions): Shutdown {
  return new Shutdown(options);
}
