import * as conventions from '@opentelemetry/semantic-conventions';
import { describe, expect, test } from 'vitest';
import { methodLabel } from '../labels.js';
import * as ours from './semconv.js';

describe('semantic convention names', () => {
  test('each is the stable one @opentelemetry/semantic-conventions publishes', () => {
    const names = [
      'ATTR_HTTP_REQUEST_METHOD',
      'ATTR_HTTP_REQUEST_METHOD_ORIGINAL',
      'ATTR_HTTP_REQUEST_RESEND_COUNT',
      'ATTR_HTTP_RESPONSE_STATUS_CODE',
      'ATTR_HTTP_ROUTE',
      'ATTR_SERVER_ADDRESS',
      'ATTR_SERVER_PORT',
      'ATTR_URL_PATH',
      'ATTR_ERROR_TYPE',
      'METRIC_HTTP_SERVER_REQUEST_DURATION',
      'METRIC_HTTP_CLIENT_REQUEST_DURATION',
    ] as const;
    for (const name of names) expect(ours[name], name).toBe(conventions[name]);
    expect(ours.ERROR_TYPE_OTHER).toBe(conventions.ERROR_TYPE_VALUE_OTHER);
    expect(methodLabel('PURGE')).toBe(conventions.HTTP_REQUEST_METHOD_VALUE_OTHER);
  });

  test('error.type of something thrown: its code, its class, or _OTHER', () => {
    expect(ours.errorType(Object.assign(new Error('x'), { code: 'ERR_BROKEN' }))).toBe('ERR_BROKEN');
    expect(ours.errorType(new RangeError('x'))).toBe('RangeError');
    expect(ours.errorType('a string')).toBe('_OTHER');
    expect(ours.errorType(null)).toBe('_OTHER');
  });
});
