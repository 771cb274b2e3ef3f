import { InvalidOptionError } from '@portcullis/core';

const HOUR = 3_600_000;

/**
 * Farther from UTC than any offset a zone has used (−12 h to +14 h since 1970, local mean times of
 * the 19th century up to ±16 h): the instant a wall-clock time occurs lies within this of that
 * wall-clock time read as UTC.
 */
const REACH = 18 * HOUR;

/** `GMT`, `GMT+05:30`, `GMT-00:44:30` (seconds when the offset has them). */
const OFFSET = /GMT(?:([+\-\u2212])(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * The wall clock of an IANA time zone, read through `Intl` (the runtime's own time-zone data): the
 * zone's UTC offset at any instant, where it changes, and when the clock first shows a given time.
 *
 * Times "on the wall" are numbers too: ms since 1970-01-01T00:00 on that wall clock (a wall-clock
 * reading taken as if it were UTC), so calendar arithmetic on them is `Date.UTC` arithmetic.
 *
 * The searches assume the offset changes at most once within 36 hours. Every zone's offsets since
 * 1970 keep to that (the closest two changes of any zone are a week apart), and the window-clock
 * property tests check every zone the runtime knows.
 */
export interface ZoneClock {
  /** The zone's UTC offset at `t`, in ms (wall clock − UTC). */
  offset(t: number): number;
  /** The first instant in `(after, until]` whose offset differs from the offset at `after`, if any. */
  nextChange(after: number, until: number): number | undefined;
  /**
   * The first instant at which the wall clock reads `wall` or later. A time the clock skips (spring
   * forward) resolves to the jump; a time it shows twice (fall back) to the first occurrence.
   */
  firstReading(wall: number): number;
}

/** By zone name as configured: bounded by the zones a process's limits name (an `Intl` formatter each). */
const clocks = new Map<string, ZoneClock>();

/**
 * The wall clock of `timeZone` (one per zone name, shared); throws {@link InvalidOptionError} (option `timeZone`) for a name
 * the runtime does not know.
 *
 * @example
 * ```ts
 * const paris = zoneClock('Europe/Paris');
 * paris.offset(Date.UTC(2026, 0, 1)); // 3600000
 * // 02:00 on 29 March 2026 does not exist in Paris: the clock jumps from 02:00 CET to 03:00 CEST.
 * paris.firstReading(Date.UTC(2026, 2, 29, 2)); // Date.UTC(2026, 2, 29, 1)
 * ```
 */
export function zoneClock(timeZone: string): ZoneClock {
  let clock = clocks.get(timeZone);
  if (clock === undefined) {
    clock = newZoneClock(timeZone);
    clocks.set(timeZone, clock);
  }
  return clock;
}

function newZoneClock(timeZone: string): ZoneClock {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  } catch {
    throw new InvalidOptionError('timeZone', timeZone, 'an IANA time zone name such as "Europe/Paris"');
  }

  function offset(t: number): number {
    // One `format` and a regular expression: ~4× cheaper than `formatToParts` of the wall clock.
    const match = OFFSET.exec(format.format(t));
    if (match?.[1] === undefined) return 0;
    const size = Number(match[2]) * HOUR + Number(match[3]) * 60_000 + Number(match[4] ?? 0) * 1000;
    return match[1] === '+' ? size : -size;
  }

  function nextChange(after: number, until: number): number | undefined {
    const before = offset(after);
    if (offset(until) === before) return undefined;
    // Bisection to the millisecond: the offset is `before` at `lo` and not at `hi`.
    let lo = after;
    let hi = until;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offset(mid) === before) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  function firstReading(wall: number): number {
    const from = wall - REACH;
    const before = offset(from);
    const change = nextChange(from, wall + REACH);
    // One offset throughout: the one instant showing `wall`.
    if (change === undefined || wall - before < change) return wall - before;
    // Shown only after the change: from the change on, or as soon as the new offset reaches it.
    return Math.max(change, wall - offset(change));
  }

  return { offset, nextChange, firstReading };
}
