import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { fixedWindow } from './fixed-window.js';
import { calendarWindow, durationWindow, type CalendarUnit, type WindowClock } from './window-clock.js';

const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];

/** The zone's wall clock at an instant, as [year, month, day, hour, minute, weekday]. */
function wall(t: number, timeZone: string): number[] {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    weekday: 'short',
  }).formatToParts(t);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(get('weekday'));
  return [
    Number(get('year')),
    Number(get('month')),
    Number(get('day')),
    Number(get('hour')),
    Number(get('minute')),
    weekday,
  ];
}

describe('calendar windows', () => {
  test.prop(
    [
      fc.constantFrom<CalendarUnit>('day', 'week', 'month'),
      fc.constantFrom(...zones),
      fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
    ],
    { numRuns: 400 },
  )('contain the instant, abut the next window, and start at local midnight of the right day', (unit, zone, now) => {
    const clock = calendarWindow(unit, zone);
    const [start, end] = clock.bounds(now);
    expect(start).toBeLessThanOrEqual(now);
    expect(end).toBeGreaterThan(now);
    expect(clock.bounds(end)[0]).toBe(end);
    const [, , day, hour, minute, weekday] = wall(start, zone);
    expect([hour, minute]).toEqual([0, 0]);
    if (unit === 'month') expect(day).toBe(1);
    if (unit === 'week') expect(weekday).toBe(0);
    // Script parameters are consecutive boundaries around the window.
    const [mode, b0, b1, b2, b3] = clock.scriptParams(now);
    expect(mode).toBe(1);
    expect([b1, b2]).toEqual([start, end]);
    expect(clock.bounds(b0 as number)).toEqual([b0, start]);
    expect(clock.bounds(end)).toEqual([end, b3]);
  });

  test('a Paris day lasts 23 hours when the clocks go forward', () => {
    const [start, end] = calendarWindow('day', 'Europe/Paris').bounds(Date.UTC(2026, 2, 29, 12));
    expect(start).toBe(Date.UTC(2026, 2, 28, 23));
    expect(end).toBe(Date.UTC(2026, 2, 29, 22));
  });

  test('a New York month starts at local midnight, in EDT or EST', () => {
    expect(calendarWindow('month', 'America/New_York').bounds(Date.UTC(2026, 10, 15))).toEqual([
      Date.UTC(2026, 10, 1, 4),
      Date.UTC(2026, 11, 1, 5),
    ]);
  });
});

const HOUR = 3_600_000;
const DAY = 86_400_000;

/*
 * An oracle for wall clocks, independent of the implementation (which reads offsets by formatting
 * `longOffset`): the wall-clock fields of an instant, taken as UTC. One formatter per zone; `format`
 * and a regular expression, several times faster than `formatToParts` (years 1970-2037 only).
 */
const wallFormats = new Map<string, Intl.DateTimeFormat>();
const WALL = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;
function localTime(t: number, timeZone: string): number {
  let format = wallFormats.get(timeZone);
  if (format === undefined) {
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
    wallFormats.set(timeZone, format);
  }
  const text = format.format(t);
  const f = WALL.exec(text)?.map(Number);
  if (f === undefined) throw new Error(`unexpected wall clock ${text}`);
  const [, month = 0, day = 0, year = 0, hour = 0, minute = 0, second = 0] = f;
  return Date.UTC(year, month - 1, day, hour, minute, second) + (((t % 1000) + 1000) % 1000);
}
const offsetAt = (t: number, timeZone: string): number => localTime(t, timeZone) - t;

/** Where the calendar unit holding a wall time starts (a wall time), computed with `Date`. */
function unitOf(unit: CalendarUnit, wall: number): number {
  const d = new Date(wall);
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  if (unit === 'hour') return Date.UTC(y, m, day, d.getUTCHours());
  if (unit === 'day') return Date.UTC(y, m, day);
  if (unit === 'week') return Date.UTC(y, m, day - ((d.getUTCDay() + 6) % 7));
  return Date.UTC(y, m, 1);
}

/**
 * The instants in a year at which a zone's offset changes, found by sampling every 6 days (no
 * zone has changed twice within a week since 1970) and bisecting to the millisecond. Cached.
 */
