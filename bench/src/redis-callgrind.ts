/**
 * Instructions a redis-server executes per operation, counted by valgrind's callgrind: the server
 * runs under `valgrind --tool=callgrind` on a free port, a workload sends it `n` operations, then
 * `SHUTDOWN NOSAVE` and valgrind reports what it counted. Run once with `n` and once with `2n`
 * operations, the difference divided by `n` is the cost of `n` operations alone (start-up, script
 * loading and shutdown cancel out). Instruction counts do not depend on the machine's load, which
 * timings on a shared machine do.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@portcullis/testkit';
import { Redis } from 'ioredis';

/** A redis-server under callgrind: a client factory, and `stop()` for the instructions it ran. */
interface CallgrindRedis {
  readonly port: number;
  createClient(): Redis;
  /** SHUTDOWN NOSAVE, then valgrind's count ("Collected"). */
  stop(): Promise<number>;
}

/** True when `valgrind` can be run. */
export async function hasValgrind(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('valgrind', ['--version'], { stdio: 'ignore' });
    child.on('error', () => {
      resolve(false);
    });
    child.on('exit', (code) => {
      resolve(code === 0);
    });
  });
}

/**
 * Starts a redis-server under callgrind on a free port, in a fresh directory (its working
 * directory), with `extraArgs` after the defaults (e.g. `--cluster-enabled yes`).
 */
export async function startCallgrindRedis(extraArgs: readonly string[] = []): Promise<CallgrindRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-callgrind-'));
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      // A profile to read with callgrind_annotate when asked for (CALLGRIND_OUT=file).
      `--callgrind-out-file=${process.env['CALLGRIND_OUT'] ?? '/dev/null'}`,
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      // serverCron runs per second of wall time, which valgrind stretches: as rarely as Redis allows.
      '--hz',
      '1',
      ...extraArgs,
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const clients: Redis[] = [];
  const createClient = (): Redis => {
    const client = new Redis({ port, host: '127.0.0.1' });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => undefined);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server under valgrind did not start:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  probe.disconnect();
  return {
    port,
    createClient,
    stop: async () => {
      for (const c of clients) c.disconnect();
      // No reconnecting: SHUTDOWN's reply never comes.
      const admin = new Redis({ port, host: '127.0.0.1', retryStrategy: () => null, maxRetriesPerRequest: 0 });
      admin.on('error', () => undefined);
      await admin.shutdown('NOSAVE').catch(() => undefined);
      await exited;
      admin.disconnect();
      rmSync(dir, { recursive: true, force: true });
      const collected = /Collected : (\d+)/.exec(stderr);
      if (collected === null) throw new Error(`valgrind reported no count:\n${stderr}`);
      return Number(collected[1]);
    },
  };
}

/** A workload: given a client, something that runs `count` operations. */
export type Workload = (client: Redis) => (count: number) => Promise<void>;

/**
 * Instructions redis-server runs per operation of `workload`: (count with `warm + 2n` operations) −
 * (count with `warm + n`), divided by `n`, each count from a fresh server: the cost of operations
 * `warm + n` to `warm + 2n`.
 */
export async function instructionsPerOperation(workload: Workload, n: number, warm = 0): Promise<number> {
  const counts: number[] = [];
  for (const count of [warm + n, warm + 2 * n]) {
    const redis = await startCallgrindRedis();
    try {
      await workload(redis.createClient())(count);
    } finally {
      counts.push(await redis.stop());
    }
  }
  return ((counts[1] as number) - (counts[0] as number)) / n;
}

/**
 * Runs `count` calls of `decide` over `keys` (from the start, wrapping), `concurrency` at a time:
 * each loop awaits its call before taking the next key.
 */
export async function drive(
  keys: readonly string[],
  count: number,
  concurrency: number,
  decide: (key: string) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const loop = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      await decide(keys[i % keys.length] as string);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}
