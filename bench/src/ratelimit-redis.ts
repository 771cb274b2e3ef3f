/**
 * Redis limiters side by side on one real redis-server (the testkit's, or REDIS_URL):
 * @portcullis/ratelimit's RedisStore vs rate-limiter-flexible's RateLimiterRedis, both over ioredis,
 * 100 concurrent callers sharing one client per side, the same Zipf key sequence and the same
 * number of decisions per case. Round trips are checked twice: commands the client sent (counted
 * in ioredis's sendCommand) and the server's INFO commandstats deltas.
 */
import {
  createRateLimiter,
  fixedWindow,
  RedisStore,
  tokenBucket,
  type Policy,
  type RateLimiter,
} from '@portcullis/ratelimit';
import { startRedis, type RedisServer } from '@portcullis/testkit';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes, RateLimiterUnion } from 'rate-limiter-flexible';
import {
  describeKeys,
  fixed,
  int,
  isMain,
  log,
  percent,
  quantile,
  quick,
  sectionMain,
  settle,
  table,
  times,
  zipfKeys,
  type Section,
} from './common.js';

const CONCURRENCY = 100;
const DISTINCT_KEYS = 100_000;
const DRAWS = 1_000_000;
const ZIPF_EXPONENT = 1;
const OPS_PER_ROUND = quick ? 3_000 : 20_000;
const ROUNDS = quick ? 2 : 3;
const WARMUP_OPS = quick ? 1_000 : 4_000;
const DAY_S = 86_400;
const MONTH_S = 30 * DAY_S;

/** How one decision ended: decided by the store, or answered locally (deny cache / in-memory block / fail mode). */
type Outcome = 'allowed' | 'denied' | 'local-deny' | 'fail';

interface RedisCase {
  readonly id: string;
  readonly label: string;
  readonly lib: 'ours' | 'rlf';
  readonly decide: (key: string) => Promise<Outcome>;
  readonly client: Redis;
  /** Commands this case's client sent (patched sendCommand), reset per measured round. */
  readonly sent: { count: number };
  cursor: number;
  latencies: Float64Array;
  ops: number;
  seconds: number;
  outcomes: Record<Outcome, number>;
  sentTotal: number;
  server: Map<string, number>;
  /** Server-side µs spent in commands (commandstats usec; EVALSHA's includes the commands its script ran). */
  serverUsec: number;
  /** This process's CPU time (user + system) while the case ran, µs. */
  clientCpuUsec: number;
  serverAvailable: boolean;
}

function countCommands(client: Redis): { count: number } {
  const sent = { count: 0 };
  const original = client.sendCommand.bind(client);
  client.sendCommand = (...args: Parameters<Redis['sendCommand']>): unknown => {
    sent.count++;
    return original(...args);
  };
  return sent;
}

function oursDecide(limiter: RateLimiter): (key: string) => Promise<Outcome> {
  return async (key) => {
    const decision = await limiter.limit(key);
    if (decision.source === 'store') return decision.allowed ? 'allowed' : 'denied';
    if (decision.source === 'deny-cache') return 'local-deny';
    return 'fail';
  };
}

function rlfDecide(limiter: { consume: (key: string) => Promise<unknown> }): (key: string) => Promise<Outcome> {
  return async (key) => {
    try {
      await limiter.consume(key);
      return 'allowed';
    } catch (error) {
      if (error instanceof Error) return 'fail';
      // RateLimiterRedis rejects with a RateLimiterRes; one from its in-memory block list has consumedPoints 0.
      if (error instanceof RateLimiterRes && error.consumedPoints === 0) return 'local-deny';
      return 'denied';
    }
  };
}

