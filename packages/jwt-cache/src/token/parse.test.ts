import { describe, expect, test } from 'vitest';
import { isJwtVerificationError } from '../errors.js';
import { HeaderMemo } from './header-memo.js';
import { parseToken } from './parse.js';

const b64 = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64url');
const json = (value: unknown): string => b64(JSON.stringify(value));
const HEADER = json({ alg: 'ES256', kid: 'k' });
const PAYLOAD = json({ iss: 'https://idp.test/', sub: 'u' });
const SIGNATURE = b64('signature');

/** The reason a parse was refused with, or `undefined` when it was not. */
function refusal(token: string, headers = new HeaderMemo('reject'), maxBytes = 8_192): string | undefined {
  try {
    parseToken(token, maxBytes, headers);
    return undefined;
  } catch (error) {
    expect(isJwtVerificationError(error), String(error)).toBe(true);
    return (error as { reason: string }).reason;
  }
}

/** A JSON object's text with `bytes` spliced into a string member, as raw bytes. */
function withBytes(bytes: number[]): Buffer {
  return Buffer.concat([Buffer.from('{"alg":"ES256","x":"'), Buffer.from(bytes), Buffer.from('"}')]);
}

describe('parseToken', () => {
  test.each([
    ['a lone continuation byte', [0x80]],
    ['0xFF', [0xff]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['a surrogate half', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('refuses %s in the header or the payload as malformed, never repairs it', (_name, bytes) => {
    expect(refusal(`${b64(withBytes(bytes))}.${PAYLOAD}.${SIGNATURE}`)).toBe('malformed');
    expect(refusal(`${HEADER}.${b64(withBytes(bytes))}.${SIGNATURE}`)).toBe('malformed');
  });

  test('keeps a U+FFFD that was sent as such', () => {
    const parsed = parseToken(`${HEADER}.${json({ name: 'a\uFFFDb' })}.${SIGNATURE}`, 8_192, new HeaderMemo('reject'));
    expect(parsed.payload).toEqual({ name: 'a\uFFFDb' });
  });

  test('decodes segments longer than its reusable buffer the same way', () => {
    const long = { iss: 'https://idp.test/', pad: 'é'.repeat(20_000) };
    const parsed = parseToken(`${HEADER}.${json(long)}.${SIGNATURE}`, 100_000, new HeaderMemo('reject'));
    expect(parsed.payload).toEqual(long);
  });

  test('hands jose the very segments it decoded', () => {
    const parsed = parseToken(`${HEADER}.${PAYLOAD}.${SIGNATURE}`, 8_192, new HeaderMemo('reject'));
    expect(parsed.jws).toEqual({ protected: HEADER, payload: PAYLOAD, signature: SIGNATURE });
  });
});

describe('header memo', () => {
  test('a header read before is shared, deeply frozen, by every token that carries it', () => {
    const headers = new HeaderMemo('reject');
    const crit = json({ alg: 'ES256', crit: ['urn:x'], 'urn:x': { deep: true } });
    const first = parseToken(`${crit}.${PAYLOAD}.${SIGNATURE}`, 8_192, headers);
    const second = parseToken(`${crit}.${json({ other: 1 })}.${SIGNATURE}`, 8_192, headers);
    expect(second.header).toBe(first.header);
    expect(Object.isFrozen(first.header)).toBe(true);
    expect(Object.isFrozen(first.header['crit'])).toBe(true);
    expect(Object.isFrozen(first.header['urn:x'])).toBe(true);
    expect(second.crit).toEqual(['urn:x']);
  });

  test('a refused header is not remembered: it is refused every time', () => {
    const headers = new HeaderMemo('reject');
    const withJwk = json({ alg: 'ES256', jwk: { kty: 'EC' } });
    for (let i = 0; i < 3; i++) expect(refusal(`${withJwk}.${PAYLOAD}.${SIGNATURE}`, headers)).toBe('forbidden_header');
    expect(headers.size).toBe(0);
    // The policy is the memo's own: another verifier's memo may ignore such headers.
    expect(refusal(`${withJwk}.${PAYLOAD}.${SIGNATURE}`, new HeaderMemo('ignore'))).toBeUndefined();
  });

  test('holds a bounded number of headers, and long ones not at all', () => {
    const headers = new HeaderMemo('reject');
    for (let i = 0; i < 1_000; i++)
      parseToken(`${json({ alg: 'ES256', kid: `k-${i}` })}.${PAYLOAD}.${SIGNATURE}`, 8_192, headers);
    expect(headers.size).toBe(64);
    const long = new HeaderMemo('reject');
    parseToken(`${json({ alg: 'ES256', kid: 'k'.repeat(2_000) })}.${PAYLOAD}.${SIGNATURE}`, 8_192, long);
    expect(long.size).toBe(0);
  });
});
