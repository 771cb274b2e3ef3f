import { createGatewayRequest } from '@portcullis/core';
import { describe, expect, test } from 'vitest';
import { maxAgeMs } from '../keys/cache-control.js';
import type { VerifiedJwt } from '../verified.js';
import { bearerChallenge } from './challenge.js';
import { claimAt, headerValue } from './forward.js';
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

  test('values become header text', () => {
    expect(headerValue('a b', ',')).toBe('a b');
    expect(headerValue(42, ',')).toBe('42');
    expect(headerValue(['a', 1, true, { x: 1 }], ';')).toBe('a;1;true;{"x":1}');
    expect(headerValue({ x: 'y' }, ',')).toBe('{"x":"y"}');
    expect(headerValue(null, ',')).toBeUndefined();
    expect(headerValue('evil\r\nx-admin: 1', ',')).toBe('evil%0D%0Ax-admin%3A%201');
    expect(headerValue('Zoë', ',')).toBe('Zo%C3%AB');
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