function makeCases(redis: RedisServer): RedisCase[] {
  const ns = redis.prefix.replace(/:$/, '');
  const cases: RedisCase[] = [];
  const add = (id: string, label: string, lib: 'ours' | 'rlf', build: (client: Redis) => RedisCase['decide']): void => {
    // One ioredis client per case (each shared by its 100 callers), so command counts do not mix.
    const client = redis.createClient();
    const sent = countCommands(client);
    cases.push({
      id,
      label,
      lib,
      decide: build(client),
      client,
      sent,
      cursor: 0,
      latencies: new Float64Array(OPS_PER_ROUND * ROUNDS),
      ops: 0,
      seconds: 0,
      outcomes: { allowed: 0, denied: 0, 'local-deny': 0, fail: 0 },
      sentTotal: 0,
      server: new Map(),
      serverUsec: 0,
      clientCpuUsec: 0,
      serverAvailable: true,
    });
  };
  const ours = (id: string, limits: Policy, denyCache: boolean, batchSize?: number) => (client: Redis) =>
    oursDecide(
      createRateLimiter({
        store: new RedisStore({ client, ...(batchSize === undefined ? {} : { batchSize }) }),
        limits,
        prefix: `${ns}:${id}`,
        ...(denyCache ? {} : { denyCache: false as const }),
      }),
    );
  const perMinuteBucket = (): Policy => ({ perMinute: tokenBucket({ capacity: 100, refillPerSecond: 100 / 60 }) });
  const perMinuteWindow = (): Policy => ({ perMinute: fixedWindow({ limit: 100, windowMs: 60_000 }) });
  const threeDims = (): Policy => ({
    perSecond: tokenBucket({ capacity: 10, refillPerSecond: 10 }),
    daily: fixedWindow({ limit: 10_000, calendar: 'day', timeZone: 'UTC' }),
    monthly: fixedWindow({ limit: 200_000, calendar: 'month', timeZone: 'UTC' }),
  });
  const rlf = (client: Redis, id: string, points: number, duration: number, extra: object = {}): RateLimiterRedis =>
    new RateLimiterRedis({ storeClient: client, keyPrefix: `${ns}:${id}`, points, duration, ...extra });

  add(
    'ours-tb',
    'ours tokenBucket 100/60 s (default: deny cache on)',
    'ours',
    ours('ours-tb', perMinuteBucket(), true),
  );
  add(
    'ours-tb-nc',
    'ours tokenBucket 100/60 s, `denyCache: false`',
    'ours',
    ours('ours-tb-nc', perMinuteBucket(), false),
  );
  add(
    'ours-fw-nc',
    'ours fixedWindow 100/60 s, `denyCache: false`',
    'ours',
    ours('ours-fw-nc', perMinuteWindow(), false),
  );
  add(
    'ours-fw-nc-b1',
    'ours fixedWindow 100/60 s, `denyCache: false`, `batchSize: 1`',
    'ours',
    ours('ours-fw-nc-b1', perMinuteWindow(), false, 1),
  );
  add('rlf', 'RLF RateLimiterRedis 100/60 s (default)', 'rlf', (client) => rlfDecide(rlf(client, 'rlf', 100, 60)));
  add('rlf-block', 'RLF RateLimiterRedis 100/60 s, `inMemoryBlockOnConsumed: 101`', 'rlf', (client) =>
    rlfDecide(rlf(client, 'rlf-block', 100, 60, { inMemoryBlockOnConsumed: 101 })),
  );
  add('ours-3d', 'ours 3 dims: 10/s bucket + daily + monthly (default)', 'ours', ours('ours-3d', threeDims(), true));
  add('ours-3d-nc', 'ours 3 dims, `denyCache: false`', 'ours', ours('ours-3d-nc', threeDims(), false));
  add(
    'ours-3d-nc-b1',
    'ours 3 dims, `denyCache: false`, `batchSize: 1`',
    'ours',
    ours('ours-3d-nc-b1', threeDims(), false, 1),
  );
  add('rlf-3d', 'RLF RateLimiterUnion of 3 RateLimiterRedis (10/1 s, 10k/day, 200k/30 days)', 'rlf', (client) =>
    rlfDecide(
      new RateLimiterUnion(
        rlf(client, 'rlf-3d-s', 10, 1),
        rlf(client, 'rlf-3d-d', 10_000, DAY_S),
        rlf(client, 'rlf-3d-m', 200_000, MONTH_S),
      ),
    ),
  );
  return cases;
}

