import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { DeadlineQueue } from './deadline-queue.js';

describe('DeadlineQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('serves any number of pending deadlines with one timer', () => {
    const queue = new DeadlineQueue(50);
    const expired: number[] = [];
    for (let i = 0; i < 1_000; i++) queue.add(() => expired.push(i));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(49);
    expect(expired).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(expired).toHaveLength(1_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  test('cancelled deadlines never fire; later ones still do, in order', () => {
    const queue = new DeadlineQueue(100);
    const expired: string[] = [];
    const a = queue.add(() => expired.push('a'));
    vi.advanceTimersByTime(40);
    queue.add(() => expired.push('b'));
    a.cancel();
    vi.advanceTimersByTime(60);
    expect(expired).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(40);
    expect(expired).toEqual(['b']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
