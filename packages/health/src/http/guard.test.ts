import { createGatewayRequest, isInvalidOptionError, type RespondVerdict } from '@portcullis/core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createHealth } from '../health.js';
import { healthGuard, type HealthEndpointOptions } from './guard.js';

const req = (path: string, method = 'GET') => createGatewayRequest({ method, url: path, header: () => undefined });

describe('the health guard', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test('answers synchronously from fresh results; lets other paths through', () => {
    const health = createHealth({ checks: [{ name: 'db', check: () => 'pass', ttlMs: 60_000 }] });
    const guard = healthGuard(health);
    void guard(req('/health'));
    const verdict = guard(req('/health')) as RespondVerdict;
    expect(verdict).toMatchObject({ action: 'respond', status: 200, body: '{"status":"pass"}' });
    expect(guard(req('/api/orders'))).toEqual({ action: 'continue' });
    expect(guard(req('/healthcheck'))).toEqual({ action: 'continue' });
  });

  test('status codes are configurable; a predicate that throws admits no one', async () => {
    const health = createHealth({ checks: [{ name: 'db', check: () => 'warn' }] });
    const warnings: unknown[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const guard = healthGuard(health, {
      statusCodes: { warn: 207 },
      details: () => {
        throw new Error('predicate bug');
      },
    });
    const verdict = (await guard(req('/health/ready'))) as RespondVerdict;
    expect(verdict.status).toBe(207);
    expect(verdict.body).toBe('{"status":"warn"}');
    const failing = createHealth({ checks: [{ name: 'db', check: () => 'fail' }] });
    const answers = async (statusCodes: HealthEndpointOptions['statusCodes']): Promise<number> =>
      ((await healthGuard(failing, { statusCodes })(req('/health'))) as RespondVerdict).status;
    expect(await answers(undefined)).toBe(503);
    expect(await answers({ fail: 500 })).toBe(500);
    expect(await answers({ fail: 200 })).toBe(200); // a probe that must never take the service out
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings).toHaveLength(1);
  });

  test('a predicate that never answers admits no one, and the answer still comes within the one deadline', async () => {
    vi.useFakeTimers();
    const health = createHealth({
      checks: [{ name: 'db', timeoutMs: 60_000, check: () => new Promise(() => undefined) }],
    });
    const guard = healthGuard(health, { deadlineMs: 100, details: () => new Promise<boolean>(() => undefined) });
    let verdict: RespondVerdict | undefined;
    void Promise.resolve(guard(req('/health/ready?verbose'))).then((v) => {
      verdict = v as RespondVerdict;
    });
    // The hung check and the silent predicate share the deadline: not one after the other.
    await vi.advanceTimersByTimeAsync(100);
    expect(verdict).toMatchObject({ status: 503, body: '{"status":"fail"}' });
  });

  test('only `true` admits: a predicate answering another truthy value does not', async () => {
    const health = createHealth({ checks: [{ name: 'db', check: () => 'pass' }] });
    const answers: unknown[] = ['yes', 1, {}, Promise.resolve('true'), Promise.resolve(1)];
    for (const [i, answer] of answers.entries()) {
      const guard = healthGuard(health, { details: () => answer as boolean });
      expect(((await guard(req('/health'))) as RespondVerdict).body, `answer ${String(i)}`).toBe('{"status":"pass"}');
    }
    const admitted = healthGuard(health, { details: () => Promise.resolve(true) });
    expect(((await admitted(req('/health'))) as RespondVerdict).body).toContain('"checks"');
  });

  test('?verbose counts by its presence, whatever its value, and only for admitted callers', async () => {
    const health = createHealth({ checks: [{ name: 'db', check: () => ({ status: 'warn', output: 'lag 9 s' }) }] });
    const admitted = healthGuard(health, { details: () => true });
    for (const query of ['?verbose', '?verbose=', '?verbose=false', '?verbose=0', '?x=1&verbose']) {
      expect(((await admitted(req(`/health${query}`))) as RespondVerdict).body, query).toContain('lag 9 s');
    }
    expect(((await admitted(req('/health?Verbose'))) as RespondVerdict).body).not.toContain('lag 9 s');
    const publicGuard = healthGuard(health);
    expect(((await publicGuard(req('/health?verbose'))) as RespondVerdict).body).toBe('{"status":"warn"}');
  });

  test('a custom base path', () => {
    const health = createHealth({ checks: [{ name: 'db', check: () => 'pass' }] });
    const guard = healthGuard(health, { basePath: '/_meta/health' });
    expect(guard(req('/health'))).toEqual({ action: 'continue' });
    expect(guard(req('/_meta/health/ready'))).not.toEqual({ action: 'continue' });
  });

  test.each([
    [{ basePath: 'health' }, 'basePath'],
    [{ basePath: '/health/' }, 'basePath'],
    [{ basePath: '/' }, 'basePath'],
    [{ basePath: '/he alth' }, 'basePath'],
    [{ deadlineMs: -1 }, 'deadlineMs'],
    [{ statusCodes: { fail: 700 } }, 'statusCodes.fail'],
    [{ statusCodes: { pass: 200.5 } }, 'statusCodes.pass'],
    [{ details: 'yes' }, 'details'],
  ])('bad options are refused, naming the option (%#)', (options, option) => {
    let error: unknown;
    try {
      healthGuard(createHealth(), options as unknown as HealthEndpointOptions);
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as { option: string }).option).toBe(option);
  });
});
