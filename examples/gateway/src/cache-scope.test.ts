import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { cacheScope } from './cache-scope.js';
import type { Customer } from './plans.js';

const part = fc.constantFrom('', 'a', 'b', 'ab', '"', ',', 'users');
const customer = fc.record({ id: part, tier: part, team: part });

describe('cacheScope', () => {
  test.prop([part, customer, part, customer, fc.boolean()], { numRuns: 2000 })(
    'two reads share a scope exactly when their service, customer id and tier are the same (whichever customer object)',
    (serviceA, a: Customer, serviceB, other: Customer, sameObject) => {
      const b = sameObject ? a : other;
      const same = serviceA === serviceB && a.id === b.id && a.tier === b.tier;
      expect(cacheScope(serviceA, a) === cacheScope(serviceB, b)).toBe(same);
      // Asked again, from the memo: the same answer.
      expect(cacheScope(serviceA, a)).toBe(cacheScope(serviceA, { ...a }));
    },
  );
});
