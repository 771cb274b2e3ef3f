import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { canonicalPath, canonicalPathByRule } from './canonical-path.js';
import { isInvalidPathError } from './errors.js';
import { createRouteTable } from './table.js';

function tryCanonical(raw: string): string | undefined {
  try {
    return canonicalPath(raw);
  } catch (error) {
    if (isInvalidPathError(error)) return undefined;
    throw error;
  }
}

const request = (path: string) => ({ method: 'GET', path, query: new URLSearchParams(), header: () => undefined });

// Characters chosen to hit every rule: separators, dots, escapes (valid, malformed, of unreserved,
// of "/" "\" NUL), sub-delims, non-ASCII, a lone surrogate.
const hostileChar = fc.constantFrom(
  '/',
  '/',
  '.',
  '..',
  'a',
  'B',
  '~',
  '%',
  '%2',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%00',
  '%41',
  '%7e',
  '%25',
  '%20',
  '%c3%a9',
  '%zz',
  '\\',
  ' ',
  ':',
  '@',
  ';',
  '=',
  'é',
  '\uD800',
  '?',
  '#',
  '\u0001',
);
const hostilePath = fc.array(hostileChar, { maxLength: 24 }).map((parts) => `/${parts.join('')}`);

describe('canonical path', () => {
  test.each([
    ['/a//b/./c', '/a/b/c'],
    ['/a/b/../c', '/a/c'],
    ['/a/%2e%2E/c', '/c'],
    ['/%7Euser/%41', '/~user/A'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a b', '/a%20b'],
    ['/a/', '/a/'],
    ['//', '/'],
    ['/', '/'],
    ['/x/%25', '/x/%25'],
  ])('%s → %s', (raw, canonical) => {
    expect(canonicalPath(raw)).toBe(canonical);
  });

  test.each([
    ['/public/..%2Finternal', 'encoded "/"'],
    ['/a%5cb', 'encoded "/" or "\\"'],
    ['/a%00', 'control'],
    ['/a\\b', '"\\"'],
    ['/a%zz', 'two hex'],
    ['/a%2', 'two hex'],
    ['/..', 'above the root'],
    ['/a/../..', 'above the root'],
    ['a', 'start with'],
    ['/\uD800', 'not valid Unicode'],
  ])('rejects %s (%s)', (raw, reason) => {
    let thrown: unknown;
    try {
      canonicalPath(raw);
    } catch (error) {
      thrown = error;
    }
    expect(isInvalidPathError(thrown)).toBe(true);
    expect((thrown as Error).message).toContain(reason);
  });

  // The shortcut for paths that are canonical already must give what the full rule gives (or
  // refuse alike), on hostile paths and on plain ones (the shortcut's own territory).
  const outcome = (canonicalise: (raw: string) => string, raw: string): string => {
    try {
      return canonicalise(raw);
    } catch (error) {
      return isInvalidPathError(error) ? 'refused' : 'threw';
    }
  };
  const plainChar = fc.constantFrom(
    '/',
    '/',
    '.',
    'a',
    'B',
    '9',
    '-',
    '_',
    '~',
    '!',
    '$',
    '&',
    "'",
    '(',
    '*',
    '+',
    ',',
    ';',
    '=',
    ':',
    '@',
  );
  const plainPath = fc.array(plainChar, { maxLength: 24 }).map((parts) => `/${parts.join('')}`);
  test.prop([fc.oneof(hostilePath, plainPath)], { numRuns: 3_000 })(
    'its shortcut for canonical paths agrees with the full rule',
    (raw) => {
      expect(outcome(canonicalPath, raw)).toBe(outcome(canonicalPathByRule, raw));
    },
  );

  test.prop([hostilePath], { numRuns: 2_000 })('is idempotent', (raw) => {
    const once = tryCanonical(raw);
    if (once !== undefined) expect(canonicalPath(once)).toBe(once);
  });

  test.prop([hostilePath], { numRuns: 2_000 })(
    'leaves nothing an upstream could read as another segment structure: no dot segment, no "/" or "\\" once decoded',
    (raw) => {
      const canonical = tryCanonical(raw);
      if (canonical === undefined) return;
      // A lenient upstream decodes every escape of every segment, byte by byte (an escape that is not
      // UTF-8 on its own, like %AA, decodes to its byte), and treats "\" as "/".
      for (const segment of canonical.split('/').slice(1)) {
        const decoded = segment.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) =>
          String.fromCharCode(Number.parseInt(hex, 16)),
        );
        expect(decoded).not.toMatch(/[/\\\0]/);
        expect(['.', '..']).not.toContain(decoded);
      }
    },
  );

  // Any spelling of a path reaches the route its canonical form reaches, or nothing (400).
  const segment = fc.constantFrom('public', 'internal', 'a', 'files');
  const spelling = (seg: string): fc.Arbitrary<string> =>
    fc.array(fc.boolean(), { minLength: seg.length, maxLength: seg.length }).map((encode) =>
      seg
        .split('')
        .map((ch, i) => (encode[i] === true ? `%${ch.charCodeAt(0).toString(16)}` : ch))
        .join(''),
    );
  const noise = fc.constantFrom('', '/', '/.', '/x/..', '/%2e', '/a/%2E%2e', '/..%2F', '%2F..', '%5C', '/..');
  const encodedPath = fc
    .array(segment, { minLength: 1, maxLength: 4 })
    .chain((segments) =>
      fc
        .tuple(...segments.map((seg) => fc.tuple(noise, spelling(seg))))
        .map((parts) => ({ canonical: `/${segments.join('/')}`, raw: parts.map(([n, s]) => `${n}/${s}`).join('') })),
    );
  const table = createRouteTable([
    { name: 'public', path: '/public', prefix: true },
    { name: 'internal', path: '/internal', prefix: true },
    { name: 'a', path: '/a/:x' },
  ]);

  test.prop([encodedPath], { numRuns: 2_000 })(
    'no encoding of a path reaches a route other than the one its canonical form matches',
    ({ raw }) => {
      const result = table.match(request(raw));
      if (result.kind === 'invalid-path') return;
      const canonical = canonicalPath(raw);
      const direct = table.match(request(canonical));
      expect(result).toEqual(direct);
      expect(result.kind === 'matched' ? result.path : canonical).toBe(canonical);
    },
  );

  test('/public/..%2Finternal never reaches internal; /public/%2e%2e/internal is /internal, forwarded so', () => {
    expect(table.match(request('/public/..%2Finternal')).kind).toBe('invalid-path');
    const dotted = table.match(request('/public/%2e%2e/internal'));
    expect(dotted).toMatchObject({ kind: 'matched', route: { name: 'internal' }, path: '/internal' });
  });
});

