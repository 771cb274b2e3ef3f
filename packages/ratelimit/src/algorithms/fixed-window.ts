import { finiteNumber, positiveNumber } from '@portcullis/core';
import { allocating, fillSlot, type Algorithm, type EvaluationSlot } from './types.js';
import { calendarWindow, durationWindow, type CalendarUnit, type WindowClock } from './window-clock.js';

/** Options of {@link fixedWindow}: a length in ms, or a calendar unit in a time zone. */
export type FixedWindowOptions = {
  /** Units allowed per window. Must be > 0. */
  limit: number;
  /** Extra units allowed beyond `limit` and reported as overage (soft limit). Default 0. */
  overage?: number;
} & (
  | {
      /** Window length in ms; windows are aligned to the Unix epoch. */
      windowMs: number;
      calendar?: never;
      timeZone?: never;
    }
  | {
      /**
       * A calendar window: resets at the start of each hour, day, ISO week or month (where the
       * clocks change, as `calendarWindow` says).
       */
      calendar: CalendarUnit;
      /** IANA time zone of the calendar. Default `'UTC'`. */
      timeZone?: string;
      windowMs?: never;
    }
);

/**
 * Fixed window: at most `limit` units per window; windows are clock-aligned (epoch-aligned lengths
 * or calendar units), so every instance agrees on when they reset. The classic choice for quotas
 * ("1,000 per day, resetting at midnight Paris time"). A burst of up to 2 × `limit` can straddle a
 * boundary; use `slidingWindow` or a token bucket for smooth rate limits. State: `[windowStart, used]`.
 *
 * @example
 * ```ts
 * import { fixedWindow } from '@portcullis/ratelimit';
 *
 * const daily = fixedWindow({ limit: 1_000, calendar: 'day', timeZone: 'Europe/Paris' });
 * const perMinute = fixedWindow({ limit: 60, windowMs: 60_000 });
 * ```
 */
export function fixedWindow(options: FixedWindowOptions): Algorithm {
  const limit = positiveNumber(options.limit, 'limit');
  const overage = finiteNumber(options.overage ?? 0, 'overage', { min: 0 });
  const clock: WindowClock =
    options.calendar === undefined
      ? durationWindow(options.windowMs)
      : calendarWindow(options.calendar, options.timeZone);
  const hard = limit + overage;
  let lastWindow: readonly number[] | undefined;
  let params: readonly number[] = [];

  function settle(
    start: number,
    end: number,
    used: number,
    now: number,
    allowed: boolean,
    retryAfterMs: number,
    out: EvaluationSlot,
  ): void {
    fillSlot(out, allowed, hard - used, overage, used > 0 ? end : now, retryAfterMs, end - now);
    if (used > 0) {
      out.next[0] = start;
      out.next[1] = used;
      out.nextLength = 2;
    } else out.nextLength = 0;
  }

  function usedIn(state: readonly number[] | undefined, start: number): number {
    return state?.[0] === start ? (state[1] ?? 0) : 0;
  }

  return {
    kind: 'fixed-window',
    limit,
    overage,
    windowMs: clock.nominalMs,
    ...allocating(
      function evaluateInto(state, now, cost, out) {
        const bounds = clock.bounds(now);
        const start = bounds[0];
        const end = bounds[1];
        const used = usedIn(state, start);
        if (used + cost <= hard) settle(start, end, used + cost, now, true, 0, out);
        else settle(start, end, used, now, false, cost > hard ? Infinity : end - now, out);
      },
      function refundInto(state, now, amount, chargedAt, out) {
        const bounds = clock.bounds(now);
        const start = bounds[0];
        const used = usedIn(state, start);
        // Units charged in an earlier window were already forgiven when it ended.
        const back = chargedAt >= start ? Math.min(used, amount) : 0;
        settle(start, bounds[1], used - back, now, true, 0, out);
      },
    ),
    scriptParams: function scriptParams(now) {
      // The same array while the window's parameters stay the same (the Redis store caches by it).
      const window = clock.scriptParams(now);
      if (window !== lastWindow) {
        lastWindow = window;
        params = [hard, overage, ...window];
      }
      return params;
    },
  };
}
