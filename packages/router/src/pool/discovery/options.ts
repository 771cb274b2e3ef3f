import { finiteNumber, InvalidOptionError, systemClock } from '@portcullis/core';
import type { Clock } from '@portcullis/core';

/** Longest delay `setTimeout` takes without firing at once (2^31 - 1 ms, ~24.8 days). */
const MAX_DELAY_MS = 2_147_483_647;

/** A delay option in ms: > 0 and within what `setTimeout` takes. */
export function delayOption(value: unknown, option: string): number {
  return finiteNumber(value, option, { min: 0, minExclusive: true, max: MAX_DELAY_MS });
}

/** The `clock` option, defaulting to the system clock. */
export function clockOption(value: unknown): Clock {
  if (value === undefined) return systemClock;
  if (typeof value !== 'object' || value === null || typeof (value as Record<string, unknown>)['now'] !== 'function') {
    throw new InvalidOptionError('clock', value, 'an object with a now() function');
  }
  return value as Clock;
}
