import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { endpointLists } from '../../../test/fixtures/discovered-endpoints.js';
import { sameEndpoints } from './same-endpoints.js';
import type { DiscoveredEndpoint } from './source.js';

/** One field of one endpoint changed to a value it did not have. */
const changes: readonly ((e: DiscoveredEndpoint) => DiscoveredEndpoint)[] = [
  (e) => ({ ...e, host: `x${e.host.replace(/:/g, '')}` }),
  (e) => ({ ...e, port: (e.port % 65_535) + 1 }),
  (e) => ({ ...e, weight: (e.weight ?? 1) + 1 }),
  (e) => ({ ...e, zone: `${e.zone ?? ''}z` }),
  (e) => ({ ...e, metadata: { ...e.metadata, changed: `${e.metadata?.['changed'] ?? ''}!` } }),
];

describe('sameEndpoints', () => {
  test.prop([endpointLists, fc.infiniteStream(fc.nat())], { numRuns: 500 })(
    'is true for the same endpoints in any order, with metadata keys in any order',
    (endpoints, randoms) => {
      const shuffled = [...endpoints]
        .map((e) => ({ e, key: randoms.next().value }))
        .sort((x, y) => x.key - y.key)
        .map(({ e }) =>
          e.metadata === undefined ? e : { ...e, metadata: Object.fromEntries(Object.entries(e.metadata).reverse()) },
        );
      expect(sameEndpoints(endpoints, shuffled)).toBe(true);
    },
  );

  test.prop([endpointLists, fc.nat(), fc.nat({ max: changes.length - 1 })], { numRuns: 500 })(
    'is false once any one field of any one endpoint differs, or one is missing',
    (endpoints, at, which) => {
      const index = at % endpoints.length;
      const changed = endpoints.map((e, i) =>
        i === index ? (changes[which] as (x: DiscoveredEndpoint) => DiscoveredEndpoint)(e) : e,
      );
      expect(sameEndpoints(endpoints, changed)).toBe(false);
      expect(
        sameEndpoints(
          endpoints,
          endpoints.filter((_, i) => i !== index),
        ),
      ).toBe(false);
    },
  );

  test('an absent weight is weight 1, and absent metadata is empty metadata', () => {
    expect(sameEndpoints([{ host: 'a', port: 1 }], [{ host: 'a', port: 1, weight: 1 }])).toBe(true);
    expect(sameEndpoints([{ host: 'a', port: 1 }], [{ host: 'a', port: 1, metadata: {} }])).toBe(true);
    expect(sameEndpoints([{ host: 'a', port: 1 }], [{ host: 'a', port: 1, weight: 2 }])).toBe(false);
  });

  test('the same endpoint twice is not the same as two different ones', () => {
    const a = { host: 'a', port: 1 };
    const b = { host: 'b', port: 1 };
    expect(sameEndpoints([a, a], [a, b])).toBe(false);
  });
});
