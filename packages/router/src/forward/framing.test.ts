import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { framingProblem } from './framing.js';

type Header = readonly [string, string];

const spellings = (name: string) =>
  fc.constantFrom(
    name,
    name.toUpperCase(),
    name.replace(/^./, (c) => c.toUpperCase()),
  );
const contentLength = fc.tuple(
  spellings('content-length'),
  fc.oneof(fc.nat().map(String), fc.constantFrom('+4', '-1', '4, 4', ' 4', '0x10', '')),
);
const transferEncoding = fc.tuple(
  spellings('transfer-encoding'),
  fc.constantFrom('chunked', 'CHUNKED', ' chunked ', 'gzip, chunked', 'chunked, identity', 'xchunked', 'identity', ''),
);
const otherHeader = fc.tuple(
  fc.oneof(
    fc.constantFrom('host', 'x-a', 'accept', 'Transfer-Encoding ', 'x y', 'content-length:', 'x\tz'),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
  ),
  fc.string({ maxLength: 8 }),
);
const headerList = fc.array(
  fc.oneof(
    { weight: 1, arbitrary: contentLength },
    { weight: 1, arbitrary: transferEncoding },
    { weight: 3, arbitrary: otherHeader },
  ),
  {
    maxLength: 6,
  },
);

function request(headers: readonly Header[], minor = 1) {
  return { rawHeaders: headers.flat(), httpVersionMajor: 1, httpVersionMinor: minor };
}

const is = (name: string) => (h: Header) => h[0].toLowerCase() === name;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

describe('request framing', () => {
  test.prop([headerList, fc.constantFrom(0, 1)], { numRuns: 2_000 })(
    'refuses exactly the ambiguous requests: several or conflicting lengths, both framings, any coding but chunked, non-token names',
    (headers, minor) => {
      const lengths = headers.filter(is('content-length'));
      const codings = headers.filter(is('transfer-encoding'));
      const ambiguous =
        lengths.length > 1 ||
        codings.length > 1 ||
        (lengths.length === 1 && codings.length === 1) ||
        headers.some(([name]) => !TOKEN.test(name)) ||
        (codings.length === 1 && (codings[0]![1].trim().toLowerCase() !== 'chunked' || minor === 0)) ||
        (lengths.length === 1 && !/^\d{1,16}$/.test(lengths[0]![1].trim()));
      expect(framingProblem(request(headers, minor)) !== undefined).toBe(ambiguous);
    },
  );

  test.prop([headerList, contentLength, transferEncoding], { numRuns: 500 })(
    'never lets a request carry both Content-Length and Transfer-Encoding, in any order or spelling',
    (headers, length, coding) => {
      expect(framingProblem(request([...headers, length, coding]))).toBeDefined();
      expect(framingProblem(request([coding, ...headers, length]))).toBeDefined();
    },
  );

  test('names the rule broken', () => {
    expect(
      framingProblem(
        request([
          ['Content-Length', '4'],
          ['Transfer-Encoding', 'chunked'],
        ]),
      ),
    ).toBe('both Content-Length and Transfer-Encoding');
    expect(framingProblem(request([['Transfer-Encoding', 'chunked']], 0))).toBe('Transfer-Encoding before HTTP/1.1');
    expect(
      framingProblem(
        request([
          ['Host', 'a'],
          ['Content-Length', '12'],
        ]),
      ),
    ).toBeUndefined();
    expect(framingProblem(request([['Transfer-Encoding', 'Chunked']]))).toBeUndefined();
  });
});
