import { serveJson, type JsonServer } from '@portcullis/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHealth, httpCheck, type CheckResult } from '../src/index.js';

// Against a real local server that can be told to be slow, fail, refuse connections or reset them.

describe('the HTTP upstream check', () => {
  let upstream: JsonServer;

  beforeAll(async () => {
    upstream = await serveJson({ ok: true }, { path: '/health' });
  });
  afterAll(async () => {
    await upstream.close();
  });

  async function once(options: Partial<Parameters<typeof httpCheck>[0]> = {}): Promise<CheckResult> {
    const health = createHealth({
      checks: [httpCheck({ name: 'orders', url: upstream.url, ttlMs: 0, timeoutMs: 300, ...options })],
    });
    const report = await health.run('readiness', { deadlineMs: 5_000 });
    return report.checks[0] as CheckResult;
  }

  test('200: pass, with the latency as observed value', async () => {
    await upstream.behave({ kind: 'ok' });
    const result = await once();
    expect(result.status).toBe('pass');
    expect(result.componentType).toBe('component');
    expect(result.outcome.observedUnit).toBe('ms');
    expect(result.outcome.observedValue).toBeGreaterThanOrEqual(0);
  });

  test('500: fail, the status in the output', async () => {
    await upstream.behave({ kind: 'status', status: 500 });
    const result = await once();
    expect(result.status).toBe('fail');
    expect(result.outcome.output).toContain('answered 500');
    // Or what the caller expects instead.
    expect((await once({ expectStatus: (s) => s === 500 })).status).toBe('pass');
  });

  test('slow: cut at the timeout (the request aborted); slower than warnLatencyMs: warn', async () => {
    await upstream.behave({ kind: 'slow', delayMs: 2_000 });
    const result = await once();
    expect(result).toMatchObject({ status: 'fail', reason: 'timeout' });
    await upstream.behave({ kind: 'slow', delayMs: 60 });
    const slowish = await once({ warnLatencyMs: 20, timeoutMs: 2_000 });
    expect(slowish.status).toBe('warn');
    expect(slowish.outcome.observedValue).toBeGreaterThanOrEqual(20);
  });

  test('refused and reset connections fail, saying why', async () => {
    await upstream.behave({ kind: 'refuse' });
    const refused = await once();
    expect(refused.status).toBe('fail');
    expect(refused.outcome.output).toContain('ECONNREFUSED');
    await upstream.behave({ kind: 'reset' });
    expect((await once()).status).toBe('fail');
    await upstream.behave({ kind: 'ok' });
    expect((await once()).status).toBe('pass');
  });

  test('bad options are refused up front', () => {
    expect(() => httpCheck({ name: 'x', url: 'ftp://example.com' })).toThrow(/url/);
    expect(() => httpCheck({ name: 'x', url: 'not a url' })).toThrow(/url/);
    expect(() => httpCheck({ name: 'x', url: upstream.url, method: 'POST' as 'GET' })).toThrow(/method/);
    // fetch would refuse it on every run; the error does not repeat the secret.
    const withCredentials = upstream.url.replace('http://', 'http://user:s3cret@');
    expect(() => httpCheck({ name: 'x', url: withCredentials })).toThrow(/url/);
    expect(() => httpCheck({ name: 'x', url: withCredentials })).not.toThrow(/s3cret/);
  });

  test('outputs name the URL without its query (it may carry a key)', async () => {
    await upstream.behave({ kind: 'status', status: 500 });
    const result = await once({ url: `${upstream.url}?key=s3cret` });
    expect(result.outcome.output).toContain('answered 500');
    expect(result.outcome.output).not.toContain('s3cret');
    await upstream.behave({ kind: 'ok' });
  });
});
