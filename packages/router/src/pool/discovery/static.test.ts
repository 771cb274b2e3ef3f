import { test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect } from 'vitest';
import { MAX_ENDPOINTS } from '../../balancers/endpoint-set.js';
import { endpointLists } from '../../../test/fixtures/discovered-endpoints.js';
import { recordingListener } from '../../../test/fixtures/recording-listener.js';
import { isInvalidDiscoveredEndpointError } from './errors.js';
import { staticDiscovery } from './static.js';

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('staticDiscovery', () => {
  test('each subscriber gets the list once, before subscribe returns, and never an error', () => {
    const source = staticDiscovery([
      { host: '10.0.0.1', port: 8080 },
      { host: 'api-2.internal', port: 8080, weight: 2, zone: 'eu-west-1b', metadata: { pod: 'api-2' } },
    ]);
    for (let i = 0; i < 2; i++) {
      const recorder = recordingListener();
      const stop = source.subscribe(recorder.listener);
      expect(recorder.events).toEqual([
        {
          type: 'update',
          endpoints: [
            { host: '10.0.0.1', port: 8080 },
            { host: 'api-2.internal', port: 8080, weight: 2, zone: 'eu-west-1b', metadata: { pod: 'api-2' } },
          ],
        },
      ]);
      stop();
      stop();
    }
  });

  test.prop([endpointLists], { numRuns: 300 })(
    'accepts any valid list and hands out an equal, frozen copy',
    (endpoints) => {
      const input = endpoints.map((e) => ({ ...e }));
      const recorder = recordingListener();
      staticDiscovery(input).subscribe(recorder.listener);
      const event = recorder.events[0];
      if (event?.type !== 'update') throw new Error('expected an update');
      expect(event.endpoints).toEqual(endpoints);
      expect(Object.isFrozen(event.endpoints)).toBe(true);
      for (const endpoint of event.endpoints) expect(Object.isFrozen(endpoint)).toBe(true);
      // Changing the caller's objects afterwards changes nothing.
      for (const endpoint of input) (endpoint as { port: number }).port = 1;
      expect(event.endpoints.map((e) => e.port)).toEqual(endpoints.map((e) => e.port));
    },
  );

  test.each([
    [0, 'host', [{ host: '', port: 80 }]],
    [0, 'host', [{ host: '[::1]', port: 80 }]],
    [0, 'host', [{ host: 'fe80::1%eth0', port: 80 }]],
    [0, 'host', [{ host: 'http://a', port: 80 }]],
    [0, 'host', [{ host: 'a b', port: 80 }]],
    [0, 'host', [{ host: '10.0.0.256', port: 80 }]],
    [0, 'host', [{ host: 42, port: 80 }]],
    [
      1,
      'port',
      [
        { host: 'a', port: 80 },
        { host: 'b', port: 0 },
      ],
    ],
    [0, 'port', [{ host: 'a', port: 65_536 }]],
    [0, 'port', [{ host: 'a', port: '80' }]],
    [0, 'weight', [{ host: 'a', port: 80, weight: -1 }]],
    [0, 'weight', [{ host: 'a', port: 80, weight: Number.NaN }]],
    [0, 'weight', [{ host: 'a', port: 80, weight: Number.POSITIVE_INFINITY }]],
    [0, 'zone', [{ host: 'a', port: 80, zone: '' }]],
    [0, 'metadata', [{ host: 'a', port: 80, metadata: { a: 1 } }]],
    [0, 'metadata', [{ host: 'a', port: 80, metadata: ['x'] }]],
    [
      1,
      'duplicate',
      [
        { host: 'a', port: 80 },
        { host: 'a', port: 80, weight: 2 },
      ],
    ],
    [0, 'object', [null]],
    [-1, 'array', 'a:80'],
    [-1, 'no endpoints', []],
  ])('refuses entry %i (%s) with an InvalidDiscoveredEndpointError', (index, word, endpoints) => {
    const error = thrownBy(() => staticDiscovery(endpoints as never));
    expect(isInvalidDiscoveredEndpointError(error)).toBe(true);
    if (!isInvalidDiscoveredEndpointError(error)) return;
    expect(error.code).toBe('ERR_PORTCULLIS_ROUTER_INVALID_DISCOVERED_ENDPOINT');
    expect(error.index).toBe(index);
    expect(error.reason).toContain(word);
  });

  test('refuses more endpoints than a pool takes, and entries whose getters throw', () => {
    const many = Array.from({ length: MAX_ENDPOINTS + 1 }, (_, i) => ({ host: 'a', port: (i % 65_535) + 1 }));
    expect(thrownBy(() => staticDiscovery(many))).toMatchObject({ index: -1 });
    const hostile = {
      get host(): string {
        throw new Error('boom');
      },
      port: 80,
    };
    expect(thrownBy(() => staticDiscovery([hostile]))).toMatchObject({
      code: 'ERR_PORTCULLIS_ROUTER_INVALID_DISCOVERED_ENDPOINT',
      index: 0,
    });
  });

  test('a metadata key named __proto__ stays data', () => {
    const metadata = JSON.parse('{"__proto__": "x", "a": "b"}') as Record<string, string>;
    const recorder = recordingListener();
    staticDiscovery([{ host: 'a', port: 1, metadata }]).subscribe(recorder.listener);
    const event = recorder.events[0];
    if (event?.type !== 'update') throw new Error('expected an update');
    expect(Object.entries(event.endpoints[0]?.metadata ?? {})).toEqual([
      ['__proto__', 'x'],
      ['a', 'b'],
    ]);
  });

  test('a listener without update and error is refused', () => {
    const error = thrownBy(() =>
      staticDiscovery([{ host: 'a', port: 1 }]).subscribe({ update: () => undefined } as never),
    );
    expect(isInvalidOptionError(error) && error.option).toBe('listener');
  });
});