/** `INFO commandstats` as command → calls and µs. */
async function commandStats(admin: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const info = await admin.info('commandstats');
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (match?.[1] !== undefined) stats.set(match[1], { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

/** Commands the harness itself sends to reset and read the stats. */
const HARNESS_COMMANDS = new Set(['info', 'config', 'config|resetstat']);

async function runCase(
  c: RedisCase,
  keys: readonly string[],
  ops: number,
  record: boolean,
  admin: Redis,
): Promise<void> {
  let resetOk = false;
  if (record && c.serverAvailable) {
    try {
      await admin.config('RESETSTAT');
      resetOk = true;
    } catch {
      c.serverAvailable = false; // e.g. a managed REDIS_URL server that forbids CONFIG
    }
  }
  c.sent.count = 0;
  let next = 0;
  const base = c.cursor;
  const latencies = c.latencies;
  const offset = c.ops;
  const outcomes = c.outcomes;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= ops) return;
      const key = keys[(base + i) % keys.length] as string;
      const t0 = performance.now();
      const outcome = await c.decide(key);
      const elapsed = performance.now() - t0;
      if (record) {
        latencies[offset + i] = elapsed;
        outcomes[outcome]++;
      }
    }
  };
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuUsed = process.cpuUsage(cpu);
  c.cursor = (base + ops) % keys.length;
  if (!record) return;
  c.ops += ops;
  c.seconds += seconds;
  c.sentTotal += c.sent.count;
  c.clientCpuUsec += cpuUsed.user + cpuUsed.system;
  if (resetOk) {
    for (const [command, { calls, usec }] of await commandStats(admin)) {
      if (HARNESS_COMMANDS.has(command)) continue;
      c.server.set(command, (c.server.get(command) ?? 0) + calls);
      // Top-level commands only: a script's inner commands are already inside EVALSHA's time.
      if (command === 'evalsha' || command === 'eval') c.serverUsec += usec;
    }
  }
}

/** Runs the Redis comparison (spawning redis-server unless REDIS_URL is set) and returns its section. */
export async function runRedisBench(): Promise<Section> {
  log(`redis: drawing ${int(DRAWS)} Zipf keys over ${int(DISTINCT_KEYS)} distinct`);
  const keys = zipfKeys({
    distinctKeys: DISTINCT_KEYS,
    draws: DRAWS,
    exponent: ZIPF_EXPONENT,
    seed: 7,
    prefix: 'user:',
  });
  const shape = describeKeys(keys.slice(0, OPS_PER_ROUND * ROUNDS + WARMUP_OPS));
  const redis = await startRedis();
  let version = 'unknown';
  try {
    const admin = redis.createClient();
    version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
    log(`redis: ${redis.external ? 'REDIS_URL server' : `spawned redis-server ${version}`} at ${redis.url}`);
    const cases = makeCases(redis);
    for (const c of cases) await c.client.ping();
    // Warm-up: JIT, script loading (the first EVALSHA of each side meets NOSCRIPT), connections.
    for (const c of cases) await runCase(c, keys, WARMUP_OPS, false, admin);
    for (let round = 0; round < ROUNDS; round++) {
      log(`redis: round ${round + 1}/${ROUNDS}`);
      const order = round % 2 === 0 ? [...cases] : [...cases].reverse();
      for (const c of order) {
        await runCase(c, keys, OPS_PER_ROUND, true, admin);
        await settle(20);
      }
    }
    return { title: 'Redis limiters', markdown: report(cases, shape, redis, version) };
  } finally {
    // Keys carry the handle's prefix; for a spawned server this is a FLUSHALL before it is killed.
    await redis.flushAll().catch(() => undefined);
    await redis.stop();
  }
}

