import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect } from 'vitest';
import { fixedEndpoints } from './fixed-endpoints.js';

const origins = fc
  .uniqueArray(fc.integer({ min: 1, max: 65_535 }), { minLength: 1, maxLength: 8 })
  .map((ports) => ports.map((port) => `http://127.0.0.1:${String(port)}`));

describe('fixed endpoints', () => {
  test.prop([origins, fc.array(fc.nat(), { maxLength: 8 }), fc.nat(20)], { numRuns: 500 })(
    'never hands out an avoided endpoint while another is left, and turns through all of them',
    (list, avoidAt, warmup) => {
      const picker = fixedEndpoints(list);
      for (let i = 0; i < warmup; i++) picker.acquire();
      const ids = list.map((origin) => new URL(origin).host);
      const avoid = new Set(avoidAt.map((i) => ids[i % ids.length]!));
      const lease = picker.acquire(undefined, avoid);
      expect(lease).toBeDefined();
      if (avoid.size < ids.length) expect(avoid.has(lease!.id)).toBe(false);
      const seen = new Set(Array.from({ length: list.length }, () => picker.acquire()!.origin));
      // Origins as URL normalises them (`http://a:80` is `http://a`).
      expect(seen).toEqual(new Set(list.map((origin) => new URL(origin).origin)));
    },
  );

  test('refuses an empty list and origins with a path, query or credentials', () => {
    for (const bad of [[], ['127.0.0.1:80'], ['http://a/b'], ['http://a?x'], ['http://u:p@a'], ['ftp://a'], [7]]) {
      let error: unknown;
      try {
        fixedEndpoints(bad as string[]);
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error), JSON.stringify(bad)).toBe(true);
    }
    expect(fixedEndpoints(['https://api.example:8443/']).acquire()).toMatchObject({
      id: 'api.example:8443',
      origin: 'https://api.example:8443',
    });
  });
});
