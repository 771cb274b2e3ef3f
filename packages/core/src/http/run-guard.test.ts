import { describe, expect, test, vi } from 'vitest';
import { createGatewayRequest } from '../request.js';
import { CONTINUE, type Verdict } from '../verdict.js';
import { assertVerdict, runGuard } from './run-guard.js';

const request = createGatewayRequest({ method: 'GET', url: '/', header: () => undefined });

describe('runGuard', () => {
  test('hands a synchronous verdict over before returning: no promise, no microtask', () => {
    const seen: Verdict[] = [];
    runGuard(
      () => CONTINUE,
      request,
      (v) => seen.push(v),
      vi.fn(),
    );
    expect(seen).toEqual([CONTINUE]);
  });

  test('hands a synchronous throw to onError before returning', () => {
    const error = new Error('sync');
    const onError = vi.fn();
    runGuard(
      () => {
        throw error;
      },
      request,
      vi.fn(),
      onError,
    );
    expect(onError).toHaveBeenCalledWith(error);
  });

  test('hands an asynchronous verdict or rejection over when it settles', async () => {
    const onVerdict = vi.fn();
    runGuard(() => Promise.resolve(CONTINUE), request, onVerdict, vi.fn());
    expect(onVerdict).not.toHaveBeenCalled();
    await vi.waitFor(() => {
      expect(onVerdict).toHaveBeenCalledWith(CONTINUE);
    });

    const error = new Error('async');
    const onError = vi.fn();
    runGuard(() => Promise.reject(error), request, vi.fn(), onError);
    await vi.waitFor(() => {
      expect(onError).toHaveBeenCalledWith(error);
    });
  });

  test('accepts any thenable', async () => {
    const thenable: PromiseLike<Verdict> = { then: (resolve) => (resolve?.(CONTINUE), thenable) as never };
    const onVerdict = vi.fn();
    runGuard(() => thenable, request, onVerdict, vi.fn());
    await vi.waitFor(() => {
      expect(onVerdict).toHaveBeenCalledWith(CONTINUE);
    });
  });

  test('reports a callback that throws on the asynchronous path instead of an unhandled rejection', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const boom = new Error('adapter bug');
    runGuard(
      () => Promise.resolve(CONTINUE),
      request,
      () => {
        throw boom;
      },
      vi.fn(),
    );
    await vi.waitFor(() => {
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({
          name: 'PortcullisWarning',
          code: 'PORTCULLIS_ADAPTER',
          message: boom.message,
          cause: boom,
        }),
      );
    });
    warn.mockRestore();
  });
});

describe('assertVerdict', () => {
  test('accepts both actions', () => {
    expect(() => {
      assertVerdict(CONTINUE);
      assertVerdict({ action: 'respond', status: 429 });
    }).not.toThrow();
  });

  test.each([undefined, null, 'continue', {}, { action: 'allow' }, { action: 1 }])('rejects %j', (value) => {
    expect(() => {
      assertVerdict(value);
    }).toThrow(TypeError);
  });
});
