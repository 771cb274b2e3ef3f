import { getHeapStatistics } from 'node:v8';
import { InvalidOptionError, ratio } from '@portcullis/core';
import type { CheckOptions, CheckOutcome } from '../check.js';
import { builtIn, type BuiltInCheckOptions } from './options.js';

/**
 * The heap figures the check reads (`v8.getHeapStatistics()` by default).
 *
 * @example
 * ```ts
 * import type { HeapFigures } from '@portcullis/health';
 *
 * const figures: HeapFigures = { used_heap_size: 900e6, heap_size_limit: 1_000e6 }; // 90 %: warn
 * ```
 */
export interface HeapFigures {
  readonly used_heap_size: number;
  readonly heap_size_limit: number;
}

/**
 * Options of {@link heapCheck}.
 *
 * @example
 * ```ts
 * import type { HeapCheckOptions } from '@portcullis/health';
 *
 * const options: HeapCheckOptions = { warnRatio: 0.8, failRatio: 0.95 };
 * ```
 */
export interface HeapCheckOptions extends BuiltInCheckOptions {
  /** Warn when the used heap reaches this share of V8's heap limit. Default 0.85. */
  warnRatio?: number | undefined;
  /** Fail from this share. Default 0.95. */
  failRatio?: number | undefined;
  /** Where the figures come from. Default `v8.getHeapStatistics`. */
  statistics?: (() => HeapFigures) | undefined;
}

/**
 * Checks the heap: used heap ÷ V8's heap limit (`--max-old-space-size`), as a percentage (the
 * observed value). `warn` from `warnRatio`, `fail` from `failRatio`. Defaults: name `heap:used`,
 * group `liveness`, component type `system`.
 *
 * @param options - See {@link HeapCheckOptions} and {@link BuiltInCheckOptions}.
 * @throws InvalidOptionError naming the option.
 *
 * @example
 * ```ts
 * import { createHealth, heapCheck } from '@portcullis/health';
 *
 * const health = createHealth({ checks: [heapCheck({ warnRatio: 0.8 })] });
 * ```
 */
export function heapCheck(options: HeapCheckOptions = {}): CheckOptions {
  const { warnRatio = 0.85, failRatio = 0.95, statistics = getHeapStatistics, ...rest } = options;
  const warn = ratio(warnRatio, 'warnRatio');
  const fail = ratio(failRatio, 'failRatio');
  if (fail < warn) throw new InvalidOptionError('failRatio', failRatio, `at least warnRatio (${String(warn)})`);
  if (typeof statistics !== 'function') throw new InvalidOptionError('statistics', statistics, 'a function');
  return builtIn(
    { name: 'heap:used', groups: ['liveness'], componentType: 'system' },
    rest,
    function heapUseCheck(): CheckOutcome {
      const { used_heap_size: used, heap_size_limit: limit } = statistics();
      const share = limit > 0 ? used / limit : 0;
      const status = share >= fail ? 'fail' : share >= warn ? 'warn' : 'pass';
      const percent = Math.round(share * 10_000) / 100;
      return {
        status,
        observedValue: percent,
        observedUnit: 'percent',
        ...(status === 'pass' ? {} : { output: `heap ${String(percent)} % of its limit` }),
      };
    },
  );
}
