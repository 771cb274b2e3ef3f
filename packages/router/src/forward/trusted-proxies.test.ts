import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect } from 'vitest';
import { trustCheck } from './trusted-proxies.js';

const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const dotted = (o: readonly number[]) => o.join('.');
const toInt = (o: readonly number[]) => o.reduce((n, x) => n * 256 + x, 0);

describe('trusted proxies', () => {
  test.prop([octets, octets, fc.integer({ min: 0, max: 32 })], { numRuns: 2_000 })(
    'trusts an IPv4 address exactly when it lies in a listed range, whether or not it comes ::ffff:-mapped',
    (network, address, bits) => {
      const check = trustCheck([`${dotted(network)}/${String(bits)}`]);
      const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
      const inside = (toInt(network) & mask) >>> 0 === (toInt(address) & mask) >>> 0;
      expect(check(dotted(address))).toBe(inside);
      expect(check(`::ffff:${dotted(address)}`)).toBe(inside);
    },
  );

  test('understands IPv6 ranges, single addresses and the named shortcuts', () => {
    const check = trustCheck(['2001:db8::/32', '192.0.2.7', 'loopback']);
    expect(check('2001:db8:1::5')).toBe(true);
    expect(check('2001:db9::1')).toBe(false);
    expect(check('192.0.2.7')).toBe(true);
    expect(check('192.0.2.8')).toBe(false);
    expect(check('127.8.9.10')).toBe(true);
    expect(check('::1')).toBe(true);
    expect(check(undefined)).toBe(false);
    expect(check('not an ip')).toBe(false);
    const privateNets = trustCheck(['uniquelocal']);
    expect(['10.1.2.3', '172.31.0.1', '192.168.9.9', 'fd00::1'].map(privateNets)).toEqual([true, true, true, true]);
    expect(privateNets('172.32.0.1')).toBe(false);
  });

  test('nobody is trusted by default; a predicate sees unmapped addresses', () => {
    expect(trustCheck(undefined)('127.0.0.1')).toBe(false);
    const seen: string[] = [];
    const check = trustCheck((ip) => {
      seen.push(ip);
      return ip === '10.0.0.1';
    });
    expect(check('::ffff:10.0.0.1')).toBe(true);
    expect(seen).toEqual(['10.0.0.1']);
  });

  test('refuses what is not an address, range or shortcut, naming the entry', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/x', 'localhost', '::1/129', '1.2.3.4/08x']) {
      try {
        trustCheck(['127.0.0.1', bad]);
        expect.unreachable(bad);
      } catch (error) {
        expect(isInvalidOptionError(error), bad).toBe(true);
        expect((error as { option: string }).option).toBe('trustedProxies[1]');
      }
    }
    expect(() => trustCheck('10.0.0.0/8' as never)).toThrow(/trustedProxies/);
  });
});