const transitionCache = new Map<string, number[]>();
function transitions(timeZone: string, year: number): number[] {
  const id = `${timeZone}@${String(year)}`;
  const cached = transitionCache.get(id);
  if (cached !== undefined) return cached;
  const found: number[] = [];
  const to = Date.UTC(year + 1, 0, 1);
  let t = Date.UTC(year, 0, 1);
  let offset = offsetAt(t, timeZone);
  for (let next = t + 6 * DAY; t < to; t = next, next += 6 * DAY) {
    const after = offsetAt(next, timeZone);
    if (after === offset) continue;
    let [lo, hi] = [t, next];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(mid, timeZone) === offset) lo = mid;
      else hi = mid;
    }
    found.push(hi);
    offset = after;
  }
  transitionCache.set(id, found);
  return found;
}

/** Checks the window holding `now` against the rules of `calendarWindow`, using the oracle. */
function expectLawfulWindow(clock: WindowClock, unit: CalendarUnit, zone: string, now: number): void {
  const [start, end] = clock.bounds(now);
  // Contains now and has a positive length (tiling: see the script parameters below).
  expect(start).toBeLessThanOrEqual(now);
  expect(end).toBeGreaterThan(now);
  const label = (t: number): number => unitOf(unit, localTime(t, zone));
  if (unit === 'hour') {
    // One wall-clock hour at one offset: never longer than an hour, and the hour or the offset
    // changes at both ends.
    expect(end - start).toBeLessThanOrEqual(HOUR);
    expect(offsetAt(end - 1, zone)).toBe(offsetAt(start, zone));
    expect(label(end - 1)).toBe(label(start));
    expect(label(end) !== label(end - 1) || offsetAt(end, zone) !== offsetAt(end - 1, zone)).toBe(true);
    expect(label(start - 1) !== label(start) || offsetAt(start - 1, zone) !== offsetAt(start, zone)).toBe(true);
  } else {
    // Starts at the first instant the clock shows its unit, shows no later unit before its end,
    // and the next unit shows at its end.
    const own = label(start);
    expect(label(start - 1)).toBeLessThan(own);
    expect(label(now)).toBeLessThanOrEqual(own);
    expect(label(end - 1)).toBeLessThanOrEqual(own);
    expect(label(end)).toBeGreaterThan(own);
  }
  // Tiles: the windows before and after abut it; the Redis script gets those boundaries.
  const [mode, b0, b1, b2, b3] = clock.scriptParams(now);
  expect([mode, b1, b2]).toEqual([1, start, end]);
  expect(clock.bounds(b0 as number)).toEqual([b0, start]);
  expect(clock.bounds(end)).toEqual([end, b3]);
}

