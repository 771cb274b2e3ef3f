import { reportUnhandled } from '@portcullis/core';
import type { Clock } from '@portcullis/core';
import { DiscoveryError } from './errors.js';
import { checkListener, deliverError, deliverUpdate } from './listener.js';
import { RefreshFailure } from './refresh-failure.js';
import { sameEndpoints } from './same-endpoints.js';
import type { DiscoveredEndpoint, DiscoveryListener, DiscoverySource } from './source.js';

/** What one successful refresh found, and when to look again. */
export interface RefreshResult {
  readonly endpoints: readonly DiscoveredEndpoint[];
  readonly nextRefreshMs: number;
}

/** How {@link createPollingSource} finds endpoints and paces itself. */
export interface PollingSourceOptions {
  /** Names the source in errors (`dns A api.internal`). */
  readonly description: string;
  /** Finds the current set, or throws (a `RefreshFailure` says why). `signal` aborts on stop. */
  readonly refresh: (signal: AbortSignal) => Promise<RefreshResult>;
  /** Delay before the next try after a failed refresh. */
  readonly refreshOnErrorMs: number;
  readonly clock: Clock;
  /** Runs when the last subscriber leaves, after the in-flight refresh was abandoned. */
  readonly onStop?: (() => void) | undefined;
  /** Once aborted, the source ends every subscription and starts no more. */
  readonly signal?: AbortSignal | undefined;
}

interface Subscriber {
  readonly listener: DiscoveryListener;
  active: boolean;
}

/**
 * The refresh loop the DNS and function sources share. While anyone is subscribed it runs one
 * refresh at a time and one `unref`ed timer: refresh, then wait `nextRefreshMs` (or
 * `refreshOnErrorMs` after a failure), then refresh again. Subscribers hear `update` only when the
 * set differs from the last one (order aside), and `error` for each failed refresh, while the
 * last good set stays theirs. When the last subscriber leaves, the timer is cleared and a refresh
 * in flight is abandoned: its result, whenever it comes, is dropped.
 */
export function createPollingSource(options: PollingSourceOptions): DiscoverySource {
  const { clock, refreshOnErrorMs } = options;
  const subscribers = new Set<Subscriber>();
  // Bumped on every start and stop, so a refresh from an earlier run cannot touch this one.
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;
  let current: readonly DiscoveredEndpoint[] | undefined;
  let lastGoodAt: number | undefined;
  let ended = false;

  const schedule = (run: number, delayMs: number): void => {
    timer = setTimeout(function refreshTimer() {
      timer = undefined;
      refreshNow(run);
    }, delayMs);
    // Watching a service must not keep the process alive.
    timer.unref();
  };

  const failureOf = (error: unknown): DiscoveryError => {
    const staleForMs = lastGoodAt === undefined ? undefined : Math.max(0, clock.now() - lastGoodAt);
    if (error instanceof RefreshFailure) {
      return new DiscoveryError(options.description, error.failure, error.message, {
        dnsCode: error.dnsCode,
        staleForMs,
        retryInMs: refreshOnErrorMs,
        cause: error.cause,
      });
    }
    const detail = error instanceof Error ? error.message : 'it threw a non-Error value';
    return new DiscoveryError(options.description, 'threw', detail, {
      staleForMs,
      retryInMs: refreshOnErrorMs,
      cause: error,
    });
  };

  const refreshNow = (run: number): void => {
    const controller = new AbortController();
    inFlight = controller;
    const settle = async (): Promise<void> => {
      let result: RefreshResult;
      try {
        result = await options.refresh(controller.signal);
        if (result.endpoints.length === 0) throw new RefreshFailure('empty', 'no endpoints');
      } catch (error) {
        if (run !== generation) return;
        inFlight = undefined;
        const failure = failureOf(error);
        schedule(run, refreshOnErrorMs);
        for (const subscriber of [...subscribers]) if (subscriber.active) deliverError(subscriber.listener, failure);
        return;
      }
      if (run !== generation) return;
      inFlight = undefined;
      lastGoodAt = clock.now();
      schedule(run, result.nextRefreshMs);
      if (current !== undefined && sameEndpoints(current, result.endpoints)) return;
      const endpoints = result.endpoints;
      current = endpoints;
      for (const subscriber of [...subscribers]) if (subscriber.active) deliverUpdate(subscriber.listener, endpoints);
    };
    settle().catch((error: unknown) => {
      reportUnhandled(error, 'discovery refresh');
    });
  };

  const stop = (): void => {
    generation++;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    inFlight?.abort();
    inFlight = undefined;
    current = undefined;
    lastGoodAt = undefined;
    options.onStop?.();
  };

  const end = (): void => {
    if (ended) return;
    ended = true;
    for (const subscriber of subscribers) subscriber.active = false;
    const wasRunning = subscribers.size > 0;
    subscribers.clear();
    if (wasRunning) stop();
  };
  if (options.signal?.aborted === true) ended = true;
  else options.signal?.addEventListener('abort', end, { once: true });

  return {
    subscribe: function subscribe(listener: DiscoveryListener): () => void {
      checkListener(listener);
      if (ended) return function unsubscribe(): void {};
      const subscriber: Subscriber = { listener, active: true };
      subscribers.add(subscriber);
      if (subscribers.size === 1) {
        generation++;
        refreshNow(generation);
      } else if (current !== undefined) {
        deliverUpdate(listener, current);
      }
      return function unsubscribe(): void {
        if (!subscriber.active) return;
        subscriber.active = false;
        subscribers.delete(subscriber);
        if (subscribers.size === 0) stop();
      };
    },
  };
}
