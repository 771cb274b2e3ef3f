import { isIPv6 } from 'node:net';
import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect } from 'vitest';
import { ipKey } from './ip-key.js';
import { parseIpv6 } from './ipv6.js';

// Oracles independent of the implementation: addresses as 128-bit BigInts, canonical text from
// the WHATWG URL parser (which serialises IPv6 hosts per RFC 5952).

type Groups = readonly number[];

const toBigInt = (groups: Groups): bigint => groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
const fromBigInt = (value: bigint): number[] =>
  Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
const networkOf = (groups: Groups, prefix: number): bigint => toBigInt(groups) >> BigInt(128 - prefix);
const masked = (groups: Groups, prefix: number): number[] =>
  fromBigInt(networkOf(groups, prefix) << BigInt(128 - prefix));
const full = (groups: Groups): string => groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
const canonical = (groups: Groups): string => new URL(`http://[${full(groups)}]/`).hostname.slice(1, -1);
const isMapped = (groups: Groups): boolean => toBigInt(groups) >> 32n === 0xffffn;

/** The textual forms one address may arrive in. */
const renderings: Record<string, (groups: Groups) => string> = {
  canonical,
  full,
  unpadded: (groups) => groups.map((g) => g.toString(16)).join(':'),
  upperCase: (groups) => canonical(groups).toUpperCase(),
  withZone: (groups) => `${canonical(groups)}%eth0`,
  ipv4Tail: (groups) => {
    const [hi = 0, lo = 0] = groups.slice(6);
    const head = groups.slice(0, 6).map((g) => g.toString(16));
    return `${head.join(':')}:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  },
};
const rendering = fc.constantFrom(...Object.keys(renderings));
const render = (groups: Groups, form: string): string => (renderings[form] as (g: Groups) => string)(groups);

// Plenty of zero groups, so `::` runs of every length and position come up.
const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const address = fc.array(group, { minLength: 8, maxLength: 8 });
const prefix = fc.integer({ min: 1, max: 128 });

/** The first `bits` bits of `a`, the rest of `b`. */
function splice(a: Groups, b: Groups, bits: number): number[] {
  const low = (1n << BigInt(128 - bits)) - 1n;
  return fromBigInt((toBigInt(a) & ~low & ((1n << 128n) - 1n)) | (toBigInt(b) & low));
}

describe('ipKey: IPv6 grouped by prefix', () => {
  test.prop([address, address, prefix, rendering, rendering])(
    'addresses in the same /prefix have the same key, whatever their textual form',
    (a, b, bits, formA, formB) => {
      const sibling = splice(a, b, bits);
      fc.pre(!isMapped(a) && !isMapped(sibling));
      expect(ipKey(render(sibling, formB), bits)).toBe(ipKey(render(a, formA), bits));
    },
  );

  test.prop([address, address, prefix, rendering])(
    'addresses in different /prefix networks have different keys',
    (a, b, bits, form) => {
      fc.pre(!isMapped(a) && !isMapped(b) && networkOf(a, bits) !== networkOf(b, bits));
      expect(ipKey(render(a, form), bits)).not.toBe(ipKey(render(b, form), bits));
    },
  );

  test.prop([address, prefix, rendering])('the key is the canonical network and its length', (a, bits, form) => {
    fc.pre(!isMapped(a));
    expect(ipKey(render(a, form), bits)).toBe(`${canonical(masked(a, bits))}/${String(bits)}`);
  });

  test.prop([fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), prefix, rendering])(
    'an IPv4-mapped address is keyed as its IPv4 address',
    (octets, bits, form) => {
      const [a = 0, b = 0, c = 0, d = 0] = octets;
      const mapped = [0, 0, 0, 0, 0, 0xffff, (a << 8) | b, (c << 8) | d];
      expect(ipKey(render(mapped, form), bits)).toBe(octets.join('.'));
    },
  );

  // Valid addresses with one character deleted, doubled or inserted sit right on the boundary.
  const nearlyAddress = fc
    .record({
      groups: address,
      form: rendering,
      at: fc.nat(),
      edit: fc.constantFrom('delete', 'double', ':', '.', '0'),
    })
    .map(({ groups, form, at, edit }) => {
      const text = render(groups, form).replace(/%.*$/, '');
      const i = at % (text.length + 1);
      if (edit === 'delete') return text.slice(0, i) + text.slice(i + 1);
      if (edit === 'double') return text.slice(0, i) + text.slice(i, i + 1) + text.slice(i);
      return text.slice(0, i) + edit + text.slice(i);
    });

  test.prop([fc.oneof(nearlyAddress, fc.stringMatching(/^[0-9a-fA-F:.]{0,45}$/))], { numRuns: 2_000 })(
    'parses exactly what Node accepts as IPv6',
    (text) => {
      expect(parseIpv6(text) !== undefined).toBe(isIPv6(text));
    },
  );

  test('defaults to /56', () => {
    expect(ipKey('2001:db8:0:1ff:a:b:c:d')).toBe('2001:db8:0:100::/56');
    expect(ipKey('2001:db8:0:1ff:a:b:c:d', 64)).toBe('2001:db8:0:1ff::/64');
    expect(ipKey('2001:db8:0:1ff:a:b:c:d', 128)).toBe('2001:db8:0:1ff:a:b:c:d/128');
  });

  test('handles ::, loopback and zone ids', () => {
    expect(ipKey('::')).toBe('::/56');
    expect(ipKey('::1', 128)).toBe('::1/128');
    expect(ipKey('fe80::1%eth0', 64)).toBe('fe80::/64');
    expect(ipKey('fe80::2%25', 64)).toBe(ipKey('fe80::1', 64));
    expect(ipKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(ipKey('::FFFF:7f00:1')).toBe('127.0.0.1');
  });
});

describe('ipKey: other input', () => {
  test.prop([fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 })])(
    'an IPv4 address is its own key',
    (octets) => {
      expect(ipKey(octets.join('.'))).toBe(octets.join('.'));
    },
  );

  test('no address is no key', () => {
    expect(ipKey(undefined)).toBeUndefined();
    expect(ipKey('')).toBeUndefined();
  });

  test.each(['unix:/tmp/socket', '1::2::3', ':::', '12345::', 'g::', '::1%', '01.2.3.4', '1.2.3.4::'])(
    'text that is no address (%s) is used as it is',
    (text) => {
      expect(ipKey(text)).toBe(text);
    },
  );

  test.each([0, 129, 56.5, Number.NaN])('rejects ipv6Prefix %s, naming the option', (bits) => {
    expect(() => ipKey('::1', bits)).toThrow(expect.objectContaining({ option: 'ipv6Prefix' }));
    try {
      ipKey('::1', bits);
    } catch (error) {
      expect(isInvalidOptionError(error)).toBe(true);
    }
  });
});