describe('calendar windows where the offset changes, in every IANA zone', () => {
  const allZones = Intl.supportedValuesOf('timeZone');
  const units: CalendarUnit[] = ['hour', 'day', 'week', 'month'];
  const reach: Record<CalendarUnit, number> = { hour: 3 * HOUR, day: 3 * DAY, week: 15 * DAY, month: 62 * DAY };
  // Bounded: one clock and one one-unit quota per (zone, unit).
  const clocks = new Map<string, { clock: WindowClock; quota: ReturnType<typeof fixedWindow> }>();
  function forZone(zone: string, unit: CalendarUnit): { clock: WindowClock; quota: ReturnType<typeof fixedWindow> } {
    const id = `${zone} ${unit}`;
    let made = clocks.get(id);
    if (made === undefined) {
      made = { clock: calendarWindow(unit, zone), quota: fixedWindow({ limit: 1, calendar: unit, timeZone: zone }) };
      clocks.set(id, made);
    }
    return made;
  }

  test.prop(
    [
      fc.constantFrom(...allZones),
      fc.constantFrom(...units),
      fc.integer({ min: 1970, max: 2037 }),
      fc.nat(),
      fc.oneof(fc.integer({ min: -2_000, max: 2_000 }), fc.double({ min: -1, max: 1, noNaN: true })),
    ],
    { numRuns: 2_000 },
  )(
    'contain the instant, have a positive length, tile, and follow the documented rule around each offset change',
    (zone, unit, year, pick, shift) => {
      const changes = transitions(zone, year);
      // Around one of the year's offset changes (or anywhere in a year without one).
      const around = changes.length > 0 ? (changes[pick % changes.length] as number) : Date.UTC(year, 6, 1);
      const now = Math.round(around + (Number.isInteger(shift) ? shift : shift * reach[unit]));
      const { clock, quota } = forZone(zone, unit);
      expectLawfulWindow(clock, unit, zone, now);
      // A quota of one: the second request waits exactly to the window's end, never 0 or less.
      const [, end] = clock.bounds(now);
      const first = quota.evaluate(undefined, now, 1);
      const second = quota.evaluate(first.next, now, 1);
      expect(second.allowed).toBe(false);
      expect(second.retryAfterMs).toBe(end - now);
      expect(second.resetAt).toBe(end);
      expect(first.ttlMs).toBe(end - now);
    },
  );

  test('every zone and unit, at each of its 2026 offset changes: windows hold the instant and tile', () => {
    const broken: string[] = [];
    for (const zone of allZones) {
      const changes = transitions(zone, 2026);
      const instants = changes.length === 0 ? [Date.UTC(2026, 0, 1)] : changes.flatMap((t) => [t - 1, t]);
      for (const unit of units) {
        const { clock } = forZone(zone, unit);
        for (const now of instants) {
          const [start, end] = clock.bounds(now);
          const lawful =
            start <= now && now < end && clock.bounds(end)[0] === end && clock.bounds(start - 1)[1] === start;
          if (!lawful)
            broken.push(`${zone} ${unit} at ${new Date(now).toISOString()}: [${String(start)}, ${String(end)})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  /** Windows of `unit` in `zone` holding each instant, as ISO strings (readable failures). */
  const windows = (unit: CalendarUnit, zone: string, ...instants: number[]): string[][] => {
    const clock = calendarWindow(unit, zone);
    return instants.map((t) => clock.bounds(t).map((b) => new Date(b).toISOString()));
  };
  const iso = (...utc: Parameters<typeof Date.UTC>): string => new Date(Date.UTC(...utc)).toISOString();

  test('Paris, spring forward: the hour from 01:00 ends at the jump to 03:00 (30 min after 01:30)', () => {
    // 29 March 2026: 02:00 CET (01:00 UTC) becomes 03:00 CEST.
    const at0130 = Date.UTC(2026, 2, 29, 0, 30);
    expect(windows('hour', 'Europe/Paris', at0130, Date.UTC(2026, 2, 29, 1))).toEqual([
      [iso(2026, 2, 29, 0), iso(2026, 2, 29, 1)],
      [iso(2026, 2, 29, 1), iso(2026, 2, 29, 2)],
    ]);
    const quota = fixedWindow({ limit: 1, calendar: 'hour', timeZone: 'Europe/Paris' });
    const denied = quota.evaluate(quota.evaluate(undefined, at0130, 1).next, at0130, 1);
    expect(denied).toMatchObject({ allowed: false, retryAfterMs: 1_800_000, resetAt: Date.UTC(2026, 2, 29, 1) });
  });

  test('London: hours before, at and after the jump from 01:00 GMT to 02:00 BST', () => {
    expect(
      windows(
        'hour',
        'Europe/London',
        Date.UTC(2026, 2, 29, 0, 59, 59, 999),
        Date.UTC(2026, 2, 29, 1),
        Date.UTC(2026, 2, 29, 1, 30),
      ),
    ).toEqual([
      [iso(2026, 2, 29, 0), iso(2026, 2, 29, 1)],
      [iso(2026, 2, 29, 1), iso(2026, 2, 29, 2)],
      [iso(2026, 2, 29, 1), iso(2026, 2, 29, 2)],
    ]);
  });

  test('Paris, fall back: the repeated hour is two windows of an hour; that day lasts 25 hours', () => {
    // 25 October 2026: 03:00 CEST (01:00 UTC) becomes 02:00 CET; 02:00-03:00 is shown twice.
    expect(windows('hour', 'Europe/Paris', Date.UTC(2026, 9, 25, 0, 30), Date.UTC(2026, 9, 25, 1, 30))).toEqual([
      [iso(2026, 9, 25, 0), iso(2026, 9, 25, 1)],
      [iso(2026, 9, 25, 1), iso(2026, 9, 25, 2)],
    ]);
    expect(windows('day', 'Europe/Paris', Date.UTC(2026, 9, 25, 12))).toEqual([
      [iso(2026, 9, 24, 22), iso(2026, 9, 25, 23)],
    ]);
  });

  test('Cairo and Beirut: a skipped midnight starts the day at the jump (23 h); a repeated hour makes it 25 h', () => {
    // Cairo, 24 April 2026: 00:00 EET (22:00 UTC the day before) becomes 01:00 EEST.
    expect(windows('day', 'Africa/Cairo', Date.UTC(2026, 3, 23, 22), Date.UTC(2026, 3, 24, 12))).toEqual([
      [iso(2026, 3, 23, 22), iso(2026, 3, 24, 21)],
      [iso(2026, 3, 23, 22), iso(2026, 3, 24, 21)],
    ]);
    // Cairo, 29 October 2026: 24:00 EEST (21:00 UTC) becomes 23:00 EET, so the 29th lasts 25 h.
    expect(windows('day', 'Africa/Cairo', Date.UTC(2026, 9, 29, 21, 30))).toEqual([
      [iso(2026, 9, 28, 21), iso(2026, 9, 29, 22)],
    ]);
    // Beirut, 29 March 2026: 00:00 EET becomes 01:00 EEST; 25 October: 00:00 EEST becomes 23:00 EET (Saturday again).
    expect(windows('day', 'Asia/Beirut', Date.UTC(2026, 2, 28, 22, 30), Date.UTC(2026, 9, 24, 21, 30))).toEqual([
      [iso(2026, 2, 28, 22), iso(2026, 2, 29, 21)],
      [iso(2026, 9, 23, 21), iso(2026, 9, 24, 22)],
    ]);
  });

  test('Lord Howe: 30-minute shifts make 30-minute hour windows, and a denial always waits', () => {
    // 4 October 2026: 02:00 +10:30 (15:30 UTC on the 3rd) becomes 02:30 +11.
    expect(windows('hour', 'Australia/Lord_Howe', Date.UTC(2026, 9, 3, 15, 29), Date.UTC(2026, 9, 3, 15, 30))).toEqual([
      [iso(2026, 9, 3, 14, 30), iso(2026, 9, 3, 15, 30)],
      [iso(2026, 9, 3, 15, 30), iso(2026, 9, 3, 16)],
    ]);
    // 5 April 2026: 02:00 +11 (15:00 UTC on the 4th) becomes 01:30 +10:30; 01:30-02:00 is shown twice.
    expect(
      windows(
        'hour',
        'Australia/Lord_Howe',
        Date.UTC(2026, 3, 4, 14, 59),
        Date.UTC(2026, 3, 4, 15, 10),
        Date.UTC(2026, 3, 4, 15, 30),
      ),
    ).toEqual([
      [iso(2026, 3, 4, 14), iso(2026, 3, 4, 15)],
      [iso(2026, 3, 4, 15), iso(2026, 3, 4, 15, 30)],
      [iso(2026, 3, 4, 15, 30), iso(2026, 3, 4, 16, 30)],
    ]);
    // Every minute across both days: a one-unit quota's second request waits, to the window's end.
    const quota = fixedWindow({ limit: 1, calendar: 'hour', timeZone: 'Australia/Lord_Howe' });
    for (const day of [Date.UTC(2026, 3, 4), Date.UTC(2026, 9, 3)]) {
      for (let now = day; now < day + DAY; now += 60_000) {
        const denied = quota.evaluate(quota.evaluate(undefined, now, 1).next, now, 1);
        expect(denied.allowed).toBe(false);
        expect(denied.retryAfterMs).toBeGreaterThan(0);
        expect(denied.resetAt).toBeGreaterThan(now);
      }
    }
  });
});

describe('duration windows', () => {
  test.prop([fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 4e12 })])(
    'are epoch-aligned and contain the instant',
    (length, now) => {
      const [start, end] = durationWindow(length).bounds(now);
      expect(start % length).toBe(0);
      expect(end - start).toBe(length);
      expect(start <= now && now < end).toBe(true);
    },
  );
});
