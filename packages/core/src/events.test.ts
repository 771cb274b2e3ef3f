import { afterEach, describe, expect, test, vi } from 'vitest';
import { Emitter } from './events.js';

type Events = { hit: { n: number }; miss: string };

describe('Emitter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test('delivers typed events to listeners in registration order, until removed', () => {
    const events = new Emitter<Events>();
    const seen: string[] = [];
    const offA = events.on('hit', (e) => seen.push(`a${String(e.n)}`));
    events.on('hit', (e) => seen.push(`b${String(e.n)}`));
    events.emit('hit', { n: 1 });
    offA();
    events.emit('hit', { n: 2 });
    events.emit('miss', 'nobody listens');
    expect(seen).toEqual(['a1', 'b1', 'b2']);
    expect(events.has('hit')).toBe(true);
    expect(events.has('miss')).toBe(false);
  });

  test('once fires a single time', () => {
    const events = new Emitter<Events>();
    const seen: string[] = [];
    events.once('miss', (s) => seen.push(s));
    events.emit('miss', 'x');
    events.emit('miss', 'y');
    expect(seen).toEqual(['x']);
    expect(events.has('miss')).toBe(false);
  });

  test('a throwing listener is reported and does not stop the others', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const events = new Emitter<Events>();
    const seen: number[] = [];
    events.on('hit', () => {
      throw new Error('listener bug');
    });
    events.on('hit', (e) => seen.push(e.n));
    expect(() => {
      events.emit('hit', { n: 7 });
    }).not.toThrow();
    expect(seen).toEqual([7]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect((warn.mock.calls[0]?.[0] as Error).message).toBe('listener bug');
  });

  test('a listener removed during emit still completes the current round, not the next', () => {
    const events = new Emitter<Events>();
    const seen: string[] = [];
    const offB = events.on('miss', () => seen.push('b'));
    events.on('miss', () => {
      seen.push('c');
      offB();
    });
    events.emit('miss', '1');
    events.emit('miss', '2');
    expect(seen).toEqual(['b', 'c', 'c']);
  });
});
