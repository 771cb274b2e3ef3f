import { createGatewayRequest, isInvalidOptionError } from '@portcullis/core';
import { describe, expect, test } from 'vitest';
import { bearerToken, fromNetworks } from './admit.js';

const request = (headers: Record<string, string>, ip?: string) =>
  createGatewayRequest({ method: 'GET', url: '/health', header: (name) => headers[name], ip });

describe('admission predicates', () => {
  test('bearerToken admits exactly "Bearer <token>"', () => {
    const admits = bearerToken('0123456789abcdef');
    expect(admits(request({ authorization: 'Bearer 0123456789abcdef' }))).toBe(true);
    expect(admits(request({ authorization: 'Bearer 0123456789abcdeF' }))).toBe(false);
    expect(admits(request({ authorization: 'bearer 0123456789abcdef' }))).toBe(false);
    expect(admits(request({ authorization: 'Bearer 0123456789abcdef, Bearer 0123456789abcdef' }))).toBe(false);
    expect(admits(request({ authorization: `Bearer ${'x'.repeat(10_000)}` }))).toBe(false);
    expect(admits(request({}))).toBe(false);
  });

  test('bearerToken refuses short secrets without echoing them', () => {
    let error: unknown;
    try {
      bearerToken('short');
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as Error).message).not.toContain('short"');
  });

  test('fromNetworks admits addresses and ranges, IPv4-mapped IPv6 as IPv4', () => {
    const admits = fromNetworks(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    expect(admits(request({}, '127.0.0.1'))).toBe(true);
    expect(admits(request({}, '::ffff:127.0.0.1'))).toBe(true);
    expect(admits(request({}, '10.200.3.4'))).toBe(true);
    expect(admits(request({}, 'fd12::1'))).toBe(true);
    expect(admits(request({}, '11.0.0.1'))).toBe(false);
    expect(admits(request({}, '::1'))).toBe(false);
    expect(admits(request({}, 'not an ip'))).toBe(false);
    expect(admits(request({}))).toBe(false);
  });

  test.each(['10.0.0.0/33', '10.0.0.0/', 'example.com', '10.0.0.0/8/8', '::/129', ''])(
    'fromNetworks refuses %j',
    (network) => {
      expect(() => fromNetworks([network])).toThrow(/networks\[0\]/);
    },
  );
});
