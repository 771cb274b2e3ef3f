import { createGatewayRequest, isInvalidOptionError, type RespondVerdict } from '@portcullis/core';
import { describe, expect, test } from 'vitest';
import { createHealth } from '../health.js';
import { healthGuard, type HealthEndpointOptions } from './guard.js';

const req = (path: string, method = 'GET') => createGatewayRequest({ method, url: path, header: () => undefined });

describe('the health guard', () => {
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
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings).toHaveLength(1);
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
