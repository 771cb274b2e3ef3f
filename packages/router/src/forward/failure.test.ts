import { errors } from 'undici';
import { describe, expect, test } from 'vitest';
import { classifyFailure, failureStatus } from './failure.js';

const code = (c: string): Error => Object.assign(new Error(c), { code: c });

describe('failure classification', () => {
  test('undici timeouts (connect, headers, body) are timeouts, answered 504', () => {
    for (const error of [
      new errors.ConnectTimeoutError(),
      new errors.HeadersTimeoutError(),
      new errors.BodyTimeoutError(),
    ]) {
      expect(classifyFailure(error)).toBe('timeout');
    }
    expect(failureStatus('timeout')).toBe(504);
  });

  test('refusals and resets are answered 502; anything else is other, 502 too', () => {
    for (const c of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND']) expect(classifyFailure(code(c))).toBe('refused');
    expect(classifyFailure(new errors.SocketError('other side closed'))).toBe('reset');
    expect(classifyFailure(code('ECONNRESET'))).toBe('reset');
    expect(classifyFailure(new errors.InvalidArgumentError('invalid header'))).toBe('other');
    expect(classifyFailure('boom')).toBe('other');
    expect(['refused', 'reset', 'other'].map((f) => failureStatus(f as 'refused'))).toEqual([502, 502, 502]);
  });
});
