import { createServer, connect, type Server, type Socket } from 'node:net';
import { isInvalidOptionError } from '@portcullis/core';
import { clientsByReplySettings, startRedis, type RedisServer } from '@portcullis/testkit';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRateLimiter, fixedWindow, RedisStore, type Decision } from '../src/index.js';

// A connection that drops after Redis ran a command and before its reply reached the client: the
// command was applied, and the client cannot know it. What ioredis then does decides whether a
// decision (or a refund) counts twice, once, or holds the store's in-flight slot for ever.

let redis: RedisServer;
let relay: Server;
/** When set, the next bytes Redis sends are not relayed: the client's connection is cut instead. */
let dropNextReply = false;

beforeAll(async () => {
  redis = await startRedis({ ignoreRedisUrl: true });
  // A TCP relay in front of the real server: the only fault it makes is the lost reply.
  relay = createServer((downstream: Socket) => {
    const upstream = connect(redis.port, redis.host);
    downstream.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!dropNextReply) {
        downstream.write(chunk);
        return;
      }
      dropNextReply = false;
      downstream.destroy();
      upstream.destroy();
    });
    downstream.on('error', () => undefined);
    upstream.on('error', () => undefined);
    downstream.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) =>
    relay.close(() => {
      resolve();
    }),
  );
  await redis.stop();
});

const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

async function clientThroughRelay(options: RedisOptions): Promise<Redis> {
  const address = relay.address();
  if (address === null || typeof address === 'string') throw new Error('the relay has no port');
  // Reconnect at once, so a resend (if any) happens well inside the limiter's timeout.
  const client = new Redis({ ...options, host: '127.0.0.1', port: address.port, retryStrategy: () => 10 });
  client.on('error', () => undefined); // the cut connection is expected
  clients.push(client);
  await client.ping();
  return client;
}

/** One decision whose reply is lost; then the key's next decision, made normally. */
async function loseOneReply(options: RedisOptions, prefix: string) {
  const client = await clientThroughRelay(options);
  const store = new RedisStore({ client, batchSize: 1 });
  const limiter = createRateLimiter({
    store,
    limits: { a: fixedWindow({ limit: 10, windowMs: 3_600_000 }) },
    prefix: `${redis.prefix}${prefix}`,
    timeoutMs: 2_000,
  });
  const errors: unknown[] = [];
  limiter.events.on('storeError', (e) => errors.push(e.error));
  // Loads the script, so the next command is the decision itself (not a NOSCRIPT answer).
  expect((await limiter.limit('warm-up')).source).toBe('store');
  dropNextReply = true;
  const lost: Decision = await limiter.limit('k');
  expect(dropNextReply).toBe(false); // the reply was dropped, not answered normally
  const inFlightAfterLoss = store.inFlight;
  await until(() => client.status === 'ready');
  const next = await limiter.limit('k');
  expect(next.source).toBe('store');
  return { lost, next, errors, inFlightAfterLoss, store };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}

describe('a reply lost with the connection', () => {
  test('ioredis defaults: the command is sent again on reconnect, so the decision counts twice', async () => {
    const { lost, next, inFlightAfterLoss } = await loseOneReply({}, 'defaults:');
    // The resent command ran a second time: its answer (the one the caller gets) counts 2 of 10.
    expect(lost).toMatchObject({ source: 'store', allowed: true, remaining: 8 });
    expect(next.remaining).toBe(7);
    expect(inFlightAfterLoss).toBe(0);
  });

  test('autoResendUnfulfilledCommands off, with commandTimeout: at most once, and the slot comes back', async () => {
    const { lost, next, errors, store } = await loseOneReply(
      { autoResendUnfulfilledCommands: false, commandTimeout: 200 },
      'at-most-once:',
    );
    // Not resent: the caller learns nothing of the outcome and gets the fail mode.
    expect(lost.source).toBe('fail-open');
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/timed out/i);
    // Applied once, by the run whose reply was lost.
    expect(next.remaining).toBe(8);
    expect(store.inFlight).toBe(0);
  });

  test('autoResendUnfulfilledCommands off without commandTimeout is refused: a lost reply would never settle', () => {
    const clients = clientsByReplySettings();
    for (const client of clients.forgetful) {
      let thrown: unknown;
      try {
        new RedisStore({ client });
      } catch (error) {
        thrown = error;
      }
      expect(isInvalidOptionError(thrown)).toBe(true);
      expect(thrown).toMatchObject({ option: 'client' });
      expect(String(thrown)).toMatch(/commandTimeout/);
      expect(String(thrown)).not.toMatch(/hunter2/);
    }
    for (const client of clients.settling) expect(new RedisStore({ client })).toBeInstanceOf(RedisStore);
    clients.disconnect();
  });
});
