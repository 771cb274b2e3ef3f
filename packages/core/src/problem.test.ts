import { describe, expect, test } from 'vitest';
import { problemDetails } from './problem.js';

describe('problemDetails', () => {
  test('about:blank with the status phrase as title, then the extensions', () => {
    expect(problemDetails(429, 'Slow down', { limitedBy: 'perMinute' })).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Slow down',
      limitedBy: 'perMinute',
    });
    expect(problemDetails(418, 'odd')).toEqual({ type: 'about:blank', title: 'Error', status: 418, detail: 'odd' });
  });

  test('the standard members come first in the JSON', () => {
    expect(JSON.stringify(problemDetails(429, 'x', { limitedBy: 'a' }))).toBe(
      '{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"x","limitedBy":"a"}',
    );
  });

  test('extensions cannot replace the standard members', () => {
    const body = problemDetails(503, 'down', { status: 200, type: 'https://evil.example', title: 'OK', extra: 1 });
    expect(body).toMatchObject({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'down',
      extra: 1,
    });
  });
});
