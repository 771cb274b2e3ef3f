import { InvalidOptionError } from './errors.js';

/** The ioredis settings that decide what becomes of a command whose reply a dropped connection lost. */
interface ReplySettings {
  autoResendUnfulfilledCommands?: unknown;
  commandTimeout?: unknown;
}

/**
 * Throws an {@link InvalidOptionError} for an ioredis client (`Redis` or `Cluster`) whose commands
 * may never settle. When a connection drops after a command was written and before its reply came,
 * ioredis either sends the command again on reconnect (its default, `autoResendUnfulfilledCommands`)
 * or, with that option off, forgets it: the command's promise then never settles unless
 * `commandTimeout` rejects it, and whatever waits on it (a store's in-flight count, a sync round)
 * waits for ever. On a Cluster the node connections' options (`redisOptions`) count. Read by duck
 * typing, so core needs no ioredis; anything else passes.
 *
 * @param client - The client as the caller passed it.
 * @param option - The option's name, for the error (`client`, `redis`).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { assertRedisRepliesSettle } from '@portcullis/core';
 *
 * assertRedisRepliesSettle(new Redis({ lazyConnect: true }), 'client'); // fine: lost commands are resent
 * assertRedisRepliesSettle(new Redis({ lazyConnect: true, autoResendUnfulfilledCommands: false, commandTimeout: 500 }), 'client'); // fine
 * // throws InvalidOptionError: a lost command would never settle
 * // assertRedisRepliesSettle(new Redis({ autoResendUnfulfilledCommands: false }), 'client');
 * ```
 */
export function assertRedisRepliesSettle(client: unknown, option: string): void {
  if (typeof client !== 'object' || client === null) return;
  const { isCluster, options } = client as { isCluster?: unknown; options?: { redisOptions?: unknown } };
  const found: unknown = isCluster === true ? options?.redisOptions : options;
  if (typeof found !== 'object' || found === null) return;
  const settings = found as ReplySettings;
  if (settings.autoResendUnfulfilledCommands !== false) return;
  const timeout = settings.commandTimeout;
  if (typeof timeout === 'number' && timeout > 0) return;
  throw new InvalidOptionError(
    option,
    // The settings at fault, not the client (whose options may hold a password).
    { autoResendUnfulfilledCommands: false, commandTimeout: timeout },
    'an ioredis client that settles every command: with autoResendUnfulfilledCommands: false, also ' +
      'set commandTimeout (a command whose reply a dropped connection lost is otherwise never ' +
      'answered), or leave autoResendUnfulfilledCommands on',
  );
}
