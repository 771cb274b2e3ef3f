import type { CheckResult } from './result.js';
import type { HealthStatus } from './status.js';

/**
 * What a health instance reports (`health.events`): every finished run, and every change of a
 * check's reported status. For metrics and logs; the library itself never logs.
 *
 * @example
 * ```ts
 * import { createHealth } from '@portcullis/health';
 *
 * const health = createHealth();
 * health.events.on('change', (e) => console.warn(`${e.name}: ${e.from ?? 'unknown'} -> ${e.to}`));
 * health.events.on('run', (r) => console.debug(r.name, r.status, r.durationMs));
 * ```
 */
export interface HealthEvents {
  /** A run of a check ended (on demand or in the background). */
  run: CheckResult;
  /** A check's reported status changed (thresholds applied); `from` is undefined on its first run. */
  change: StatusChangeEvent;
}

/**
 * Payload of the `change` event.
 *
 * @example
 * ```ts
 * import type { StatusChangeEvent } from '@portcullis/health';
 *
 * const onChange = (e: StatusChangeEvent): void => console.warn(`${e.name}: ${e.from ?? 'unknown'} -> ${e.to}`);
 * ```
 */
export interface StatusChangeEvent {
  /** The check's name. */
  readonly name: string;
  /** The status reported before; `undefined` before the first run. */
  readonly from: HealthStatus | undefined;
  /** The status reported now. */
  readonly to: HealthStatus;
  /** The run that moved it. */
  readonly result: CheckResult;
}
