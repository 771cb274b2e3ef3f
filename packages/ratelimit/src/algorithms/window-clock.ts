import { oneOf, positiveInteger } from '@portcullis/core';
import { zoneClock } from './time-zone.js';
import { constant } from './types.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Start (inclusive) and end (exclusive) of the window containing an instant, in ms. */
export type WindowBounds = readonly [start: number, end: number];

/** Where window boundaries fall. */
export interface WindowClock {
  /** The window containing `now`. */
  bounds(now: number): WindowBounds;
  /** Nominal window length in ms (for a calendar month: 30 days), for `RateLimit-Policy`. */
  readonly nominalMs: number;
  /**
   * Numbers the Redis script uses to find the same window with the server's clock: `[0, lengthMs]`
   * for epoch-aligned windows, `[1, b0, b1, b2, b3]` (consecutive boundaries around `now`) for
   * calendar windows.
   */
  scriptParams(now: number): readonly number[];
}

/** A calendar unit for {@link calendarWindow}. */
export type CalendarUnit = 'hour' | 'day' | 'week' | 'month';

/**
 * Fixed-length windows aligned to the Unix epoch (so every gateway instance agrees on them):
 * `[k·lengthMs, (k+1)·lengthMs)`.
 *
 * @example
 * ```ts
 * import { durationWindow } from '@portcullis/ratelimit';
 *
 * durationWindow(60_000).bounds(90_000); // [60000, 120000]
 * ```
 */
export function durationWindow(lengthMs: number): WindowClock {
  const length = positiveInteger(lengthMs, 'windowMs');
  // The hot path asks about the same window again and again: hand out the same (readonly) pair.
  let cached: WindowBounds = [Number.NaN, Number.NaN];
  return {
    nominalMs: length,
    bounds: function bounds(now) {
      const start = Math.floor(now / length) * length;
      if (cached[0] !== start) cached = [start, start + length];
      return cached;
    },
    scriptParams: constant([0, length]),
  };
}

/**
 * Calendar windows in an IANA time zone: hours, days, ISO weeks (from Monday) or months, with
 * daylight-saving changes handled. Every window contains the instant asked about, has a positive
 * length, and ends where the next one starts. Where the wall clock jumps or repeats itself:
 *
 * - **Days, weeks and months** start at the first instant the wall clock shows their first day at
 *   00:00 or later (Temporal's `startOfDay`; `disambiguation: 'compatible'` for a midnight that is
 *   skipped or repeated). A skipped midnight (Cairo, Beirut, spring) starts the day at the jump, so
 *   it lasts 23 hours; a repeated hour makes it last 25. A day never goes back: clocks set back
 *   across midnight leave the repeated minutes in the new day.
 * - **Hours** are one wall-clock hour at one UTC offset: each starts when the clock shows hh:00 or
 *   its offset changes, so a window never lasts longer than an hour. The hour a jump shortens
 *   (Lord Howe's 02:00 → 02:30) is a shorter window; the hour repeated when clocks go back is two
 *   windows, each an hour long.
 *
 * @example
 * ```ts
 * import { calendarWindow } from '@portcullis/ratelimit';
 *
 * const month = calendarWindow('month', 'Europe/Paris');
 * const [start, end] = month.bounds(Date.UTC(2026, 2, 15)); // March 2026, Paris time
 * ```
 */
export function calendarWindow(unit: CalendarUnit, timeZone = 'UTC'): WindowClock {
  oneOf(unit, ['hour', 'day', 'week', 'month'], 'calendar');
  const zone = zoneClock(timeZone);

  /** Where the wall-clock unit holding the wall time `wall` starts (a wall time). */
  function unitStart(wall: number): number {
    const day = Math.floor(wall / DAY) * DAY;
    if (unit === 'day') return day;
    // 1970-01-01 was a Thursday: Monday-based weekday of a day number d is (d + 3) mod 7.
    if (unit === 'week') return day - ((((Math.floor(wall / DAY) + 3) % 7) + 7) % 7) * DAY;
    const date = new Date(wall);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }

  /** The wall time the unit after the one starting at `wall` starts at. */
  function unitAfter(wall: number): number {
    if (unit === 'day') return wall + DAY;
    if (unit === 'week') return wall + 7 * DAY;
    const date = new Date(wall);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  }

  /** The hour window: one wall-clock hour at the offset in force at `now`. */
  function hourAt(now: number): WindowBounds {
    const offset = zone.offset(now);
    let start = now - ((((now + offset) % HOUR) + HOUR) % HOUR);
    let end = start + HOUR;
    // An offset change inside the hour cuts it: the window is the part on `now`'s side.
    if (zone.offset(start) !== offset) start = zone.nextChange(start, now) ?? start;
    end = zone.nextChange(now, end - 1) ?? end;
    return [start, end];
  }

  /** The day, week or month: from the first instant its first day shows to the next's. */
  function unitAt(now: number): WindowBounds {
    let wall = unitStart(now + zone.offset(now));
    let start = zone.firstReading(wall);
    let end = zone.firstReading(unitAfter(wall));
    // Clocks set back across a boundary show the previous unit again: it stays the later one.
    while (end <= now) {
      wall = unitAfter(wall);
      start = end;
      end = zone.firstReading(unitAfter(wall));
    }
    return [start, end];
  }

  const windowAt = unit === 'hour' ? hourAt : unitAt;

  // The hot path asks about the same window again and again: remember the last one.
  let cached: WindowBounds = [0, 0];
  function bounds(now: number): WindowBounds {
    if (now >= cached[0] && now < cached[1]) return cached;
    cached = windowAt(now);
    return cached;
  }

  let params: readonly number[] = [];
  let paramsFor = Number.NaN;

  const nominal = { hour: HOUR, day: DAY, week: 7 * DAY, month: 30 * DAY }[unit];
  return {
    nominalMs: nominal,
    bounds,
    scriptParams: function scriptParams(now) {
      const [start, end] = bounds(now);
      // Several Intl calls: compute once per window, not per decision.
      if (paramsFor !== start) {
        params = [1, windowAt(start - 1)[0], start, end, windowAt(end)[1]];
        paramsFor = start;
      }
      return params;
    },
  };
}
