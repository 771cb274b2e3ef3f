import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startRedis, type RedisServer } from '@portcullis/testkit';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import type { CanaryDecision } from '../src/index.js';
import type { GatewayCommand, GatewayReply } from './fixtures/canary-gateway.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/canary-gateway.ts', import.meta.url));
// tsx (a devDependency of this package) runs the TypeScript fixture, as examples/gateway's start
// script does.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const INTERVAL = 60_000;
const POLL = 1_000;
const START = 1_700_000_000_000;

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

/** A gateway process (`fixtures/canary-gateway.ts`), driven over IPC, served over HTTP. */
class Gateway {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: GatewayReply & { error?: string }) => void>();
  readonly #exited: Promise<never>;
  #next = 0;
  url = '';
  percent = 0;
  readonly decisions: CanaryDecision[] = [];

  constructor(name: string, failStableEvery: number, failCanaryEvery: number) {
    this.#child = fork(FIXTURE, [], {
      execArgv: ['--conditions=@portcullis/source', '--import', TSX],
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        CANARY_NAME: name,
        START: String(START),
        FAIL_STABLE_EVERY: String(failStableEvery),
        FAIL_CANARY_EVERY: String(failCanaryEvery),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // A process that dies fails the test at once instead of leaving it waiting for a reply.
    this.#exited = once(this.#child, 'exit').then(([code, signal]: unknown[]) => {
      throw new Error(`gateway process exited (${String(code)}, ${String(signal)})`);
    });
    this.#exited.catch(() => undefined);
    this.#child.on('message', (message: (GatewayReply & { error?: string }) | { ready: string }) => {
      if ('ready' in message) return;
      this.#pending.get(message.id)?.(message);
      this.#pending.delete(message.id);
    });
  }

  async ready(): Promise<void> {
    const [message] = (await Promise.race([once(this.#child, 'message'), this.#exited])) as [{ ready?: string }];
    if (message.ready === undefined) throw new Error('gateway did not start');
    this.url = message.ready;
  }

  async command(op: 'clock' | 'sync', now?: number): Promise<void> {
    const id = this.#next++;
    const command: GatewayCommand = op === 'clock' ? { id, op, now: now ?? START } : { id, op };
    const reply = await Promise.race([
      new Promise<GatewayReply & { error?: string }>((resolve) => {
        this.#pending.set(id, resolve);
        this.#child.send(command);
      }),
      this.#exited,
    ]);
    if (reply.error !== undefined) throw new Error(reply.error);
    this.percent = reply.percent;
    this.decisions.push(...reply.decisions);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.#child.send({ id: -1, op: 'stop' } satisfies GatewayCommand);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

async function gateways(name: string, failCanaryEvery: readonly number[]): Promise<Gateway[]> {
  const all = failCanaryEvery.map((every) => new Gateway(name, 20, every));
  onTestFinished(() => Promise.all(all.map((g) => g.stop())).then(() => undefined));
  await Promise.all(all.map((g) => g.ready()));
  return all;
}

/** Sends `n` requests forced to `variant` by the override header (each process sees its own mix). */
async function traffic(g: Gateway, variant: 'stable' | 'canary', n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${g.url}/orders`, {
      headers: { 'x-user-id': `u${String(i)}`, 'x-canary': variant === 'canary' ? 'always' : 'never' },
    });
    expect(await res.text()).toBe(variant);
  }
}

/**
 * One interval: each process gets its own traffic (40 + 10·i stable, 12 + 2·i canary requests: no
 * process alone reaches minRequests 40 on the canary side, the three merged do), then time moves
 * to the interval's end and on through the settle time in poll steps, every process syncing at
 * each poll as its timer would. Returns the shares after each poll round.
 */
async function interval(all: Gateway[], clockAt: { now: number }): Promise<number[][]> {
  await Promise.all(
    all.map(async (g, i) => {
      await traffic(g, 'stable', 40 + 10 * i);
      await traffic(g, 'canary', 12 + 2 * i);
    }),
  );
  clockAt.now = START + (Math.floor((clockAt.now - START) / INTERVAL) + 1) * INTERVAL;
  const rounds: number[][] = [];
  for (let t = 0; t <= 3 * POLL; t += POLL) {
    for (const g of all) await g.command('clock', clockAt.now);
    for (const g of all) await g.command('sync');
    rounds.push(all.map((g) => g.percent));
    clockAt.now += POLL;
  }
  return rounds;
}

async function firstSync(all: Gateway[]): Promise<void> {
  for (const g of all) await g.command('sync');
}

// Three Node processes start tsx each: slow on a loaded machine, so a longer timeout than the default.
describe('three gateway processes share one canary through a real redis-server', { timeout: 90_000 }, () => {
  test('each sees its own traffic; one decision per step; all apply each step within one poll', async () => {
    const all = await gateways('orders-processes-healthy', [20, 20, 20]);
    const clockAt = { now: START };
    await firstSync(all);
    expect(all.map((g) => g.percent)).toEqual([5, 5, 5]);
    const expected = [10, 25, 50, 100];
    for (const share of expected) {
      const rounds = await interval(all, clockAt);
      // Within a poll round after the decision, every process applies the new share.
      const decided = rounds.findIndex((r) => r.some((p) => p === share));
      expect(decided, `no process reached ${String(share)} %`).toBeGreaterThanOrEqual(0);
      const within = rounds[Math.min(decided + 1, rounds.length - 1)]!;
      expect(within).toEqual([share, share, share]);
      expect(rounds.at(-1)).toEqual([share, share, share]);
    }
    const decisions = all.flatMap((g) => g.decisions);
    expect(decisions.map((d) => `${d.action} ${String(d.from)}→${String(d.to)}`).sort()).toEqual(
      ['promote 5→10', 'promote 10→25', 'promote 25→50', 'complete 50→100'].sort(),
    );
    // The merged figures: 12 + 14 + 16 canary requests and 40 + 50 + 60 baseline ones.
    expect(decisions[0]!.checks.find((c) => c.name === 'error-rate')?.figures).toMatchObject({
      canaryRequests: 42,
      baselineRequests: 150,
    });
  });

  test("a rollback triggered by one process's failing canary is applied by all", async () => {
    // Stable fails 1 in 20 everywhere; the canary fails 1 in 20 on two processes, 1 in 2 on the third.
    const all = await gateways('orders-processes-bad', [20, 20, 2]);
    const clockAt = { now: START };
    await firstSync(all);
    await interval(all, clockAt);
    expect(all.map((g) => g.percent)).toEqual([5, 5, 5]); // one failed interval, threshold 2
    const rounds = await interval(all, clockAt);
    expect(rounds.at(-1)).toEqual([0, 0, 0]);
    const decided = rounds.findIndex((r) => r.includes(0));
    expect(rounds[Math.min(decided + 1, rounds.length - 1)]).toEqual([0, 0, 0]);
    const decisions = all.flatMap((g) => g.decisions);
    expect(decisions.map((d) => d.action).sort()).toEqual(['fail', 'rollback']);
    const rollback = decisions.find((d) => d.action === 'rollback')!;
    expect(rollback.checks.find((c) => c.name === 'error-rate')).toMatchObject({ status: 'fail' });
    // After the rollback no process sends anyone to the canary without the override.
    for (const g of all) {
      const res = await fetch(`${g.url}/orders`, { headers: { 'x-user-id': 'someone' } });
      expect(await res.text()).toBe('stable');
    }
  });
});