function report(
  cases: readonly RedisCase[],
  shape: { distinct: number; top1: number; top1pct: number },
  redis: RedisServer,
  version: string,
): string {
  const byId = new Map(cases.map((c) => [c.id, c]));
  const rate = (c: RedisCase): number => c.ops / c.seconds;
  const rows = cases.map((c) => {
    const sorted = c.latencies.slice(0, c.ops).sort();
    const o = c.outcomes;
    return [
      c.label,
      int(rate(c)),
      fixed(quantile(sorted, 0.5)),
      fixed(quantile(sorted, 0.95)),
      fixed(quantile(sorted, 0.99)),
      percent(o.allowed / c.ops),
      percent(o.denied / c.ops),
      percent(o['local-deny'] / c.ops),
      o.fail === 0 ? '0' : `**${int(o.fail)}**`,
    ];
  });

  const pairs: [string, string, string][] = [
    ['ours-tb', 'rlf', 'defaults vs defaults (ours answers known-denied keys locally, RLF does not)'],
    ['ours-tb', 'rlf-block', 'both with a local deny list'],
    ['ours-tb-nc', 'rlf', 'neither with a local deny list, token bucket vs fixed window'],
    ['ours-fw-nc', 'rlf', 'neither with a local deny list, same algorithm (fixed window)'],
    ['ours-fw-nc-b1', 'rlf', 'as above, ours sending every decision on its own (`batchSize: 1`)'],
    ['ours-3d', 'rlf-3d', '3 dimensions, defaults'],
    ['ours-3d-nc', 'rlf-3d', '3 dimensions, ours without deny cache'],
    ['ours-3d-nc-b1', 'rlf-3d', '3 dimensions, ours without deny cache, `batchSize: 1`'],
  ];
  const ratioRows = pairs.map(([a, b, what]) => {
    const ours = byId.get(a) as RedisCase;
    const theirs = byId.get(b) as RedisCase;
    const ratio = rate(ours) / rate(theirs);
    return [what, ours.label, theirs.label, times(ratio), ratio >= 1.5 ? '✅ ≥ 1.5×' : '❌ < 1.5×'];
  });

  const roundTrips = cases.map((c) => {
    const evalsha = c.server.get('evalsha') ?? 0;
    const evalCalls = c.server.get('eval') ?? 0;
    let total = 0;
    for (const calls of c.server.values()) total += calls;
    const serverCell = (n: number): string => (c.serverAvailable ? fixed(n / c.ops, 3) : 'n/a');
    const other = [...c.server.entries()]
      .filter(([command]) => command !== 'evalsha' && command !== 'eval')
      .map(([command, calls]) => `${command} ${fixed(calls / c.ops, 2)}`)
      .join(', ');
    return [
      c.label,
      fixed(c.sentTotal / c.ops, 3),
      serverCell(evalsha + evalCalls),
      serverCell(total),
      c.serverAvailable ? other || '—' : 'n/a',
      c.serverAvailable ? fixed(c.serverUsec / c.ops, 1) : 'n/a',
      fixed(c.clientCpuUsec / c.ops, 1),
    ];
  });

  return [
    `Server: ${redis.external ? 'REDIS_URL' : 'redis-server spawned by @portcullis/testkit'} ${version} on 127.0.0.1 ` +
      `(same machine, sharing its cores with the benchmark). ${CONCURRENCY} concurrent callers per case (async loops), ` +
      `sharing one ioredis client per case; no auto-pipelining. ${int(OPS_PER_ROUND)} decisions per case per round, ` +
      `${ROUNDS} rounds (order reversed every other round) after ${int(WARMUP_OPS)} warm-up decisions per case; every case ` +
      `walks the same Zipf(s = ${ZIPF_EXPONENT}) sequence over ${int(DISTINCT_KEYS)} keys from the same offset ` +
      `(measured stretch: ${int(shape.distinct)} distinct keys, hottest ${percent(shape.top1)}, hottest 1% ` +
      `${percent(shape.top1pct)}). Each case has its own key prefix, so state never mixes. Latency is per decision, ` +
      `from call to settled promise, in ms. Ours runs with its default \`timeoutMs: 50\`: decisions that hit it are ` +
      `counted under "fail" (fail-open, not a store decision).`,
    '',
    table(
      ['limiter', 'decisions/s', 'p50 ms', 'p95 ms', 'p99 ms', 'allowed', 'denied by store', 'denied locally', 'fail'],
      rows,
    ),
    '',
    "**Target** (ours ≥ 1.5× rate-limiter-flexible's Redis limiter):",
    '',
    table(['comparison', 'ours', 'theirs', 'ratio', 'verdict'], ratioRows),
    '',
    '**Round trips.** "client" = commands the case\'s ioredis client sent (its `sendCommand`, counted) per decision: ' +
      'every decision waits for exactly one of them (ours: the EVALSHA it rides in, shared by the decisions issued ' +
      'in the same tick, up to `batchSize` = 32; with `batchSize: 1` one per decision). "EVAL(SHA)" and "all" come from the server\'s ' +
      "`INFO commandstats` (`CONFIG RESETSTAT` before each measured round, summed; the harness's own INFO/CONFIG " +
      'excluded). "all" also counts the commands that Lua scripts run inside EVALSHA (GET/SET/INCRBY/PTTL…), which ' +
      'are not round trips. "server µs" = EVAL(SHA) time per decision from commandstats (script execution inside ' +
      'Redis, inner commands included); "client CPU µs" = this process\'s CPU time (user + system, `process.cpuUsage`) ' +
      'per decision while the case ran: limiter, ioredis encode/parse and the harness loop. Node and Redis share 2 cores.',
    '',
    table(
      [
        'limiter',
        'client cmds / decision',
        'EVAL(SHA) / decision',
        'all server cmds / decision',
        'server commands / decision',
        'server µs / decision',
        'client CPU µs / decision',
      ],
      roundTrips,
    ),
  ].join('\n');
}

if (isMain(import.meta.url)) await sectionMain(runRedisBench);
