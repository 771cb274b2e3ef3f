import { describe, expect, test } from 'vitest';
import { InvalidOptionError, isInvalidOptionError, isPortcullisError, PortcullisError } from './errors.js';

describe('errors', () => {
  test('carry a stable code and a brand that survives copies of the class', () => {
    const error = new InvalidOptionError('limit', -1, 'an integer >= 1');
    expect(error.code).toBe('ERR_PORTCULLIS_INVALID_OPTION');
    expect(error.name).toBe('InvalidOptionError');
    expect(error.option).toBe('limit');
    expect(error.value).toBe(-1);
    expect(isPortcullisError(error)).toBe(true);
    expect(isInvalidOptionError(error)).toBe(true);
    // A structurally branded object from another copy of the package is recognised too.
    const foreign = { isPortcullisError: true, isInvalidOptionError: true, code: 'ERR_PORTCULLIS_INVALID_OPTION' };
    expect(isInvalidOptionError(foreign)).toBe(true);
  });

  test('brand guards reject everything else', () => {
    for (const value of [new Error('x'), null, undefined, 'ERR', { isPortcullisError: 'true' }, 0]) {
      expect(isPortcullisError(value)).toBe(false);
      expect(isInvalidOptionError(value)).toBe(false);
    }
    expect(isInvalidOptionError(new PortcullisError('ERR_OTHER', 'other'))).toBe(false);
  });

  test('messages name the option and show the value, bounded in length', () => {
    expect(new InvalidOptionError('rate', Number.NaN, 'a ratio').message).toBe(
      'Invalid option "rate": expected a ratio, got NaN',
    );
    expect(new InvalidOptionError('key', 'x'.repeat(500), 'short').message.length).toBeLessThan(140);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(new InvalidOptionError('o', cyclic, 'plain').message).toContain('[object Object]');
    expect(new InvalidOptionError('f', () => 1, 'a number').message).toContain('got a function');
  });
});
