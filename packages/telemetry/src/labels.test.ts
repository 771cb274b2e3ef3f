import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { methodLabel, statusClass } from './labels.js';

describe('label helpers', () => {
  test.prop([fc.integer({ min: 100, max: 599 })])('a status has its hundreds as its class', (status) => {
    expect(statusClass(status)).toBe(`${String(Math.floor(status / 100))}xx`);
  });

  test.prop([fc.oneof(fc.integer(), fc.double())])('any number maps to one of six values', (status) => {
    expect(['1xx', '2xx', '3xx', '4xx', '5xx', 'other']).toContain(statusClass(status));
  });

  test.prop([fc.string()])('any method maps to a known method or _OTHER: ten values at most', (method) => {
    const known = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'];
    const label = methodLabel(method);
    expect([...known, '_OTHER']).toContain(label);
    expect(label === method).toBe(known.includes(method));
  });
});
