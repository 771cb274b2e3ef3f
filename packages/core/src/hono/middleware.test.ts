import { Hono } from 'hono';
import { describe, expect, test } from 'vitest';
import type { Guard } from '../guard.js';
import { portcullis } from './middleware.js';

/** A request whose headers refuse changes, as on runtimes whose incoming requests are immutable. */
function immutableRequest(url: string, headers: Record<string, string>): Request {
  function refuse(): never {
    throw new TypeError('immutable');
  }
  const request = new Request(url, { headers });
  const frozen = Object.assign(new Headers(headers), { set: refuse, delete: refuse, append: refuse });
  Object.defineProperty(request, 'headers', { value: frozen });
  return request;
}

describe('hono portcullis middleware', () => {
  test('replaces c.req.raw with a copy when the request headers are immutable', async () => {
    const guard: Guard = () => ({
      action: 'continue',
      stripUpstreamHeaders: ['x-internal'],
      upstreamHeaders: new Headers({ 'x-user': 'ada' }),
    });
    const app = new Hono().use(portcullis(guard));
    app.get('/', (c) => c.json({ user: c.req.header('x-user'), internal: c.req.header('x-internal') ?? null }));
    const res = await app.fetch(immutableRequest('http://localhost/', { 'x-user': 'mallory', 'x-internal': 'secret' }));
    expect(await res.json()).toEqual({ user: 'ada', internal: null });
  });

  test('types the context by the guard and takes the client address from the ip option', async () => {
    const guard: Guard<{ user: string }> = (req) => ({ action: 'continue', context: { user: req.ip ?? 'unknown' } });
    const app = new Hono().use(portcullis(guard, { ip: (c) => c.req.header('x-test-ip') }));
    app.get('/', (c) => {
      const user: string | undefined = c.get('portcullis').user;
      return c.text(user ?? 'none');
    });
    const res = await app.request('/', { headers: { 'x-test-ip': '198.51.100.4' } });
    expect(await res.text()).toBe('198.51.100.4');
  });

  test("adds response headers to a Response the handler builds itself, and to app.onError's", async () => {
    const guard: Guard = () => ({ action: 'continue', responseHeaders: new Headers({ 'x-limit': '10' }) });
    const app = new Hono().use(portcullis(guard));
    app.get('/raw', () => new Response('raw', { headers: { 'x-own': 'yes' } }));
    app.get('/fail', () => {
      throw new Error('handler failed');
    });
    app.onError((_error, c) => c.text('failed', 500));
    const raw = await app.request('/raw');
    expect(await raw.text()).toBe('raw');
    expect(raw.headers.get('x-own')).toBe('yes');
    expect(raw.headers.get('x-limit')).toBe('10');
    const failed = await app.request('/fail');
    expect(failed.status).toBe(500);
    expect(failed.headers.get('x-limit')).toBe('10');
  });

  test('rejects a guard that is not a function', () => {
    expect(() => portcullis(undefined as unknown as Guard)).toThrow(/Invalid option "guard"/);
  });
});