describe('the table matches a path as its canonical form', () => {
  // Statics, params, wildcards, prefix mounts and a trailing-slash pattern, over the segments the
  // hostile paths are made of: the table checks canonical form on the way (only the segments a match
  // takes as params or wildcard rest), and must answer as if it had canonicalised first.
  const table = createRouteTable([
    { name: 'root', path: '/' },
    { name: 'a', path: '/a' },
    { name: 'a-slash', path: '/a/' },
    { name: 'a-param', path: '/a/:x' },
    { name: 'a-param-b', path: '/a/:x/B' },
    { name: 'deep', path: '/:x/:y/:z' },
    { name: 'b-rest', path: '/B/*' },
    { name: 'tilde', path: '/~', prefix: true },
    { name: 'at', path: '/@/:x', methods: ['POST'] },
  ]);
  const anyPath = fc.oneof(
    hostilePath,
    fc.array(hostileChar, { maxLength: 12 }).map((parts) => parts.join('')),
    fc
      .array(fc.constantFrom('a', 'B', '~', '@', '.', '..', '', 'a%20b', '%41'), { maxLength: 5 })
      .map((segments) => `/${segments.join('/')}`),
  );
  test.prop([anyPath, fc.constantFrom('GET', 'POST', 'HEAD', 'DELETE')], { numRuns: 5_000 })(
    'match(raw) is match(canonicalPath(raw)), or invalid-path when the rule refuses raw',
    (raw, method) => {
      const result = table.match({ ...request(raw), method });
      const canonical = tryCanonical(raw);
      if (canonical === undefined) {
        expect(result.kind).toBe('invalid-path');
        return;
      }
      expect(result).toEqual(table.match({ ...request(canonical), method }));
    },
  );
});
