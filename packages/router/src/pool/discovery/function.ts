import { InvalidOptionError, isFunctionOption } from '@portcullis/core';
import type { Clock } from '@portcullis/core';
import { isInvalidDiscoveredEndpointError } from './errors.js';
import { clockOption, delayOption } from './options.js';
import { createPollingSource } from './polling-source.js';
import { RefreshFailure } from './refresh-failure.js';
import type { DiscoveredEndpoint, DiscoverySource } from './source.js';
import { validateEndpoints } from './validate-endpoints.js';

/**
 * What {@link functionDiscovery} polls: returns the current endpoints (or a promise of them).
 * `signal` aborts when the call times out or the source stops, so a fetch inside can be cancelled.
 *
 * @example
 * ```ts
 * import type { DiscoveryFunction } from '@portcullis/router';
 *
 * const fromRegistry: DiscoveryFunction = async ({ signal }) => {
 *   const response = await fetch('http://registry.internal/v1/orders', { signal });
 *   return (await response.json()) as { host: string; port: number }[];
 * };
 * ```
 */
export type DiscoveryFunction = (context: {
  readonly signal: AbortSignal;
}) => readonly DiscoveredEndpoint[] | Promise<readonly DiscoveredEndpoint[]>;

/**
 * Options for {@link functionDiscovery}.
 *
 * @example
 * ```ts
 * import type { FunctionDiscoveryOptions } from '@portcullis/router';
 *
 * const options: FunctionDiscoveryOptions = { intervalMs: 10_000, timeoutMs: 2_000 };
 * ```
 */
export interface FunctionDiscoveryOptions {
  /** Wait between the end of one successful call and the next, in ms > 0. Default is 30000. */
  intervalMs?: number | undefined;
  /** How long one call may take before it counts as failed (and its `signal` aborts), in ms > 0. Default is 10000. */
  timeoutMs?: number | undefined;
  /** Wait before calling again after a failed call, in ms > 0. Default is the smaller of `intervalMs` and 5000. */
  refreshOnErrorMs?: number | undefined;
  /** Aborting it stops the source for good: every subscription ends and `subscribe` does nothing more. */
  signal?: AbortSignal | undefined;
  /** Time source, read only to say how stale the last good answer is in errors. Default is `Date.now`. */
  clock?: Clock | undefined;
}

/**
 * Endpoints from a plain async function (a service registry's API, a config store, a file),
 * called every `intervalMs` while someone is subscribed. What it returns is checked like a static
 * list: an invalid entry, a duplicate or an empty list is reported as a `DiscoveryError` (`invalid`
 * with the `InvalidDiscoveredEndpointError` as `cause`, or `empty`), as are a throw (`threw`) and a
 * call that outlasts `timeoutMs` (`timeout`); the subscriber keeps its last good set and the
 * function is called again after `refreshOnErrorMs`. `update` is sent only when the set changed.
 *
 * One call at a time and one timer per source, `unref`ed; the last unsubscribe (or `signal`)
 * aborts a call in flight and drops its result.
 *
 * @example
 * ```ts
 * import { functionDiscovery } from '@portcullis/router';
 *
 * const source = functionDiscovery(
 *   async ({ signal }) => {
 *     const response = await fetch('http://registry.internal/v1/orders', { signal });
 *     return (await response.json()) as { host: string; port: number }[];
 *   },
 *   { intervalMs: 10_000, timeoutMs: 2_000 },
 * );
 * const stop = source.subscribe({ update: (endpoints) => console.log(endpoints), error: console.warn });
 * ```
 */
export function functionDiscovery(fn: DiscoveryFunction, options: FunctionDiscoveryOptions = {}): DiscoverySource {
  isFunctionOption(fn, 'fn');
  const intervalMs = delayOption(options.intervalMs ?? 30_000, 'intervalMs');
  const timeoutMs = delayOption(options.timeoutMs ?? 10_000, 'timeoutMs');
  const refreshOnErrorMs = delayOption(options.refreshOnErrorMs ?? Math.min(intervalMs, 5_000), 'refreshOnErrorMs');
  const clock = clockOption(options.clock);
  const signal = options.signal;
  if (
    signal !== undefined &&
    !(typeof signal === 'object' && typeof (signal as Partial<AbortSignal>).aborted === 'boolean')
  ) {
    throw new InvalidOptionError('signal', signal, 'an AbortSignal');
  }

  const call = async (stopped: AbortSignal): Promise<readonly DiscoveredEndpoint[]> => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      // The source's one timer: the refresh timer is never armed while a call runs.
      timer = setTimeout(function callTimeout() {
        reject(new RefreshFailure('timeout', `no answer within ${String(timeoutMs)} ms`));
        controller.abort(new Error(`functionDiscovery: no answer within ${String(timeoutMs)} ms`));
      }, timeoutMs);
      timer.unref();
    });
    const onStop = (): void => {
      clearTimeout(timer);
      controller.abort(stopped.reason);
    };
    stopped.addEventListener('abort', onStop, { once: true });
    try {
      // The async wrapper turns a synchronous throw into a rejection like any other.
      const value: unknown = await Promise.race([(async () => fn({ signal: controller.signal }))(), timedOut]);
      return checked(value);
    } finally {
      clearTimeout(timer);
      stopped.removeEventListener('abort', onStop);
    }
  };

  return createPollingSource({
    description: 'function',
    refreshOnErrorMs,
    clock,
    signal,
    refresh: async function callFunction(stopped) {
      return { endpoints: await call(stopped), nextRefreshMs: intervalMs };
    },
  });
}

function checked(value: unknown): readonly DiscoveredEndpoint[] {
  let endpoints: readonly DiscoveredEndpoint[];
  try {
    endpoints = validateEndpoints(value);
  } catch (error) {
    if (isInvalidDiscoveredEndpointError(error)) throw new RefreshFailure('invalid', error.message, { cause: error });
    throw error;
  }
  if (endpoints.length === 0) throw new RefreshFailure('empty', 'the function returned no endpoints');
  return endpoints;
}
