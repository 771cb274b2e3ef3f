import { once } from 'node:events';
import { createServer } from 'node:http';
import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect, test } from 'vitest';
import { createHealth } from '../health.js';
import { createShutdown, type ShutdownOptions } from './shutdown.js';

describe('a shutdown in process (exit: false)', () => {
  test('start() runs once and resolves with the result; closers cannot be added after it', async () => {
    const server = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const health = createHealth({ checks: [{ name: 'db', check: () => 'pass' }] });
    const shutdown = createShutdown({ health, servers: [server], signals: [], exit: false, drainDelayMs: 0 });
    const order: string[] = [];
    shutdown.addCloser('a', () => order.push('a'));
    const removeB = shutdown.addCloser('b', () => order.push('b'));
    shutdown.addCloser('c', async () => {
      await Promise.resolve();
      order.push('c');
    });
    removeB();
    const phases: string[] = [];
    shutdown.events.on('phase', (e) => phases.push(e.phase));
    const first = shutdown.start('test');
    expect(shutdown.start('again')).toBe(first);
    expect(health.shuttingDown).toBe(true);
    expect(() => shutdown.addCloser('late', () => undefined)).toThrow(/before the shutdown/);
    expect(await first).toEqual({ code: 0, reason: 'test', cutOffRequests: 0, failed: [], timedOut: [] });
    expect(order).toEqual(['c', 'a']);
    expect(phases).toEqual(['draining', 'closing-servers', 'closing', 'done']);
    expect(server.listening).toBe(false);
    expect(shutdown.phase).toBe('done');
  });

  test.each([
    [{ servers: [{}] }, 'servers[0]'],
    [{ signals: ['SIGNOPE'] }, 'signals'],
    [{ drainDelayMs: -1 }, 'drainDelayMs'],
    [{ closeTimeoutMs: 0 }, 'closeTimeoutMs'],
    [{ requestTimeoutMs: Number.NaN }, 'requestTimeoutMs'],
    [{ exit: 'yes' }, 'exit'],
    [{ health: {} }, 'health'],
  ])('bad options are refused, naming the option (%#)', (options, option) => {
    let error: unknown;
    try {
      createShutdown({ signals: [], ...options } as unknown as ShutdownOptions);
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as { option: string }).option).toBe(option);
  });
});
