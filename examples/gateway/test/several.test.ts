import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRedis, startRedisCluster } from '@portcullis/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const gatewayDir = fileURLToPath(new URL('..', import.meta.url));

const free = { 'x-api-key': 'demo-free' };

async function dailyRemaining(gateway: string): Promise<number> {
  let res = await fetch(`${gateway}/api/quota`, { headers: free });
  // 503 when the store did not answer in time (a busy machine): usage is not guessed, ask again.
  for (let attempt = 0; res.status === 503 && attempt < 5; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    res = await fetch(`${gateway}/api/quota`, { headers: free });
  }
  expect(res.status).toBe(200);
  const usage = (await res.json()) as { dimensions: { name: string; remaining: number }[] };
  return usage.dimensions.find((d) => d.name === 'daily')?.remaining ?? Number.NaN;
}

interface CanaryView {
  state: { phase: string; percent: number } | null;
}
const canaryOf = async (gateway: string): Promise<CanaryView> =>
  (await (await fetch(`${gateway}/demo/canary`)).json()) as CanaryView;

describe.each(['Redis', 'Redis Cluster'] as const)('several gateways on one %s (start:several)', (mode) => {
  let stopRedis: () => Promise<void>;
  let launcher: ChildProcess;
  let output = '';
  let gateways: string[] = [];

  beforeAll(async () => {
    const shared: NodeJS.ProcessEnv = {};
    if (mode === 'Redis') {
      const redis = await startRedis({ ignoreRedisUrl: true });
      shared['REDIS_URL'] = redis.url;
      stopRedis = () => redis.stop();
    } else {
      const cluster = await startRedisCluster();
      shared['REDIS_CLUSTER'] = cluster.nodes.map((n) => `${n.host}:${String(n.port)}`).join(',');
      stopRedis = () => cluster.stop();
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: '',
      REDIS_CLUSTER: '',
      ...shared,
      PORT: '0',
      INSTANCES: '3',
      // Short canary intervals, so that the test sees a rollback within seconds.
      CANARY_INTERVAL_MS: '1000',
    };
    // The documented command runs exactly this script (`pnpm start:several`).
    launcher = spawn(process.execPath, ['--conditions=@portcullis/source', '--import', 'tsx', 'src/several.ts'], {
      cwd: gatewayDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    launcher.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const deadline = Date.now() + 90_000;
    while (!output.includes('  stop:')) {
      if (Date.now() > deadline || launcher.exitCode !== null)
        throw new Error(`start:several did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    gateways = [...output.matchAll(/gateway \d+: (http:\/\/\S+)/g)].map((m) => m[1] as string);
  }, 120_000);

  afterAll(async () => {
    if (launcher.exitCode === null) {
      const exited = new Promise((resolve) => launcher.once('exit', resolve));
      launcher.kill('SIGTERM');
      await exited;
    }
    await stopRedis();
  }, 30_000);

  test('three gateways start, each on its own port', () => {
    expect(gateways).toHaveLength(3);
    expect(new Set(gateways).size).toBe(3);
  });

  test('limits and quotas are shared: every gateway reads the same usage, the burst is one for all, nothing is counted twice', async () => {
    const started = Date.now();
    const statuses: number[] = [];
    // Admitted by the store (Redis counted them), and admitted without an answer from it in time
    // (the demo's limits fail open after 50 ms: no `RateLimit` header, nothing counted).
    let counted = 0;
    // 15 requests, round the gateways, and more (up to 60) while none has been refused yet: on a
    // busy machine a decision Redis did not answer within 50 ms failed open, uncounted.
    for (let i = 0; i < 60 && (i < 15 || !statuses.includes(429)); i++) {
      const gateway = gateways[i % gateways.length] as string;
      const res = await fetch(`${gateway}/api/products`, { headers: free });
      statuses.push(res.status);
      if (res.status === 200 && res.headers.get('ratelimit') !== null) counted++;
    }
    const admitted = statuses.filter((s) => s === 200).length;
    const seconds = (Date.now() - started) / 1000;
    // Every gateway reads the same usage: the counters are Redis's, not any gateway's own. (Read
    // again if they disagree: a request still on its way to Redis may land between two reads.)
    let remaining: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      remaining = await Promise.all(gateways.map(dailyRemaining));
      if (new Set(remaining).size === 1) break;
    }
    expect(new Set(remaining).size).toBe(1);
    const used = 100 - (remaining[0] as number);
    // The daily quota counted each request the store admitted once, whichever gateway sent it: at
    // least those answered with usage, at most all admitted (a decision that timed out on its way
    // back fails open, and Redis may or may not have counted it: the documented bound).
    expect(used).toBeGreaterThanOrEqual(counted);
    expect(used).toBeLessThanOrEqual(admitted);
    // The burst of 5 is shared: the store admitted no more than 5 plus the refill (1 a second)
    // across the three gateways, and refused the rest.
    expect(used).toBeLessThanOrEqual(5 + Math.ceil(seconds) + 1);
    expect(statuses).toContain(429);
  });

  test('the canary moves as one: a bad v2 seen through all of them is rolled back on every gateway', async () => {
    // Each gateway reads the shared state at its first sync, which waits for its Redis connection
    // (slower on a Cluster of a busy machine): until then /demo/canary answers `state: null`.
    const synced = Date.now() + 20_000;
    let first: CanaryView[] = [];
    do {
      first = await Promise.all(gateways.map(canaryOf));
      if (first.every((v) => v.state !== null)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (Date.now() < synced);
    for (const view of first) expect(view.state).toMatchObject({ percent: 10 });
    // A chaos switch pulled on one gateway reaches the instances all of them share.
    expect((await fetch(`${gateways[0] ?? ''}/demo/canary?errorRate=1`, { method: 'POST' })).status).toBe(200);
    const enterprise = { 'x-api-key': 'demo-enterprise' };
    const deadline = Date.now() + 30_000;
    let views: CanaryView[] = [];
    while (Date.now() < deadline) {
      for (const gateway of gateways) {
        await fetch(`${gateway}/api/orders`, { headers: { ...enterprise, 'x-canary': 'always' } });
        await fetch(`${gateway}/api/orders`, { headers: { ...enterprise, 'x-canary': 'never' } });
      }
      views = await Promise.all(gateways.map(canaryOf));
      if (views.every((v) => v.state?.phase === 'rolled-back')) break;
    }
    for (const view of views) expect(view.state).toMatchObject({ phase: 'rolled-back', percent: 0 });
  }, 60_000);

  test('SIGTERM to the launcher stops every gateway', async () => {
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', resolve));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const gateway of gateways) await expect(fetch(`${gateway}/health`)).rejects.toThrow();
  }, 30_000);
});
