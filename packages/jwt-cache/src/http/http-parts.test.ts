import { fc, test } from '@fast-check/vitest';
import { createGatewayRequest, isInvalidOptionError } from '@portcullis/core';
import { describe, expect } from 'vitest';
import { maxAgeMs } from '../keys/cache-control.js';
import type { VerifiedJwt } from '../verified.js';
import { bearerChallenge } from './challenge.js';
import { arraySeparator, claimAt, encodeHeaderValue, headerValue, UNFORWARDABLE } from './forward.js';
import { tokenReader } from './token-location.js';

const jwt = (payload: Record<string, unknown>): VerifiedJwt => ({
  payload,
  header: { alg: 'ES256' },
  issuer: 'i',
  alg: 'ES256',
  kid: undefined,
  expiresAt: undefined,
});

const request = (headers: Record<string, string>) =>
  createGatewayRequest({ method: 'GET', url: '/', header: (name) => headers[name] });

describe('claim paths', () => {
  test('a claim named with dots is found by its name before being walked', () => {
    const token = jwt({ 'https://x.test/roles': ['a'], org: { id: 'o', 'a.b': 1 } });
    expect(claimAt(token, 'https://x.test/roles')).toEqual(['a']);
    expect(claimAt(token, 'org.id')).toBe('o');
    expect(claimAt(token, ['org', 'a.b'])).toBe(1);
    expect(claimAt(token, 'org.missing')).toBeUndefined();
    expect(claimAt(token, 'constructor')).toBeUndefined();
    expect(claimAt(token, 'org.toString')).toBeUndefined();
  });

  test('values become header text in one encoding: RFC 3986 percent-encoding of UTF-8', () => {
    expect(headerValue('user-42', ',')).toBe('user-42');
    expect(headerValue(' admin ', ',')).toBe('%20admin%20'); // nothing for HTTP to trim
    expect(headerValue('%61dmin', ',')).toBe('%2561dmin'); // never decodes to "admin"
    expect(headerValue('ådmin', ',')).toBe('%C3%A5dmin');
    expect(headerValue("it's (a) *star*!", ',')).toBe('it%27s%20%28a%29%20%2Astar%2A%21');
    expect(headerValue(42, ',')).toBe('42');
    expect(headerValue(10n ** 30n, ',')).toBe('1000000000000000000000000000000');
    expect(headerValue(['a', 1, true, { x: 1 }], ';')).toBe('a;1;true;%7B%22x%22%3A1%7D');
    expect(headerValue(['a,b', 'c'], ',')).toBe('a%2Cb,c'); // an element never holds the separator
    expect(headerValue({ x: 'y' }, ',')).toBe('%7B%22x%22%3A%22y%22%7D');
    expect(headerValue(null, ',')).toBeUndefined();
    expect(headerValue('evil\r\nx-admin: 1', ',')).toBe('evil%0D%0Ax-admin%3A%201');
    expect(headerValue('Zoë', ',')).toBe('Zo%C3%AB');
  });

  test('a string that is not well-formed Unicode cannot travel; an object holding one can, as JSON escapes', () => {
    expect(headerValue('eve\ud800', ',')).toBe(UNFORWARDABLE);
    expect(headerValue('\udc00eve', ',')).toBe(UNFORWARDABLE);
    expect(headerValue(['ok', 'eve\udbff'], ',')).toBe(UNFORWARDABLE);
    expect(headerValue('pair \ud83d\ude00', ',')).toBe('pair%20%F0%9F%98%80');
    expect(headerValue({ sub: 'eve\ud800' }, ',')).toBe('%7B%22sub%22%3A%22eve%5Cud800%22%7D');
  });

  // Strings of any UTF-16 code units (lone surrogates included), and of the characters that
  // matter most here: spaces, %, separators and non-ASCII.
  const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u));
  const tricky = fc.constantFrom(' ', '%', ',', ';', '+', 'å', '\t', '\u00a0', '\ud800', '\udc00', '😀', 'a', '2');
  const anyString = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: codeUnit }), fc.string({ unit: tricky }));
  const wellFormed = (text: string): boolean => {
    try {
      encodeURIComponent(text);
      return true;
    } catch {
      return false;
    }
  };

  test.prop([anyString], { numRuns: 2_000 })(
    'decodeURIComponent gives back exactly the string, sent as unreserved characters and %XX only; or it is refused',
    (claim) => {
      const value = headerValue(claim, ',');
      if (!wellFormed(claim)) {
        expect(value).toBe(UNFORWARDABLE);
        return;
      }
      expect(value).toMatch(/^[A-Za-z0-9\-._~%]*$/);
      expect(decodeURIComponent(value as string)).toBe(claim);
      expect(encodeHeaderValue(claim)).toBe(value);
    },
  );

  test.prop(
    [fc.array(anyString.filter(wellFormed), { minLength: 1, maxLength: 5 }), fc.constantFrom(',', ';', '|', '::', '!')],
    {
      numRuns: 1_000,
    },
  )('an array comes back element by element: split at the separator, then decode', (claim, separator) => {
    const value = headerValue(claim, separator) as string;
    expect(value.split(separator).map((part) => decodeURIComponent(part))).toEqual(claim);
  });

  test('array separators the encoding could leave in an element, or HTTP could trim, are refused', () => {
    for (const ok of [',', ';', '|', '::', '!']) expect(arraySeparator(ok, 'arraySeparator')).toBe(ok);
    for (const bad of ['', ' ', ', ', '-', '.', '_', '~', '%', 'a', 'x,', '\t', 'é', 42]) {
      let error: unknown;
      try {
        arraySeparator(bad, 'arraySeparator');
      } catch (caught) {
        error = caught;
      }
      expect(isInvalidOptionError(error), JSON.stringify(bad)).toBe(true);
    }
  });
});

