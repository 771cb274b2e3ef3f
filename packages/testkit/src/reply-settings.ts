import { Cluster, Redis } from 'ioredis';

/** Unconnected ioredis clients, by what becomes of a command whose reply a dropped connection lost. */
export interface ClientsByReplySettings {
  /**
   * Clients that forget such a command, so its promise never settles:
   * `autoResendUnfulfilledCommands: false` without `commandTimeout` (a `Redis`, one with a
   * `commandTimeout` of 0, and a `Cluster` whose `redisOptions` say so).
   */
  readonly forgetful: readonly (Redis | Cluster)[];
  /**
   * Clients that settle it: ioredis's defaults (the command is resent on reconnect), and
   * `autoResendUnfulfilledCommands: false` with a `commandTimeout` (it rejects), as `Redis` and `Cluster`.
   */
  readonly settling: readonly (Redis | Cluster)[];
  /** Disconnects every one of them. */
  disconnect(): void;
}

/**
 * ioredis clients created with `lazyConnect` (none connects, no server is needed) for testing how
 * a component treats a client whose lost commands would never settle.
 *
 * @example
 * ```ts
 * import { clientsByReplySettings } from '@portcullis/testkit';
 *
 * const clients = clientsByReplySettings();
 * for (const client of clients.forgetful) expect(() => new RedisStore({ client })).toThrow(/commandTimeout/);
 * clients.disconnect();
 * ```
 */
export function clientsByReplySettings(): ClientsByReplySettings {
  const forgetful = [
    // A password in the options: an error naming the client must not show it.
    new Redis({ lazyConnect: true, autoResendUnfulfilledCommands: false, password: 'hunter2' }),
    new Redis({ lazyConnect: true, autoResendUnfulfilledCommands: false, commandTimeout: 0 }),
    new Cluster([{ port: 1 }], { lazyConnect: true, redisOptions: { autoResendUnfulfilledCommands: false } }),
  ];
  const settling = [
    new Redis({ lazyConnect: true }),
    new Redis({ lazyConnect: true, autoResendUnfulfilledCommands: false, commandTimeout: 100 }),
    new Cluster([{ port: 1 }], { lazyConnect: true }),
    new Cluster([{ port: 1 }], {
      lazyConnect: true,
      redisOptions: { autoResendUnfulfilledCommands: false, commandTimeout: 100 },
    }),
  ];
  return {
    forgetful,
    settling,
    disconnect: () => {
      for (const client of [...forgetful, ...settling]) client.disconnect();
    },
  };
}
