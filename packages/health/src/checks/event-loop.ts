import { monitorEventLoopDelay } from 'node:perf_hooks';
import { finiteNumber, InvalidOptionError } from '@portcullis/core';
import { timerMs, type CheckOptions, type CheckOutcome } from '../check.js';
import { builtIn, type BuiltInCheckOptions } from './options.js';

/**
 * Options of {@link eventLoopDelayCheck}.
 *
 * @example
 * ```ts
 * import type { EventLoopDelayCheckOptions } from '@portcullis/health';
 *
 * const options: EventLoopDelayCheckOptions = { warnMs: 50, failMs: 500, percentile: 99 };
 * ```
 */
export interface EventLoopDelayCheckOptions extends BuiltInCheckOptions {
  /** Warn when the delay reaches this. Default 100 ms. */
  warnMs?: number | undefined;
  /** Fail when the delay reaches this. Default 1,000 ms. */
  failMs?: number | undefined;
  /** Which percentile of the delays since the last run is judged, in (0, 100]. Default 99. */
  percentile?: number | undefined;
  /** The monitor's sampling period (`monitorEventLoopDelay`'s `resolution`). Default 20 ms. */
  resolutionMs?: number | undefined;
}

/**
 * Checks the event loop's delay with `perf_hooks.monitorEventLoopDelay`: the chosen percentile of
 * the delays sampled since the previous run (the monitor is reset after each run), beyond the
 * sampling period itself, in ms (the observed value). `warn` from `warnMs`, `fail` from `failMs`.
 * The monitor runs from creation until `health.dispose()` (or the check's removal). Defaults:
 * name `eventloop:delay`, group `liveness`, component type `system`.
 *
 * @param options - See {@link EventLoopDelayCheckOptions} and {@link BuiltInCheckOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import { createHealth, eventLoopDelayCheck } from '@portcullis/health';
 *
 * const health = createHealth({ checks: [eventLoopDelayCheck({ warnMs: 200, failMs: 2_000, failureThreshold: 3 })] });
 * ```
 */
export function eventLoopDelayCheck(options: EventLoopDelayCheckOptions = {}): CheckOptions {
  const { warnMs = 100, failMs = 1_000, percentile = 99, resolutionMs = 20, dispose, ...rest } = options;
  const warn = timerMs(warnMs, 'warnMs');
  const fail = timerMs(failMs, 'failMs');
  if (fail < warn) throw new InvalidOptionError('failMs', failMs, `at least warnMs (${String(warn)})`);
  const p = finiteNumber(percentile, 'percentile', { min: 0, minExclusive: true, max: 100 });
  const resolution = finiteNumber(resolutionMs, 'resolutionMs', { min: 1, max: 60_000, integer: true });
  const monitor = monitorEventLoopDelay({ resolution });
  monitor.enable();
  return builtIn(
    {
      name: 'eventloop:delay',
      groups: ['liveness'],
      componentType: 'system',
      dispose: () => {
        monitor.disable();
        dispose?.();
      },
    },
    rest,
    function eventLoopCheck(): CheckOutcome {
      // Nanoseconds between the monitor's ticks: the sampling period is not delay.
      const sampled = monitor.count === 0 ? 0 : monitor.percentile(p) / 1e6;
      monitor.reset();
      const delay = Math.round(Math.max(0, sampled - resolution) * 100) / 100;
      const status = delay >= fail ? 'fail' : delay >= warn ? 'warn' : 'pass';
      return {
        status,
        observedValue: delay,
        observedUnit: 'ms',
        ...(status === 'pass' ? {} : { output: `p${String(p)} event loop delay ${String(delay)} ms` }),
      };
    },
  );
}
