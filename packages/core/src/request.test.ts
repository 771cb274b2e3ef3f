import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createGatewayRequest, lowerCaseHeader, withContext } from './request.js';

const noHeaders = (): undefined => undefined;

describe('createGatewayRequest', () => {
  test('splits path and query and upper-cases the method', () => {
    const req = createGatewayRequest({ method: 'post', url: '/a/b?x=1&x=2&y=%20z#frag', header: noHeaders });
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/a/b');
    expect(req.query.getAll('x')).toEqual(['1', '2']);
    expect(req.query.get('y')).toBe(' z');
  });

  test('accepts absolute-form URLs', () => {
    expect(createGatewayRequest({ method: 'GET', url: 'http://h:8080/p?q=1', header: noHeaders }).path).toBe('/p');
    expect(createGatewayRequest({ method: 'GET', url: 'https://h', header: noHeaders }).path).toBe('/');
    expect(createGatewayRequest({ method: 'GET', url: '?a=1', header: noHeaders }).path).toBe('/');
  });

  test('looks headers up case-insensitively', () => {
    const headers = new Headers({ 'X-Api-Key': 'k' });
    const req = createGatewayRequest({ method: 'GET', url: '/', header: (n) => headers.get(n) ?? undefined });
    expect(req.header('X-API-KEY')).toBe('k');
    expect(req.header('missing')).toBeUndefined();
  });

  test.prop([fc.array(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), { minLength: 300, maxLength: 400 })], {
    numRuns: 20,
  })('any number of distinct names, in any case, reaches the lookup lower-cased', (names) => {
    const asked: string[] = [];
    const req = createGatewayRequest({ method: 'GET', url: '/', header: (n) => (asked.push(n), undefined) });
    for (const name of names) req.header(name);
    for (const name of names) req.header(name); // the second time from the remembered names, or not
    expect(asked).toEqual([...names, ...names].map((n) => n.toLowerCase()));
  });

  test.prop([fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 40 })], { numRuns: 300 })(
    'any name, of any characters, reaches the lookup as toLowerCase() gives it',
    (names) => {
      const asked: string[] = [];
      const req = createGatewayRequest({ method: 'GET', url: '/', header: (n) => (asked.push(n), undefined) });
      for (const name of names) req.header(name);
      expect(asked).toEqual(names.map((n) => n.toLowerCase()));
    },
  );

  test.prop([fc.webPath(), fc.webQueryParameters()])(
    'path never contains the query, and the query round-trips',
    (path, query) => {
      const url = query === '' ? path : `${path}?${query}`;
      const req = createGatewayRequest({ method: 'GET', url, header: noHeaders });
      expect(req.path.includes('?')).toBe(false);
      expect(req.path).toBe(path === '' ? '/' : path);
      expect(req.query.toString()).toBe(new URLSearchParams(query).toString());
    },
  );

  test('withContext reads the signal through, on access: an adapter builds it only when asked', () => {
    let built = 0;
    const controller = new AbortController();
    const base = createGatewayRequest({ method: 'GET', url: '/', header: noHeaders });
    const lazy = Object.defineProperty(Object.create(base) as typeof base, 'signal', {
      get: () => (built++, controller.signal),
    });
    const next = withContext(lazy, { user: 'ada' });
    expect(built).toBe(0);
    expect(next.signal).toBe(controller.signal);
    expect(built).toBe(1);
  });

  test('withContext changes only the context', () => {
    const req = createGatewayRequest({ method: 'GET', url: '/x?a=1', header: (n) => n, ip: '::1' });
    const next = withContext(req, { user: 'ada' });
    expect(next.context).toEqual({ user: 'ada' });
    expect(req.context).toEqual({});
    expect([next.method, next.path, next.query.get('a'), next.header('h'), next.ip]).toEqual([
      'GET',
      '/x',
      '1',
      'h',
      '::1',
    ]);
  });

  describe('lowerCaseHeader', () => {
    const headerMaps = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), fc.string({ maxLength: 8 }), {
      maxKeys: 8,
    });

    test.prop([headerMaps, fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), { maxLength: 8 })], { numRuns: 300 })(
      'answers what header() answers, on a built request and on every withContext copy of it',
      (headers, extra) => {
        const asked: string[] = [];
        const lookup = (n: string): string | undefined => (asked.push(n), headers[n]);
        const req = createGatewayRequest({ method: 'GET', url: '/', header: lookup });
        const copies = [req, withContext(req, { a: 1 }), withContext(withContext(req, { a: 1 }), { b: 2 })];
        for (const name of [...Object.keys(headers), ...extra]) {
          for (const copy of copies) {
            asked.length = 0;
            const value = lowerCaseHeader(copy, name);
            expect(value).toBe(copy.header(name.toUpperCase()));
            expect(value).toBe(Object.hasOwn(headers, name) ? headers[name] : undefined);
            // One lookup for each read, by the name as given (no second lookup, no other spelling).
            expect(asked).toEqual([name, name]);
          }
        }
      },
    );

    test('a copy with its own header (spread, or a plain object) is read through that header', () => {
      const req = createGatewayRequest({ method: 'GET', url: '/', header: () => 'base' });
      const spread = { ...req, header: (n: string) => `own ${n}` };
      expect(lowerCaseHeader(spread, 'x-a')).toBe('own x-a');
      expect(lowerCaseHeader(withContext(spread, {}), 'x-a')).toBe('own x-a');
      expect(lowerCaseHeader({ header: (n) => `plain ${n}` }, 'x-b')).toBe('plain x-b');
    });
  });
});