describe('WWW-Authenticate', () => {
  test('quoted values cannot break out of the header', () => {
    expect(bearerChallenge('r"e\\alm', 'invalid_token', 'bad "token"\r\n', ['a', 'b'])).toBe(
      `Bearer realm="r'e'alm", error="invalid_token", error_description="bad 'token'''", scope="a b"`,
    );
    expect(bearerChallenge(undefined)).toBe('Bearer');
  });
});

describe('token locations', () => {
  test('bearer: case-insensitive scheme, one token68 only', () => {
    const read = tokenReader(['bearer']);
    expect(read(request({ authorization: 'bearer abc.def.ghi' }))).toEqual({ token: 'abc.def.ghi' });
    expect(read(request({ authorization: 'Bearer  abc.def.ghi ' }))).toEqual({ token: 'abc.def.ghi' });
    expect(read(request({}))).toEqual({ missing: true });
    expect(read(request({ authorization: 'Basic abc' }))).toEqual({ missing: true });
    expect(read(request({ authorization: 'Bearer' }))).toHaveProperty('invalid');
    expect(read(request({ authorization: 'Bearer a, Bearer b' }))).toHaveProperty('invalid');
  });

  test('cookies and custom headers, first present wins', () => {
    const read = tokenReader([{ cookie: 'at' }, { header: 'x-token', scheme: 'Token' }]);
    expect(read(request({ cookie: 'a=1; at="abc.def.ghi"' }))).toEqual({ token: 'abc.def.ghi' });
    expect(read(request({ 'x-token': 'Token abc' }))).toEqual({ token: 'abc' });
    expect(read(request({ cookie: 'at=a;b' }))).toEqual({ token: 'a' });
  });
});

describe('Cache-Control', () => {
  test.each<[string | null, number | undefined]>([
    [null, undefined],
    ['max-age=60', 60_000],
    ['public, max-age="30"', 30_000],
    ['s-maxage=10', undefined],
    ['max-age=-1', undefined],
    ['max-age=10, no-store', 0],
    ['no-cache', 0],
  ])('%j → %j ms', (header, expected) => {
    expect(maxAgeMs(header)).toBe(expected);
  });
});
