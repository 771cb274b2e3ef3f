import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect } from 'vitest';
import { compileRewrite } from './rewrite.js';

const segment = fc.stringMatching(/^[a-z0-9._~-]{1,6}$/).filter((s) => s !== '.' && s !== '..');
const path = fc
  .array(segment, { maxLength: 5 })
  .chain((segments) =>
    fc.boolean().map((slash) => (segments.length === 0 ? '/' : `/${segments.join('/')}${slash ? '/' : ''}`)),
  );
const prefix = fc.array(segment, { minLength: 1, maxLength: 3 }).map((segments) => `/${segments.join('/')}`);

describe('path rewrite', () => {
  test.prop([prefix, path, fc.option(prefix, { nil: undefined })], { numRuns: 1_000 })(
    'strips the prefix only at a segment boundary, and adds one in its place',
    (strip, rest, add) => {
      const { rewrite } = compileRewrite({ stripPrefix: strip, addPrefix: add }, 'rewrite');
      const below = rest === '/' ? strip : strip + rest;
      expect(rewrite(below, {})).toBe((add ?? '') + (rest === '/' ? '' : rest) || '/');
      expect(rewrite(`${strip}/`, {})).toBe(`${add ?? ''}/`);
      // `/api` does not strip `/apix`.
      expect(rewrite(`${strip}x${rest}`, {})).toBe(`${add ?? ''}${strip}x${rest}`);
      expect(rewrite(below, {}).startsWith('/')).toBe(true);
    },
  );

  // Params as the router gives them: decoded, valid Unicode; a wildcard's rest has real separators.
  const value = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 });
  const restSegment = value.filter((s) => !s.includes('/'));
  test.prop([value, fc.array(restSegment, { minLength: 1, maxLength: 4 })], { numRuns: 1_000 })(
    'fills a template so that each param reads back exactly, and no param adds a segment',
    (id, rest) => {
      const { rewrite, params } = compileRewrite({ template: '/v2/items/:id/files/*' }, 'rewrite');
      expect(params).toEqual(['id', '*']);
      const out = rewrite('/ignored', { id, '*': rest.join('/') });
      const parts = out.split('/');
      expect(parts.slice(0, 3)).toEqual(['', 'v2', 'items']);
      expect(decodeURIComponent(parts[3]!)).toBe(id);
      expect(parts[4]).toBe('files');
      expect(parts.slice(5).map(decodeURIComponent)).toEqual(rest);
      expect(out).not.toMatch(/[?#\s]/);
    },
  );

  test('refuses bad rewrites when built, naming the option', () => {
    for (const bad of [
      { stripPrefix: 'api' },
      { stripPrefix: '/a?b' },
      { template: 'x' },
      { template: '/a/*/b' },
      { template: '/a/:1x' },
      { template: '/a', stripPrefix: '/b' },
      null,
    ]) {
      let error: unknown;
      try {
        compileRewrite(bad as never, 'targets.api.rewrite');
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error), JSON.stringify(bad)).toBe(true);
      expect((error as { option: string }).option).toMatch(/^targets\.api\.rewrite/);
    }
  });

  test('a param named like an Object property reads as absent', () => {
    expect(compileRewrite({ template: '/x/:constructor' }, 'r').rewrite('/', {})).toBe('/x/');
  });
});
