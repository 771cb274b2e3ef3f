import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { connectionListed, HOP_BY_HOP } from './hop-by-hop.js';

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/);

describe('hop-by-hop headers', () => {
  test.prop([fc.array(fc.oneof(name, fc.constantFrom('close', 'Keep-Alive', 'upgrade', ' ', '')), { maxLength: 6 })], {
    numRuns: 1_000,
  })(
    'Connection lists its options by name, lower-cased, whatever the spacing; close and keep-alive name nothing',
    (parts) => {
      const listed = connectionListed(parts.join(' ,  '));
      const expected = new Set(
        parts
          .map((p) => p.trim().toLowerCase())
          .filter((p) => p !== '' && !['close', 'keep-alive', 'upgrade'].includes(p)),
      );
      expect(new Set(listed ?? [])).toEqual(expected);
    },
  );

  test('the RFC 9110 set, Proxy-* included', () => {
    expect([...HOP_BY_HOP].sort()).toEqual(
      [
        'connection',
        'keep-alive',
        'proxy-authenticate',
        'proxy-authorization',
        'proxy-connection',
        'te',
        'trailer',
        'transfer-encoding',
        'upgrade',
      ].sort(),
    );
    expect(connectionListed(undefined)).toBeUndefined();
    expect(connectionListed('keep-alive')).toBeUndefined();
    expect(connectionListed(['x-a', 'X-B'])).toEqual(new Set(['x-a', 'x-b']));
  });
});
