import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { calendarWindow, durationWindow, type CalendarUnit } from './window-clock.js';

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
