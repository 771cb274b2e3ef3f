/**
 * Redis CPU per rate-limit decision, in instructions counted by callgrind on redis-server (see
 * redis-callgrind.ts): ours (`RedisStore`) against rate-limiter-flexible's `RateLimiterRedis` on
 * the same Zipf key sequence, 100 callers in flight. Run alone:
 *
 *     node --conditions=@portcullis/source --import tsx src/ratelimit-redis-cpu.ts [n] [case…]
 */
import { createRateLimiter, fixedWindow, RedisStore, tokenBucket, type Policy } from '@portcullis/ratelimit';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterUnion } from 'rate-limiter-flexible';
import { int, isMain, log, table, zipfKeys } from './common.js';
import { drive, hasValgrind, instructionsPerOperation, type Workload } from './redis-callgrind.js';

const DAY_S = 86_400;
const MONTH_S = 30 * DAY_S;
const CONCURRENCY = 100;

/** One side of a comparison: a label and what it runs against a client. */
export interface CpuCase {
  readonly id: string;
  readonly label: string;
  readonly decide: (client: Redis) => (key: string) => Promise<unknown>;
}

const perMinuteBucket = (): Policy => ({ perMinute: tokenBucket({ capacity: 100, refillPerSecond: 100 / 60 }) });
const perMinuteWindow = (): Policy => ({ perMinute: fixedWindow({ limit: 100, windowMs: 60_000 }) });
const threeDims = (): Policy => ({
  perSecond: tokenBucket({ capacity: 10, refillPerSecond: 10 }),
  daily: fixedWindow({ limit: 10_000, calendar: 'day', timeZone: 'UTC' }),
  monthly: fixedWindow({ limit: 200_000, calendar: 'month', timeZone: 'UTC' }),
});

function ours(limits: Policy, batchSize: number): CpuCase['decide'] {
  return (client) => {
    const limiter = createRateLimiter({
      store: new RedisStore({ client, batchSize }),
      limits,
      prefix: 'cpu',
      denyCache: false,
      // Redis under valgrind is ~50× slower: a decision must never fail open on time.
      timeoutMs: 600_000,
    });
    return async (key) => {
      const decision = await limiter.limit(key);
      // A decision that did not come from Redis would make the count meaningless.
      if (decision.source !== 'store') throw new Error(`decision from ${decision.source}, not from Redis`);
      return decision;
    };
  };
}

function rlfCatch(limiter: { consume(key: string): Promise<unknown> }): (key: string) => Promise<unknown> {
  // Denials reject with a RateLimiterRes; that is an answer, not a failure.
  return (key) =>
    limiter.consume(key).catch((error: unknown) => {
      if (error instanceof Error) throw error;
      return error;
    });
}

const rlf =
  (points: number, duration: number): CpuCase['decide'] =>
  (client) =>
    rlfCatch(new RateLimiterRedis({ storeClient: client, keyPrefix: 'rlf', points, duration }));

export const CPU_CASES: readonly CpuCase[] = [
  { id: 'ours-fw-b1', label: 'ours fixedWindow, `batchSize: 1`', decide: ours(perMinuteWindow(), 1) },
  { id: 'ours-tb-b1', label: 'ours tokenBucket, `batchSize: 1`', decide: ours(perMinuteBucket(), 1) },
  { id: 'rlf', label: 'RLF RateLimiterRedis (fixed window)', decide: rlf(100, 60) },
  { id: 'ours-3d-b1', label: 'ours 3 dims, `batchSize: 1`', decide: ours(threeDims(), 1) },
  {
    id: 'rlf-3d',
    label: 'RLF RateLimiterUnion of 3',
    decide: (client) =>
      rlfCatch(
        new RateLimiterUnion(
          new RateLimiterRedis({ storeClient: client, keyPrefix: 'rlf-s', points: 10, duration: 1 }),
          new RateLimiterRedis({ storeClient: client, keyPrefix: 'rlf-d', points: 10_000, duration: DAY_S }),
          new RateLimiterRedis({ storeClient: client, keyPrefix: 'rlf-m', points: 200_000, duration: MONTH_S }),
        ),
      ),
  },
  { id: 'ours-fw', label: 'ours fixedWindow, batched (default)', decide: ours(perMinuteWindow(), 32) },
  { id: 'ours-tb', label: 'ours tokenBucket, batched (default)', decide: ours(perMinuteBucket(), 32) },
  { id: 'ours-3d', label: 'ours 3 dims, batched (default)', decide: ours(threeDims(), 32) },
];

/** Instructions per decision of each case (NaN without valgrind). */
export async function cpuPerDecision(
  cases: readonly CpuCase[],
  n: number,
  keys: readonly string[],
  warm = 0,
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const available = await hasValgrind();
  for (const c of cases) {
    if (!available) {
      found.set(c.id, Number.NaN);
      continue;
    }
    const workload: Workload = (client) => async (count) => {
      await client.ping(); // ready: the store refuses to send on a client that is not
      await drive(keys, count, CONCURRENCY, c.decide(client));
    };
    const perDecision = await instructionsPerOperation(workload, n, warm);
    log(`callgrind: ${c.id} ${int(perDecision)} instructions per decision`);
    found.set(c.id, perDecision);
  }
  return found;
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const n = Number(args[0] ?? 2_000);
  // --warm=W: W decisions first, so the counted ones meet a server that holds W decisions' keys.
  const warm = Number(/^--warm=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--warm=')) ?? '')?.[1] ?? 0);
  const only = new Set(args.slice(1));
  const cases = CPU_CASES.filter((c) => only.size === 0 || only.has(c.id));
  const keys = zipfKeys({ distinctKeys: 100_000, draws: warm + 2 * n, exponent: 1, seed: 7, prefix: 'user:' });
  const found = await cpuPerDecision(cases, n, keys, warm);
  process.stdout.write(
    `${table(
      ['case', 'instructions / decision'],
      cases.map((c) => [c.label, int(found.get(c.id) ?? Number.NaN)]),
    )}\n`,
  );
}
