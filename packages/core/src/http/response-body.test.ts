import { describe, expect, test } from 'vitest';
import { respond } from '../verdict.js';
import { serializeBody } from './response-body.js';

describe('serializeBody', () => {
  test('sends a string as UTF-8 text', () => {
    expect(serializeBody(respond(403, 'nope'))).toEqual({ body: 'nope', contentType: 'text/plain; charset=utf-8' });
  });

  test('sends bytes as they are', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(serializeBody(respond(200, bytes))).toEqual({ body: bytes, contentType: 'application/octet-stream' });
  });

  test('sends anything else as JSON, null included', () => {
    expect(serializeBody(respond(429, { retry: 3 }))).toEqual({ body: '{"retry":3}', contentType: 'application/json' });
    expect(serializeBody(respond(200, null))).toEqual({ body: 'null', contentType: 'application/json' });
  });

  test("leaves the content type to the verdict's headers when they set one", () => {
    const verdict = respond(429, { title: 'Too Many Requests' }, { 'Content-Type': 'application/problem+json' });
    expect(serializeBody(verdict)).toEqual({ body: '{"title":"Too Many Requests"}', contentType: undefined });
  });

  test('sends no body for undefined, or for a status that forbids one', () => {
    expect(serializeBody(respond(401))).toEqual({ body: undefined, contentType: undefined });
    for (const status of [204, 205, 304]) {
      expect(serializeBody(respond(status, { ignored: true }))).toEqual({ body: undefined, contentType: undefined });
    }
  });

  test('throws a TypeError for a body JSON cannot represent', () => {
    expect(() => serializeBody(respond(200, () => 1))).toThrow(TypeError);
    expect(() => serializeBody(respond(200, { n: 1n }))).toThrow(TypeError);
  });
});
