/**
 * Redis limiters side by side: @portcullis/ratelimit's RedisStore vs rate-limiter-flexible's
 * RateLimiterRedis (and RateLimiterUnion for several limits), both over ioredis, 100 concurrent
 * callers sharing one client per case, the same Zipf key sequence and the same number of decisions
 * per slice. On one real redis-server (the testkit's, or REDIS_URL) and on the testkit's 3-master
 * Redis Cluster.
 *
 * Every ratio is paired by round: a round runs every case for one short slice, in an order that
 * flips every round, and a comparison's ratio is the median of its per-round ratios (range shown),
 * so a machine that speeds up or slows down between rounds moves both sides alike. Round trips are
 * counted twice (commands the client sent, and the server's INFO commandstats), and Redis's CPU per
 * decision both as commandstats µs and, when valgrind is installed, as instructions counted by
 * callgrind on redis-server (ratelimit-redis-cpu.ts), which a busy machine does not move.
 */
import { loadavg } from 'node:os';
import { argv } from 'node:process';
import {
  createRateLimiter,
  fixedWindow,
  RedisStore,
  tokenBucket,
  type Policy,
  type RateLimiter,
} from '@portcullis/ratelimit';
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '@portcullis/testkit';
import { Redis, type Cluster } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes, RateLimiterUnion } from 'rate-limiter-flexible';
import {
  describeKeys,
  fixed,
  int,
  isMain,
  log,
  median,
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
import { CPU_CASES, cpuPerDecision } from './ratelimit-redis-cpu.js';

/**
 * `--cluster-only`: the Cluster cases alone (no single-node cases, no callgrind), for working on the
 * Cluster path.
 */
const CLUSTER_ONLY = argv.includes('--cluster-only');
const CONCURRENCY = 100;
const DISTINCT_KEYS = 100_000;
const DRAWS = 1_000_000;
const ZIPF_EXPONENT = 1;
/** Decisions per case per round: a slice of ~50–150 ms. */
const SLICE_OPS = quick ? 1_000 : 5_000;
const ROUNDS = quick ? 3 : 15;
const WARMUP_OPS = quick ? 1_000 : 5_000;
/** Decisions per callgrind run (the second runs twice as many). */
const CALLGRIND_OPS = quick ? 300 : 2_000;
const DAY_S = 86_400;
const MONTH_S = 30 * DAY_S;

/** How one decision ended: decided by the store, or answered locally (deny cache / in-memory block / fail mode). */
type Outcome = 'allowed' | 'denied' | 'local-deny' | 'fail';
type Client = Redis | Cluster;

interface RedisCase {
  readonly id: string;
  readonly label: string;
  readonly decide: (key: string) => Promise<Outcome>;
  readonly client: Client;
  /** Commands this case's client sent (patched sendCommand), reset per slice. */
  readonly sent: { count: number };
  cursor: number;
  readonly latencies: Float64Array;
  ops: number;
  /** Decisions per second of each round's slice, in round order. */
  readonly rates: number[];
  readonly outcomes: Record<Outcome, number>;
  sentTotal: number;
  readonly server: Map<string, number>;
  /** Server-side µs in EVAL(SHA) (commandstats usec; includes the commands the script ran). */
  serverUsec: number;
  /** This process's CPU time (user + system) while the case ran, µs. */
  clientCpuUsec: number;
  serverAvailable: boolean;
}

/**
 * Counts the commands `client` writes. On a Cluster, at each node's connection: every command ends
 * there, whether routed by the Cluster client (RLF) or written on the node's own connection (ours
 * pipelines each node's calls there), and a redirected command counts again when re-sent.
 */
function countCommands(client: Client): { count: number } {
  const sent = { count: 0 };
  const wrap = (target: Redis | Cluster): void => {
    const original = target.sendCommand.bind(target) as (...args: unknown[]) => unknown;
    (target as { sendCommand: (...args: unknown[]) => unknown }).sendCommand = (...args: unknown[]): unknown => {
      sent.count++;
      return original(...args);
    };
  };
  if (client.isCluster) client.on('+node', wrap);
  else wrap(client);
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

const perMinuteBucket = (): Policy => ({ perMinute: tokenBucket({ capacity: 100, refillPerSecond: 100 / 60 }) });
const perMinuteWindow = (): Policy => ({ perMinute: fixedWindow({ limit: 100, windowMs: 60_000 }) });
const threeDims = (): Policy => ({
  perSecond: tokenBucket({ capacity: 10, refillPerSecond: 10 }),
  daily: fixedWindow({ limit: 10_000, calendar: 'day', timeZone: 'UTC' }),
  monthly: fixedWindow({ limit: 200_000, calendar: 'month', timeZone: 'UTC' }),
});

/** Builds the cases of one server (or Cluster), each on a client of its own. */
function caseMaker(
  cases: RedisCase[],
  createClient: () => Client,
  ns: string,
): {
  add: (id: string, label: string, build: (client: Client) => (key: string) => Promise<Outcome>) => void;
  ours: (id: string, limits: Policy, denyCache: boolean, batchSize?: number) => (client: Client) => RedisCase['decide'];
  rlf: (id: string, points: number, duration: number, extra?: object) => (client: Client) => RedisCase['decide'];
  rlfUnion: (id: string) => (client: Client) => RedisCase['decide'];
} {
  const limiterRedis = (client: Client, id: string, points: number, duration: number, extra: object = {}) =>
    new RateLimiterRedis({ storeClient: client, keyPrefix: `${ns}:${id}`, points, duration, ...extra });
  return {
    add: (id, label, build) => {
      // One ioredis client per case (each shared by its 100 callers), so command counts do not mix.
      const client = createClient();
      const sent = countCommands(client);
      cases.push({
        id,
        label,
        decide: build(client),
        client,
        sent,
        cursor: 0,
        latencies: new Float64Array(SLICE_OPS * ROUNDS),
        ops: 0,
        rates: [],
        outcomes: { allowed: 0, denied: 0, 'local-deny': 0, fail: 0 },
        sentTotal: 0,
        server: new Map(),
        serverUsec: 0,
        clientCpuUsec: 0,
        serverAvailable: true,
      });
    },
    ours: (id, limits, denyCache, batchSize) => (client) =>
      oursDecide(
        createRateLimiter({
          store: new RedisStore({ client, ...(batchSize === undefined ? {} : { batchSize }) }),
          limits,
          prefix: `${ns}:${id}`,
          ...(denyCache ? {} : { denyCache: false as const }),
        }),
      ),
    rlf: (id, points, duration, extra) => (client) => rlfDecide(limiterRedis(client, id, points, duration, extra)),
    rlfUnion: (id) => (client) =>
      rlfDecide(
        new RateLimiterUnion(
          limiterRedis(client, `${id}-s`, 10, 1),
          limiterRedis(client, `${id}-d`, 10_000, DAY_S),
          limiterRedis(client, `${id}-m`, 200_000, MONTH_S),
        ),
      ),
  };
}

function singleNodeCases(redis: RedisServer): RedisCase[] {
  const cases: RedisCase[] = [];
  const { add, ours, rlf, rlfUnion } = caseMaker(cases, () => redis.createClient(), redis.prefix.replace(/:$/, ''));
  add('ours-fw', 'ours fixedWindow 100/60 s, `denyCache: false`', ours('ours-fw', perMinuteWindow(), false));
  add(
    'ours-fw-b1',
    'ours fixedWindow 100/60 s, `denyCache: false`, `batchSize: 1`',
    ours('ours-fw-b1', perMinuteWindow(), false, 1),
  );
  add('ours-tb', 'ours tokenBucket 100/60 s, `denyCache: false`', ours('ours-tb', perMinuteBucket(), false));
  add(
    'ours-tb-b1',
    'ours tokenBucket 100/60 s, `denyCache: false`, `batchSize: 1`',
    ours('ours-tb-b1', perMinuteBucket(), false, 1),
  );
  add('rlf', 'RLF RateLimiterRedis 100/60 s', rlf('rlf', 100, 60));
  add('ours-3d', 'ours 3 dims: 10/s bucket + daily + monthly, `denyCache: false`', ours('ours-3d', threeDims(), false));
  add('ours-3d-b1', 'ours 3 dims, `denyCache: false`, `batchSize: 1`', ours('ours-3d-b1', threeDims(), false, 1));
  add('rlf-3d', 'RLF RateLimiterUnion of 3 RateLimiterRedis (10/1 s, 10k/day, 200k/30 days)', rlfUnion('rlf-3d'));
  add(
    'ours-tb-cache',
    'ours tokenBucket 100/60 s, deny cache on (default)',
    ours('ours-tb-cache', perMinuteBucket(), true),
  );
  add(
    'rlf-block',
    'RLF RateLimiterRedis 100/60 s, `inMemoryBlockOnConsumed: 101`',
    rlf('rlf-block', 100, 60, { inMemoryBlockOnConsumed: 101 }),
  );
  return cases;
}

function clusterCases(cluster: RedisCluster): RedisCase[] {
  const cases: RedisCase[] = [];
  const { add, ours, rlf } = caseMaker(cases, () => cluster.createClient(), 'bench');
  add(
    'c-ours-fw',
    'Cluster: ours fixedWindow 100/60 s, `denyCache: false`',
    ours('c-ours-fw', perMinuteWindow(), false),
  );
  // RLF second: each of ours runs next to it in one of the two orders a round alternates between.
  add('c-rlf', 'Cluster: RLF RateLimiterRedis 100/60 s', rlf('c-rlf', 100, 60));
  add(
    'c-ours-fw-b1',
    'Cluster: ours fixedWindow, `denyCache: false`, `batchSize: 1`',
    ours('c-ours-fw-b1', perMinuteWindow(), false, 1),
  );
  add(
    'c-ours-tb',
    'Cluster: ours tokenBucket 100/60 s, `denyCache: false`',
    ours('c-ours-tb', perMinuteBucket(), false),
  );
  return cases;
}

/** `INFO commandstats` of every given server, summed: command → calls and µs. */
async function commandStats(admins: readonly Redis[]): Promise<Map<string, { calls: number; usec: number }>> {
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const admin of admins) {
    const info = await admin.info('commandstats');
    for (const line of info.split(/\r?\n/)) {
      const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
      if (match?.[1] === undefined) continue;
      const was = stats.get(match[1]) ?? { calls: 0, usec: 0 };
      stats.set(match[1], { calls: was.calls + Number(match[2]), usec: was.usec + Number(match[3]) });
    }
  }
  return stats;
}

/** Commands the harness itself sends to reset and read the stats. */
const HARNESS_COMMANDS = new Set(['info', 'config', 'config|resetstat', 'cluster', 'cluster|slots', 'cluster|info']);

async function runSlice(
  c: RedisCase,
  keys: readonly string[],
  ops: number,
  record: boolean,
  admins: readonly Redis[],
): Promise<void> {
  let resetOk = false;
  if (record && c.serverAvailable) {
    try {
      for (const admin of admins) await admin.config('RESETSTAT');
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
  const decide = c.decide;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= ops) return;
      const key = keys[(base + i) % keys.length] as string;
      const t0 = performance.now();
      const outcome = await decide(key);
      if (record) {
        latencies[offset + i] = performance.now() - t0;
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
  c.rates.push(ops / seconds);
  c.sentTotal += c.sent.count;
  c.clientCpuUsec += cpuUsed.user + cpuUsed.system;
  if (resetOk) {
    for (const [command, { calls, usec }] of await commandStats(admins)) {
      if (HARNESS_COMMANDS.has(command)) continue;
      c.server.set(command, (c.server.get(command) ?? 0) + calls);
      // Top-level commands only: a script's inner commands are already inside EVALSHA's time.
      if (command === 'evalsha' || command === 'eval') c.serverUsec += usec;
    }
  }
}

/** Warm-up, then `ROUNDS` rounds of one slice per case, the order flipped every round. */
async function runRounds(label: string, cases: RedisCase[], keys: readonly string[], admins: Redis[]): Promise<void> {
  for (const c of cases) await c.client.ping();
  // Warm-up: JIT, script loading (the first EVALSHA of each side meets NOSCRIPT), connections.
  for (const c of cases) await runSlice(c, keys, WARMUP_OPS, false, admins);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [...cases] : [...cases].reverse();
    for (const c of order) {
      await runSlice(c, keys, SLICE_OPS, true, admins);
      await settle(10);
    }
    if ((round + 1) % 5 === 0 || round + 1 === ROUNDS) log(`${label}: round ${round + 1}/${ROUNDS}`);
  }
}

const loadNow = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

/** Runs the Redis comparison (spawning redis-server and a Cluster unless REDIS_URL is set) and returns its section. */
export async function runRedisBench(): Promise<Section> {
  const loadBefore = loadNow();
  log(`redis: drawing ${int(DRAWS)} Zipf keys over ${int(DISTINCT_KEYS)} distinct`);
  const keys = zipfKeys({
    distinctKeys: DISTINCT_KEYS,
    draws: DRAWS,
    exponent: ZIPF_EXPONENT,
    seed: 7,
    prefix: 'user:',
  });
  const shape = describeKeys(keys.slice(0, SLICE_OPS * ROUNDS + WARMUP_OPS));
  const all: RedisCase[] = [];
  let version = 'unknown';
  const redis = await startRedis();
  try {
    const admin = redis.createClient();
    version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
    log(`redis: ${redis.external ? 'REDIS_URL server' : `spawned redis-server ${version}`} at ${redis.url}`);
    const cases = CLUSTER_ONLY ? [] : singleNodeCases(redis);
    if (cases.length > 0) await runRounds('redis', cases, keys, [admin]);
    all.push(...cases);
  } finally {
    // Keys carry the handle's prefix; for a spawned server this is a FLUSHALL before it is killed.
    await redis.flushAll().catch(() => undefined);
    await redis.stop();
  }
  let clusterNote = 'not run (REDIS_URL is set: the Cluster cases need the testkit’s redis-server)';
  if (!redis.external) {
    const cluster = await startRedisCluster({ masters: 3 });
    try {
      const admins = cluster.nodes.map((n) => new Redis({ host: n.host, port: n.port }));
      log(`redis: 3-master Cluster on ports ${cluster.nodes.map((n) => n.port).join(', ')}`);
      const cases = clusterCases(cluster);
      await runRounds('cluster', cases, keys, admins);
      all.push(...cases);
      for (const a of admins) a.disconnect();
      clusterNote = 'the testkit’s 3-master Redis Cluster (no replicas), on the same machine';
    } finally {
      await cluster.stop();
    }
  }
  const loadAfterTiming = loadNow();
  if (!CLUSTER_ONLY) log('redis: instructions per decision under callgrind (a few minutes)');
  const instructions = CLUSTER_ONLY ? new Map<string, number>() : await cpuPerDecision(CPU_CASES, CALLGRIND_OPS, keys);
  return {
    title: 'Redis limiters',
    markdown: report(all, shape, version, clusterNote, instructions, [loadBefore, loadAfterTiming, loadNow()]),
  };
}

interface Comparison {
  readonly ours: string;
  readonly theirs: string;
  readonly what: string;
  readonly target?: number;
}

/** Like-for-like comparisons: both sides awaited, neither with a local deny list unless both. */
const HEADLINE: readonly Comparison[] = [
  { ours: 'ours-fw-b1', theirs: 'rlf', what: 'fixed window, one EVALSHA per decision (`batchSize: 1`)', target: 1.5 },
  { ours: 'ours-fw', theirs: 'rlf', what: 'fixed window, default batching', target: 1.5 },
  { ours: 'ours-tb-b1', theirs: 'rlf', what: 'token bucket (`batchSize: 1`) vs RLF’s fixed window' },
  { ours: 'ours-tb', theirs: 'rlf', what: 'token bucket, default batching, vs RLF’s fixed window' },
  { ours: 'ours-3d-b1', theirs: 'rlf-3d', what: '3 dimensions (`batchSize: 1`), atomic vs RateLimiterUnion' },
  { ours: 'ours-3d', theirs: 'rlf-3d', what: '3 dimensions, default batching, vs RateLimiterUnion' },
  { ours: 'c-ours-fw', theirs: 'c-rlf', what: 'Redis Cluster, fixed window, 100 callers', target: 2 },
  { ours: 'c-ours-fw-b1', theirs: 'c-rlf', what: 'Redis Cluster, fixed window, `batchSize: 1`' },
  { ours: 'c-ours-tb', theirs: 'c-rlf', what: 'Redis Cluster, token bucket vs RLF’s fixed window' },
  {
    ours: 'ours-tb-cache',
    theirs: 'rlf-block',
    what: 'both with a local deny list (ours default, RLF `inMemoryBlockOnConsumed`)',
  },
];

function pairedRatio(a: RedisCase, b: RedisCase): { median: number; min: number; max: number } {
  const ratios = a.rates.map((x, i) => x / (b.rates[i] ?? Number.NaN)).filter((r) => Number.isFinite(r));
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

function report(
  cases: readonly RedisCase[],
  shape: { distinct: number; top1: number; top1pct: number },
  version: string,
  clusterNote: string,
  instructions: Map<string, number>,
  loads: readonly [string, string, string],
): string {
  const byId = new Map(cases.map((c) => [c.id, c]));
  const headline = HEADLINE.flatMap((h) => {
    const ours = byId.get(h.ours);
    const theirs = byId.get(h.theirs);
    if (ours === undefined || theirs === undefined) return [];
    const r = pairedRatio(ours, theirs);
    const verdict =
      h.target === undefined ? '—' : r.median >= h.target ? `✅ ≥ ${String(h.target)}×` : `❌ < ${String(h.target)}×`;
    return [
      [
        h.what,
        int(median(ours.rates)),
        int(median(theirs.rates)),
        times(r.median),
        `${times(r.min)}–${times(r.max)}`,
        verdict,
      ],
    ];
  });

  const rows = cases.map((c) => {
    const sorted = c.latencies.slice(0, c.ops).sort();
    const o = c.outcomes;
    return [
      c.label,
      int(median(c.rates)),
      `${int(Math.min(...c.rates))}–${int(Math.max(...c.rates))}`,
      fixed(quantile(sorted, 0.5)),
      fixed(quantile(sorted, 0.99)),
      percent(o.allowed / c.ops),
      percent(o.denied / c.ops),
      percent(o['local-deny'] / c.ops),
      o.fail === 0 ? '0' : `**${int(o.fail)}**`,
    ];
  });

  const roundTrips = cases.map((c) => {
    const evalsha = c.server.get('evalsha') ?? 0;
    const evalCalls = c.server.get('eval') ?? 0;
    let total = 0;
    for (const calls of c.server.values()) total += calls;
    const serverCell = (n: number, digits = 3): string => (c.serverAvailable ? fixed(n / c.ops, digits) : 'n/a');
    return [
      c.label,
      fixed(c.sentTotal / c.ops, 3),
      serverCell(evalsha + evalCalls),
      serverCell(total),
      serverCell(c.serverUsec, 2),
      fixed(c.clientCpuUsec / c.ops, 2),
    ];
  });

  const cpuRow = (ours: string, theirs: string, what: string, target: number): string[] => {
    const a = instructions.get(ours) ?? Number.NaN;
    const b = instructions.get(theirs) ?? Number.NaN;
    const ratio = a / b;
    const verdict = Number.isNaN(ratio)
      ? 'n/a'
      : ratio <= target
        ? `✅ ≤ ${String(target)}×`
        : `❌ > ${String(target)}×`;
    return [what, int(a), int(b), times(ratio), verdict];
  };
  const usecRow = (ours: string, theirs: string): string[] => {
    const a = byId.get(ours);
    const b = byId.get(theirs);
    if (a === undefined || b === undefined) return ['n/a', 'n/a'];
    return [fixed(a.serverUsec / a.ops, 2), fixed(b.serverUsec / b.ops, 2)];
  };
  const cpu = [
    [...cpuRow('ours-fw-b1', 'rlf', 'fixed window, `batchSize: 1`', 1), ...usecRow('ours-fw-b1', 'rlf')],
    [
      ...cpuRow('ours-tb-b1', 'rlf', 'token bucket, `batchSize: 1` (RLF: its fixed window)', 1),
      ...usecRow('ours-tb-b1', 'rlf'),
    ],
    [
      ...cpuRow('ours-3d-b1', 'rlf-3d', '3 dimensions, `batchSize: 1` vs RateLimiterUnion', 1.3),
      ...usecRow('ours-3d-b1', 'rlf-3d'),
    ],
    [...cpuRow('ours-fw', 'rlf', 'fixed window, default batching', 1), ...usecRow('ours-fw', 'rlf')],
    [...cpuRow('ours-tb', 'rlf', 'token bucket, default batching', 1), ...usecRow('ours-tb', 'rlf')],
    [...cpuRow('ours-3d', 'rlf-3d', '3 dimensions, default batching', 1.3), ...usecRow('ours-3d', 'rlf-3d')],
  ];

  return [
    `Servers: redis-server ${version} spawned by @portcullis/testkit on 127.0.0.1, and ${clusterNote}; both share the ` +
      `machine's cores with the benchmark (which is shared with other work: see the load averages). ${CONCURRENCY} ` +
      `concurrent callers per case (async loops) sharing one ioredis client per case (a \`Cluster\` client on the ` +
      `Cluster), default client options (no auto-pipelining). Every case walks the same Zipf(s = ${ZIPF_EXPONENT}) ` +
      `sequence over ${int(DISTINCT_KEYS)} keys from the same offset (measured stretch: ${int(shape.distinct)} distinct ` +
      `keys, hottest ${percent(shape.top1)}, hottest 1% ${percent(shape.top1pct)}); each case has its own key prefix. ` +
      `${int(WARMUP_OPS)} warm-up decisions per case, then ${ROUNDS} rounds; a round runs every case for one slice of ` +
      `${int(SLICE_OPS)} decisions, in an order reversed every other round. Ours runs with its default ` +
      '`timeoutMs: 50`: decisions that hit it count under "fail" (fail-open, not a store decision).',
    '',
    `Load average (1, 5, 15 min): ${loads[0]} at the start, ${loads[1]} after the timed rounds, ${loads[2]} after callgrind.`,
    '',
    '**Headline** — ours ÷ theirs in decisions per second, paired by round: the median of the per-round ratios ' +
      '(the range of those ratios beside it). Both sides awaited; no local deny list on either side except in the ' +
      'last row, where both have one. RLF has no token bucket: its fixed window is the peer of ours.',
    '',
    table(['comparison', 'ours / s (median)', 'theirs / s (median)', 'ratio', 'rounds', 'target'], headline),
    '',
    ...(instructions.size === 0
      ? ['**Redis CPU per decision**: not measured in this run (`--cluster-only`).']
      : [
          '**Redis CPU per decision.** Instructions redis-server runs per decision, counted by callgrind ' +
            `(\`valgrind --tool=callgrind redis-server\` on a free port; ${int(CALLGRIND_OPS)} decisions, then ` +
            `${int(2 * CALLGRIND_OPS)} on a fresh server; the difference ÷ ${int(CALLGRIND_OPS)}; same key sequence and ` +
            '100 callers; see `src/ratelimit-redis-cpu.ts`), and µs in EVAL(SHA) per decision from `INFO commandstats` ' +
            "during the timed rounds above (a script's inner commands included; moves with the machine's load).",
          '',
          table(
            [
              'Redis CPU per decision',
              'ours (instructions)',
              'theirs (instructions)',
              'ratio',
              'target',
              'ours µs',
              'theirs µs',
            ],
            cpu.map((r) => [r[0] ?? '', r[1] ?? '', r[2] ?? '', r[3] ?? '', r[4] ?? '', r[5] ?? '', r[6] ?? '']),
          ),
        ]),
    '',
    '**Every case.** Decisions per second: median slice (slowest–fastest). Latency per decision, from call to ' +
      'settled promise, in ms, over every recorded decision.',
    '',
    table(
      ['limiter', 'decisions/s', 'range', 'p50 ms', 'p99 ms', 'allowed', 'denied by store', 'denied locally', 'fail'],
      rows,
    ),
    '',
    '**Round trips and cost.** "client" = commands the case\'s ioredis client sent (its `sendCommand`, counted) per ' +
      'decision; every decision waits for exactly one of them (ours: the EVALSHA it rides in, shared by the decisions ' +
      'of one tick — on a Cluster of Redis ≥ 7, by those bound for one master — up to `batchSize`). "EVAL(SHA)" and "all" come from the ' +
      "servers' `INFO commandstats` (`CONFIG RESETSTAT` before each slice; the harness's own commands excluded; " +
      '"all" also counts the commands Lua scripts run inside EVALSHA, which are not round trips). "server µs" = ' +
      'EVAL(SHA) time per decision; "client CPU µs" = this process\'s CPU time (user + system) per decision while ' +
      'the case ran: limiter, ioredis and the harness loop.',
    '',
    table(
      [
        'limiter',
        'client cmds / decision',
        'EVAL(SHA) / decision',
        'all server cmds / decision',
        'server µs / decision',
        'client CPU µs / decision',
      ],
      roundTrips,
    ),
  ].join('\n');
}

if (isMain(import.meta.url)) await sectionMain(runRedisBench);
