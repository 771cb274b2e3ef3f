import { InvalidOptionError, oneOf, positiveInteger } from '@portcullis/core';
import { constant } from './types.js';

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
 * daylight-saving changes handled (a day may last 23 or 25 hours).
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
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new InvalidOptionError('timeZone', timeZone, 'an IANA time zone name such as "Europe/Paris"');
  }

  /** Wall-clock fields of an instant in the zone. */
  function wall(t: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
    const parts: Record<string, number> = {};
    for (const p of format.formatToParts(t)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    return {
      y: parts['year'] ?? 0,
      mo: parts['month'] ?? 1,
      d: parts['day'] ?? 1,
      h: parts['hour'] ?? 0,
      mi: parts['minute'] ?? 0,
      s: parts['second'] ?? 0,
    };
  }

  /** The instant at which the zone's wall clock reads the given local midnight/hour. */
  function instant(y: number, mo: number, d: number, h: number): number {
    const target = Date.UTC(y, mo - 1, d, h);
    let guess = target;
    // Two corrections settle the offset, including across a DST change.
    for (let i = 0; i < 3; i++) {
      const w = wall(guess);
      const seen = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
      const next = guess + (target - seen);
      if (next === guess) break;
      guess = next;
    }
    return guess;
  }

  function startOf(now: number): number {
    const w = wall(now);
    switch (unit) {
      case 'hour':
        // Hours are an hour long in every zone offset in use today except half-hour DST shifts;
        // aligning on the local hour keeps "per hour" what a user sees on the clock.
        return instant(w.y, w.mo, w.d, w.h);
      case 'day':
        return instant(w.y, w.mo, w.d, 0);
      case 'week': {
        const weekday = (new Date(Date.UTC(w.y, w.mo - 1, w.d)).getUTCDay() + 6) % 7; // Monday = 0
        return instant(w.y, w.mo, w.d - weekday, 0);
      }
      case 'month':
        return instant(w.y, w.mo, 1, 0);
    }
  }

  function nextAfter(start: number): number {
    const w = wall(start);
    switch (unit) {
      case 'hour':
        return instant(w.y, w.mo, w.d, w.h + 1);
      case 'day':
        return instant(w.y, w.mo, w.d + 1, 0);
      case 'week':
        return instant(w.y, w.mo, w.d + 7, 0);
      case 'month':
        return instant(w.y, w.mo + 1, 1, 0);
    }
  }

  // The hot path asks about the same window again and again: remember the last one.
  let cached: WindowBounds = [0, 0];
  function bounds(now: number): WindowBounds {
    if (now >= cached[0] && now < cached[1]) return cached;
    const start = startOf(now);
    cached = [start, nextAfter(start)];
    return cached;
  }

  let params: readonly number[] = [];
  let paramsFor = Number.NaN;

  const nominal = { hour: 3_600_000, day: 86_400_000, week: 604_800_000, month: 2_592_000_000 }[unit];
  return {
    nominalMs: nominal,
    bounds,
    scriptParams: function scriptParams(now) {
      const [start, end] = bounds(now);
      // Four Intl calls: compute once per window, not per decision.
      if (paramsFor !== start) {
        params = [1, startOf(start - 1), start, end, nextAfter(end)];
        paramsFor = start;
      }
      return params;
    },
  };
}
