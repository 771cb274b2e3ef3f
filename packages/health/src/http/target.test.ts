import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createHealth } from '../health.js';
import { matchTarget, NOT_FOUND } from './target.js';

const health = createHealth({
  checks: [
    { name: 'db', check: () => 'pass' },
    { name: 'redis:ping', check: () => 'pass', groups: ['readiness', 'cache'] },
  ],
});

const segment = fc.oneof(
  fc.constantFrom(
    'ready',
    'live',
    'readiness',
    'startup',
    'cache',
    'db',
    'redis:ping',
    'redis%3Aping',
    '..',
    '%2e%2e',
    '',
    '%',
    '%ZZ',
  ),
  fc.string({ maxLength: 12 }),
);
const pathArb = fc.oneof(
  fc.array(segment, { maxLength: 5 }).map((parts) => `/health/${parts.join('/')}`),
  fc.string({ maxLength: 40 }).map((s) => `/${s}`),
  fc.string({ maxLength: 2_000 }),
);

describe('path matching', () => {
  test.prop([pathArb], { numRuns: 2_000 })(
    'never throws; claims exactly the base path and what is below it; anything it answers names a real target',
    (path) => {
      const target = matchTarget(path, '/health', health);
      const ours = path === '/health' || path.startsWith('/health/');
      expect(target !== undefined).toBe(ours);
      if (target === undefined || target === NOT_FOUND) return;
      if (target.group !== undefined) expect(health.hasGroup(target.group)).toBe(true);
      if (target.check !== undefined) expect(health.hasCheck(target.check, target.group)).toBe(true);
    },
  );

  test.prop([fc.constantFrom('/health', '/health/', '/health/ready', '/health/ready/', '/health/cache/redis%3Aping')])(
    'the documented paths match',
    (path) => {
      expect(matchTarget(path, '/health', health)).not.toBe(NOT_FOUND);
    },
  );
});
