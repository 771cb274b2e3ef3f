import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect, test } from 'vitest';
import { createForwardHandler } from '../http/forward-handler.js';
import { fixedEndpoints } from './fixed-endpoints.js';
import { createForwarder, type ForwarderOptions } from './forwarder.js';

function optionOf(make: () => unknown): string | undefined {
  try {
    make();
  } catch (error) {
    if (isInvalidOptionError(error)) return error.option;
    throw error;
  }
  return undefined;
}

describe('forwarder options', () => {
  test('are validated when the forwarder is made, naming the option', () => {
    const bad: [keyof ForwarderOptions, unknown][] = [
      ['connectTimeoutMs', -1],
      ['headersTimeoutMs', Number.NaN],
      ['bodyTimeoutMs', 'soon'],
      ['keepAliveTimeoutMs', Infinity],
      ['connectionsPerOrigin', 0],
      ['maxOrigins', 1.5],
      ['forwardedHeaders', 'x-real-ip'],
      ['preserveHost', 'yes'],
      ['retryMethods', ['get']],
      ['retry', 3],
      ['clock', {}],
      ['createPool', 'undici'],
      ['connect', 'tls'],
    ];
    for (const [option, value] of bad) {
      expect(
        optionOf(() => createForwarder({ [option]: value })),
        option,
      ).toBe(option);
    }
    expect(optionOf(() => createForwarder({ trustedProxies: ['10.0.0.0/40'] }))).toBe('trustedProxies[0]');
    expect(optionOf(() => createForwarder({ retry: { maxAttempts: 0 } }))).toBe('maxAttempts');
  });

  test('a forward handler validates its own options and its forwarder’s', () => {
    expect(optionOf(() => createForwardHandler({ targets: 7 as never }))).toBe('targets');
    expect(optionOf(() => createForwardHandler({ targets: {}, guard: 'x' as never }))).toBe('guard');
    const endpoints = fixedEndpoints(['http://127.0.0.1:1']);
    expect(optionOf(() => createForwardHandler({ targets: { a: { endpoints } }, forwarder: { maxOrigins: 0 } }))).toBe(
      'maxOrigins',
    );
  });
});
