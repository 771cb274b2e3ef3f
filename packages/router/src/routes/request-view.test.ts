import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseHost, normaliseHostByRule } from './request-view.js';

// Hosts as clients send them: mostly normal already, and every character the rule treats apart
// (upper case, port, trailing dot, brackets, spaces, `/`, which sits between `-.` and the digits).
const host = fc
  .array(fc.constantFrom(...'abcxyzAZ0189-./:[] '.split(''), 'api', '.example.com', ':8080', '[::1]'), {
    minLength: 1,
    maxLength: 12,
  })
  .map((parts) => parts.join(''));

describe('normaliseHost', () => {
  it('answers what the full rule answers, for any host header', () => {
    fc.assert(
      fc.property(host, (value) => {
        expect(normaliseHost(value)).toBe(normaliseHostByRule(value));
      }),
      { numRuns: 5_000 },
    );
  });

  it('answers undefined without a host', () => {
    expect(normaliseHost(undefined)).toBeUndefined();
    expect(normaliseHost('')).toBeUndefined();
    expect(normaliseHost('.')).toBeUndefined();
  });
});
