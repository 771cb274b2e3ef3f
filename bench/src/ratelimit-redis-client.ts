/**
 * This process's CPU per unbatched Redis decision (`batchSize: 1`): ours against rate-limiter-
 * flexible's `RateLimiterRedis`, and the floor under both, ioredis sending one EVALSHA of a script
 * that does nothing (`return 1`) with the same key and argument shapes as ours. 100 callers in
 * flight on one client, the same Zipf key sequence; the cases alternate in rounds (order flipped
 * every round) and each row is the median of its rounds, min–max shown. CPU is `process.cpuUsage`
 * (user + system) per decision, so Redis's own work on the shared cores is not in it. Run alone:
 *
 *     node --conditions=@portcullis/source --import tsx src/ratelimit-redis-client.ts [decisions] [rounds]
 */
import { createRateLimiter, fixedWindow, RedisStore, tokenBucket, type Policy } from '@portcullis/ratelimit';
import { startRedis } from '@portcullis/testkit';
import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { fixed, isMain, log, median, table, zipfKeys } from './common.js';
import { drive } from './redis-callgrind.js';

const CONCURRENCY = 100;

interface ClientCase {
  readonly id: string;
  readonly label: string;
  readonly decide: (client: Redis, prefix: string) => Promise<(key: string) => Promise<unknown>>;
}

function ours(limits: Policy): ClientCase['decide'] {
  return (client, prefix) => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client, batchSize: 1 }),
      limits,
      prefix,
      denyCache: false,
      timeoutMs: 10_000,
    });
    // On a Redis store `limit` answers a promise; Promise.resolve hands that same promise back.
    return Promise.resolve((key: string) => Promise.resolve(limiter.limit(key)));
  };
}

const CASES: readonly ClientCase[] = [
  {
    id: 'floor',
    label: 'ioredis alone: EVALSHA of `return 1`, one key, a 56-byte Buffer argument',
    decide: async (client, prefix) => {
      const sha = (await client.script('LOAD', 'return 1')) as string;
      const args = Buffer.alloc(56);
      return (key) => client.callBuffer('evalsha', sha, 1, `${prefix}:${key}`, args);
    },
  },
  {
    id: 'rlf',
    label: 'RLF RateLimiterRedis 100/60 s',
    decide: (client, prefix) => {
      const limiter = new RateLimiterRedis({ storeClient: client, keyPrefix: prefix, points: 100, duration: 60 });
      // Denials reject with a RateLimiterRes; that is an answer, not a failure.
      return Promise.resolve((key: string) =>
        limiter.consume(key).catch((error: unknown) => {
          if (error instanceof Error) throw error;
          return error;
        }),
      );
    },
  },
  {
    id: 'ours-fw',
    label: 'ours fixedWindow 100/60 s, `batchSize: 1`',
    decide: ours({ perMinute: fixedWindow({ limit: 100, windowMs: 60_000 }) }),
  },
  {
    id: 'ours-tb',
    label: 'ours tokenBucket 100/60 s, `batchSize: 1`',
    decide: ours({ perMinute: tokenBucket({ capacity: 100, refillPerSecond: 100 / 60 }) }),
  },
];

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  const n = Number(args[0] ?? 20_000);
  const rounds = Number(args[1] ?? 5);
  const keys = zipfKeys({ distinctKeys: 100_000, draws: n * (rounds + 1), exponent: 1, seed: 7, prefix: 'user:' });
  const redis = await startRedis();
  try {
    const client = redis.createClient();
    await client.ping();
    const deciders = new Map<string, (key: string) => Promise<unknown>>();
    for (const c of CASES) deciders.set(c.id, await c.decide(client, `${redis.prefix}${c.id}`));
    const found = new Map<string, number[]>(CASES.map((c) => [c.id, []]));
    for (let round = 0; round <= rounds; round++) {
      const order = round % 2 === 0 ? CASES : [...CASES].reverse();
      // Every case walks the same stretch of the sequence in a round; round 0 warms up (JIT, scripts).
      const slice = keys.slice(round * n, (round + 1) * n);
      for (const c of order) {
        const decide = deciders.get(c.id) as (key: string) => Promise<unknown>;
        const before = process.cpuUsage();
        await drive(slice, n, CONCURRENCY, decide);
        const used = process.cpuUsage(before);
        if (round > 0) found.get(c.id)?.push((used.user + used.system) / n);
      }
      log(`round ${String(round)} done`);
    }
    process.stdout.write(
      `${table(
        ['case', 'client CPU µs / decision (median)', 'min–max'],
        CASES.map((c) => {
          const values = found.get(c.id) ?? [];
          return [
            c.label,
            fixed(median(values), 1),
            `${fixed(Math.min(...values), 1)}–${fixed(Math.max(...values), 1)}`,
          ];
        }),
      )}\n`,
    );
  } finally {
    await redis.flushAll().catch(() => undefined);
    await redis.stop();
  }
}
