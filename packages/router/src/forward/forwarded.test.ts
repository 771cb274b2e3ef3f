import { fc, test } from '@fast-check/vitest';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect } from 'vitest';
import { appendForwarded, forwardedElement, type ForwardedHeaders } from './forwarded.js';

function forwarded(
  headers: IncomingHttpHeaders,
  peer: string | undefined,
  trusted: boolean,
  mode: ForwardedHeaders = 'both',
): Record<string, string> {
  const out: string[] = [];
  appendForwarded(out, headers, peer, trusted, false, mode);
  const result: Record<string, string> = {};
  for (let i = 0; i < out.length; i += 2) {
    expect(result[out[i]!], `${out[i]!} set twice`).toBeUndefined();
    result[out[i]!] = out[i + 1]!;
  }
  return result;
}

const spoof = fc.record({
  'x-forwarded-for': fc.option(fc.string(), { nil: undefined }),
  'x-forwarded-proto': fc.option(fc.string(), { nil: undefined }),
  'x-forwarded-host': fc.option(fc.string(), { nil: undefined }),
  forwarded: fc.option(fc.string(), { nil: undefined }),
  host: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
});
const ipv4 = fc.ipV4();
const mode = fc.constantFrom<ForwardedHeaders>('both', 'x-forwarded', 'forwarded', 'none');

/** RFC 7230 quoted-string, unescaped; `undefined` when `text` is not a well-formed one. */
function unquote(text: string): string | undefined {
  const match = /^"((?:[^"\\]|\\.)*)"$/s.exec(text);
  return match === null ? undefined : match[1]!.replace(/\\(.)/gs, '$1');
}

describe('forwarding headers', () => {
  test.prop([spoof, ipv4, mode], { numRuns: 1_000 })(
    'from an untrusted peer, nothing the client sent survives: only what the gateway saw',
    (headers, peer, which) => {
      const out = forwarded(headers, peer, false, which);
      if (which === 'both' || which === 'x-forwarded') {
        expect(out['x-forwarded-for']).toBe(peer);
        expect(out['x-forwarded-proto']).toBe('http');
        expect(out['x-forwarded-host']).toBe(headers.host);
      } else {
        expect(out['x-forwarded-for']).toBeUndefined();
      }
      if (which === 'both' || which === 'forwarded')
        expect(out.forwarded).toBe(forwardedElement(peer, headers.host, 'http'));
      else expect(out.forwarded).toBeUndefined();
    },
  );

  test.prop([spoof, ipv4, mode], { numRuns: 1_000 })(
    'from a trusted proxy, the chain is kept and this hop appended',
    (headers, peer, which) => {
      const out = forwarded(headers, peer, true, which);
      const xff = headers['x-forwarded-for'];
      if (which === 'both' || which === 'x-forwarded') {
        expect(out['x-forwarded-for']).toBe(xff === undefined || xff === '' ? peer : `${xff}, ${peer}`);
        expect(out['x-forwarded-proto']).toBe(headers['x-forwarded-proto'] ?? 'http');
      } else {
        expect(out['x-forwarded-for']).toBe(xff);
      }
      if (which === 'both' || which === 'forwarded') {
        expect(out.forwarded?.endsWith(forwardedElement(peer, headers.host, 'http'))).toBe(true);
      }
    },
  );

  test.prop([fc.string({ minLength: 1, unit: 'binary-ascii' })], { numRuns: 1_000 })(
    'a Forwarded host is a token or a quoted-string that reads back as the host',
    (host) => {
      const element = forwardedElement('192.0.2.1', host, 'https');
      const value = element.slice('for=192.0.2.1;host='.length, -';proto=https'.length);
      if (/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) expect(value).toBe(host);
      else expect(unquote(value)).toBe(host);
    },
  );

  test('IPv6 nodes are bracketed and quoted, ::ffff:-mapped IPv4 read as IPv4, an unknown peer says so', () => {
    expect(forwardedElement('2001:db8::1', 'a.example', 'http')).toBe('for="[2001:db8::1]";host=a.example;proto=http');
    expect(forwarded({ host: 'a' }, '::ffff:192.0.2.9', false)['x-forwarded-for']).toBe('192.0.2.9');
    expect(forwarded({}, undefined, false)).toEqual({
      'x-forwarded-for': 'unknown',
      'x-forwarded-proto': 'http',
      forwarded: 'for=unknown;proto=http',
    });
  });
});
