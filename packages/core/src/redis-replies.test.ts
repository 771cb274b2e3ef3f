import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isInvalidOptionError } from './errors.js';
import { assertRedisRepliesSettle } from './redis-replies.js';

function rejection(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

// Shaped as ioredis shapes them: `Redis#options` holds the connection's settings, `Cluster#options`
// holds them under `redisOptions` (each node connection is a `Redis` made with them).
const settings = fc.record(
  {
    autoResendUnfulfilledCommands: fc.oneof(fc.boolean(), fc.anything()),
    commandTimeout: fc.oneof(
      fc.constantFrom(0, -0, -1, 1, Number.NaN, undefined, null, '500'),
      fc.integer({ min: -10, max: 10_000 }),
      fc.double(),
      fc.anything(),
    ),
    password: fc.constant('hunter2'),
  },
  { requiredKeys: ['password'] },
);

describe('assertRedisRepliesSettle', () => {
  test.prop([settings, fc.boolean()], { numRuns: 500 })(
    'refuses exactly the clients that forget a lost command without a timeout to settle it',
    (options, cluster) => {
      const client = cluster ? { isCluster: true, options: { redisOptions: options } } : { isCluster: false, options };
      const timeout = options.commandTimeout;
      const settles = options.autoResendUnfulfilledCommands !== false || (typeof timeout === 'number' && timeout > 0);
      const error = rejection(() => {
        assertRedisRepliesSettle(client, 'redis');
      });
      if (settles) expect(error).toBeUndefined();
      else {
        expect(isInvalidOptionError(error)).toBe(true);
        expect(error).toMatchObject({ option: 'redis' });
        expect(String(error)).toMatch(/commandTimeout/);
        // The message shows the settings at fault, never the client's other options.
        expect(String(error)).not.toMatch(/hunter2/);
      }
    },
  );

  test("a Cluster is judged by its nodes' settings, not its own", () => {
    const forgetful = { autoResendUnfulfilledCommands: false };
    expect(() => {
      assertRedisRepliesSettle({ isCluster: true, options: { redisOptions: forgetful } }, 'client');
    }).toThrow(/commandTimeout/);
    expect(() => {
      assertRedisRepliesSettle({ isCluster: true, options: { ...forgetful, redisOptions: {} } }, 'client');
    }).not.toThrow();
  });

  test.prop([fc.anything()])('anything not shaped like a client passes (the caller validates it)', (value) => {
    expect(() => {
      assertRedisRepliesSettle(value, 'client');
    }).not.toThrow();
  });
});
