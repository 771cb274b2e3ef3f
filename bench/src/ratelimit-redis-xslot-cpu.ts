/**
 * Redis CPU per decision of the store's cross-slot script (what a Cluster of Redis ≥ 7 runs: one
 * EVALSHA per master per tick), in instructions counted by callgrind: redis-server runs as a
 * one-node Cluster serving every slot, so each command a script runs pays the Cluster's key checks
 * as on a real master. Calls of `BATCH` consumes at the server's time (default 33: 100 callers over
 * 3 masters), keys of the Zipf sequence the other Redis benches walk, once with `n` decisions and
 * once with `2n` (the difference is `n` decisions' cost; see redis-callgrind.ts). Run alone:
 *
 *     node --conditions=@portcullis/source --import tsx src/ratelimit-redis-xslot-cpu.ts [n]
 *
 * `OLD_SCRIPT=<path of another script.ts>` also counts that version's script, for an A/B (for
 * example a commit's `packages/ratelimit/src` unpacked with `git archive <commit>
 * packages/ratelimit/src | tar -x -C /tmp/old`).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { argv, env } from 'node:process';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { limitScript } from '../../packages/ratelimit/src/stores/redis/script.js';
import { int, log, zipfKeys } from './common.js';
import { startCallgrindRedis } from './redis-callgrind.js';

type ScriptOf = (shape: readonly string[], single: boolean, crossSlot: boolean) => string;

/** A one-node Cluster (every slot) under callgrind; `stop()` answers the instructions it ran. */
async function startClusterNode(): Promise<{ client: Redis; stop: () => Promise<number> }> {
  // The cluster config file is relative to the server's directory, a fresh one per server.
  const server = await startCallgrindRedis(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']);
  const client = server.createClient();
  await client.cluster('ADDSLOTSRANGE', 0, 16_383);
  while (!/cluster_state:ok/.test(await client.cluster('INFO'))) await new Promise((done) => setTimeout(done, 200));
  return { client, stop: () => server.stop() };
}

const BATCH = Number(env['BATCH'] ?? 33);
const keys = zipfKeys({ distinctKeys: 100_000, draws: 100_000, exponent: 1, seed: 7, prefix: 'user:' });

/** Instructions of `count` consumes of a one-dimension policy (`fw` 100/min or `tb` 100/min). */
async function count(script: string, code: string, decisions: number): Promise<number> {
  const { client, stop } = await startClusterNode();
  let instructions = Number.NaN;
  try {
    const sha = createHash('sha1').update(script).digest('hex');
    await client.script('LOAD', script);
    const windowStart = Math.floor(Date.now() / 60_000) * 60_000;
    for (let from = 0; from < decisions; from += BATCH) {
      const n = Math.min(BATCH, decisions - from);
      // The store's argument string: the count, then per consume its code (0 + 4 × 1 key), amount,
      // NaN (the server's time) and the dimension's three parameters; keys after it in ARGV.
      const numbers: number[] = [n];
      const batchKeys: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = keys[(from + i) % keys.length] as string;
        if (code === 'fw') {
          numbers.push(4, 1, Number.NaN, 100, windowStart, windowStart + 60_000);
          batchKeys.push(`cpu:{${id}}:m:fw@${String(windowStart)}:k:${id}`);
        } else {
          numbers.push(4, 1, Number.NaN, 100, 100 / 60_000, 60_003);
          batchKeys.push(`cpu:{${id}}:m:tb:k:${id}`);
        }
      }
      const args = Buffer.allocUnsafe(numbers.length * 8);
      numbers.forEach((x, i) => args.writeDoubleLE(x, i * 8));
      await client.callBuffer('evalsha', sha, 0, args, ...batchKeys);
    }
  } finally {
    instructions = await stop();
  }
  return instructions;
}

const n = Number(argv[2] ?? 1_980);
const versions: [string, ScriptOf][] = [['this tree', limitScript]];
const old = env['OLD_SCRIPT'];
if (old !== undefined) {
  const module = (await import(pathToFileURL(resolve(old)).href)) as { limitScript: ScriptOf };
  versions.push([`OLD_SCRIPT`, module.limitScript]);
}
for (const code of ['fw', 'tb']) {
  for (const [name, scriptOf] of versions) {
    const script = scriptOf([code], false, true);
    const once = await count(script, code, n);
    const twice = await count(script, code, 2 * n);
    log(`${code}, ${name}: ${int((twice - once) / n)} instructions per decision (calls of ${String(BATCH)})`);
  }
}
