import { fc, test } from '@fast-check/vitest';
import { isInvalidOptionError } from '@portcullis/core';
import { describe, expect, test as example } from 'vitest';
import { names, seededRandom } from '../../test/fixtures/seeded-random.js';
import { createBoundedLoad } from './bounded-load.js';
import { MAX_ENDPOINTS } from './endpoint-set.js';
import { isInvalidEndpointsError } from './errors.js';
import { createLeastRequest } from './least-request.js';
import { createMaglev } from './maglev.js';
import { createRendezvous } from './rendezvous.js';
import { createRoundRobin } from './round-robin.js';
import { createSmoothWeightedRoundRobin } from './smooth-weighted-round-robin.js';
import type { Balancer, BalancerOptions, RandomOption } from './types.js';
import { createWeightedRandom } from './weighted-random.js';

type Factory = <E>(options?: BalancerOptions<E> & RandomOption) => Balancer<E>;

const FACTORIES: readonly (readonly [string, Factory])[] = [
  ['round robin', createRoundRobin],
  ['smooth weighted round robin', createSmoothWeightedRoundRobin],
  ['least request', createLeastRequest],
  ['weighted random', createWeightedRandom],
  ['rendezvous', createRendezvous],
  ['maglev', (options) => createMaglev({ ...options, tableSize: 1_009 })],
  ['bounded load', (options) => createBoundedLoad({ ...options, tableSize: 1_009 })],
];

const isEndpointsError = expect.toSatisfy(isInvalidEndpointsError);
const isOptionError = expect.toSatisfy(isInvalidOptionError);

describe.each(FACTORIES)('%s (the Balancer contract)', (name, create) => {
  example('answers undefined with no endpoint, or none with a weight above 0', () => {
    expect(create().pick('k')).toBeUndefined();
    const zero = create({ endpoints: ['a', 'b'], weight: () => 0 });
    expect(zero.pick()).toBeUndefined();
    expect(zero.pick('k')).toBeUndefined();
  });

  test.prop([fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 10 }), fc.integer()], { numRuns: 50 })(
    'only ever picks endpoints of the current set with a weight above 0',
    (weights, seed) => {
      const endpoints = names(weights.length);
      const weight = (e: string): number => weights[Number(e.slice(1))]!;
      const balancer = create({ endpoints, weight, random: seededRandom(seed) });
      const live = endpoints.filter((e) => weight(e) > 0);
      for (let i = 0; i < 200; i++) {
        const picked = balancer.pick(i % 3 === 0 ? undefined : `k${String(i)}`);
        if (live.length === 0) expect(picked).toBeUndefined();
        else expect(live).toContain(picked);
        if (picked !== undefined && i % 2 === 0) balancer.release(picked);
      }
      const next = endpoints.slice(0, Math.ceil(endpoints.length / 2));
      balancer.update(next);
      for (let i = 0; i < 100; i++) expect(next).toContain(balancer.pick(`k${String(i)}`) ?? next[0]);
      expect(balancer.endpoints).toEqual(next);
    },
  );

  example('refuses an invalid set with a typed error and keeps the old one', () => {
    const balancer = create({
      endpoints: ['a', 'b'],
      weight: (e) => (e === 'bad' ? -1 : e === 'nan' ? Number.NaN : 1),
    });
    const invalid: unknown[][] = [['a', 'a'], ['a', ''], ['a', 42], ['a', 'bad'], ['nan']];
    for (const endpoints of invalid) {
      expect(() => {
        balancer.update(endpoints as string[]);
      }).toThrow(isEndpointsError);
      expect(balancer.endpoints).toEqual(['a', 'b']);
      expect(['a', 'b']).toContain(balancer.pick('k'));
    }
    expect(() => {
      balancer.update(names(MAX_ENDPOINTS + 1));
    }).toThrow(isEndpointsError);
    expect(() => {
      balancer.update('a' as never);
    }).toThrow(isEndpointsError);
    expect(() => create({ endpoints: [{ host: 'a' }] })).toThrow(isEndpointsError);
  });

  example('reads ids and weights through the accessors, and reports one that throws', () => {
    interface Upstream {
      readonly address: string;
      readonly weight: number;
    }
    const upstreams: Upstream[] = [
      { address: '10.0.0.1:80', weight: 2 },
      { address: '10.0.0.2:80', weight: 1 },
    ];
    const balancer = create<Upstream>({ endpoints: upstreams, id: (u) => u.address, weight: (u) => u.weight });
    expect(upstreams).toContain(balancer.pick('k'));
    const throwing = create<Upstream>({
      id: () => {
        throw new Error('boom');
      },
    });
    expect(() => {
      throwing.update(upstreams);
    }).toThrow(isEndpointsError);
  });

  example('validates its options', () => {
    for (const options of [{ id: 'x' }, { weight: 1 }, { endpoints: 'a' }]) {
      expect(() => create(options as never)).toThrow(isOptionError);
    }
    // Every balancer that draws at random takes `random` (smooth weighted round robin draws nothing).
    if (name !== 'smooth weighted round robin') expect(() => create({ random: 0.5 } as never)).toThrow(isOptionError);
  });

  example('freezes the endpoint list it reports', () => {
    const endpoints = ['a', 'b'];
    const balancer = create({ endpoints });
    endpoints.push('c');
    expect(balancer.endpoints).toEqual(['a', 'b']);
    expect(Object.isFrozen(balancer.endpoints)).toBe(true);
  });
});
