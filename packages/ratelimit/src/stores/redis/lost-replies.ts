import { InvalidOptionError } from '@portcullis/core';
import type { Cluster, Redis, RedisOptions } from 'ioredis';

/**
 * Refuses a client whose lost replies would never settle. When a connection drops after a command
 * was written and before its reply came, ioredis either sends the command again on reconnect (its
 * default, `autoResendUnfulfilledCommands`) or, with that option off, forgets it: the command's
 * promise then never settles unless `commandTimeout` rejects it. The store counts such an operation
 * as in flight until it settles, so every lost reply would hold one of its `maxInFlight` slots for
 * the life of the process. On a Cluster the node connections' options (`redisOptions`) count.
 */
export function assertLostRepliesSettle(client: Redis | Cluster): void {
  const options: Partial<RedisOptions> | undefined = client.isCluster
    ? (client as Cluster).options.redisOptions
    : (client as Redis).options;
  if (options?.autoResendUnfulfilledCommands !== false) return;
  const timeout = options.commandTimeout;
  if (typeof timeout === 'number' && timeout > 0) return;
  throw new InvalidOptionError(
    'client',
    // The settings at fault, not the client (whose options may hold a password).
    { autoResendUnfulfilledCommands: false, commandTimeout: timeout },
    'an ioredis client that settles every command: with autoResendUnfulfilledCommands: false, ' +
      'also set commandTimeout (a command whose reply a dropped connection lost is otherwise never ' +
      'answered, and holds a maxInFlight slot for ever), or leave autoResendUnfulfilledCommands on',
  );
}
