/**
 * Several gateways sharing one Redis (or Redis Cluster) and one demo fleet: what a deployment with
 * more than one gateway instance looks like. Limits and quotas stay exact across the instances
 * (the counters live in Redis) and the orders canary moves as one (`createRedisCanary`).
 *
 *     REDIS_URL=redis://127.0.0.1:6379 INSTANCES=3 npx -y pnpm@10 start:several
 *
 * `INSTANCES` gateways (default 3) listen on `PORT`, `PORT + 1`, … (default 8080; `PORT=0`: free
 * ports), each a `src/main.ts` process given the fleet's origins in `UPSTREAMS`. Ctrl-C stops
 * them all. Bearer tokens are minted per gateway (each runs its own demo issuer); the API keys
 * work on every one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDemoFleet } from './services.js';

/** A setting the user can fix, printed as one line. */
class SeveralError extends Error {
  override readonly name = 'SeveralError';
}

const mainScript = fileURLToPath(new URL('./main.ts', import.meta.url));

function readInstances(value: string | undefined): number {
  const n = Number(value ?? 3);
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    throw new SeveralError(`INSTANCES must be a whole number from 1 to 16, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Starts one gateway process; resolves with its address when it listens. */
function startGateway(index: number, env: NodeJS.ProcessEnv): { child: ChildProcess; address: Promise<string> } {
  const child = spawn(process.execPath, ['--conditions=@portcullis/source', '--import', 'tsx', mainScript], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const address = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /example gateway on (http:\/\/\S+)/.exec(out);
      if (found !== null) resolve(found[1] as string);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(`[gateway ${String(index + 1)}] ${chunk.toString()}`);
    });
    child.once('exit', (code) => {
      reject(new SeveralError(`gateway ${String(index + 1)} exited with ${String(code)} before it listened`));
    });
  });
  return { child, address };
}

async function main(): Promise<void> {
  const instances = readInstances(process.env['INSTANCES']);
  if ((process.env['REDIS_URL'] ?? '') === '' && (process.env['REDIS_CLUSTER'] ?? '') === '') {
    throw new SeveralError(
      'several gateways share their limits and canary through Redis: set REDIS_URL or REDIS_CLUSTER',
    );
  }
  const base = Number(process.env['PORT'] ?? 8080);
  if (!Number.isInteger(base) || base < 0 || base + instances - 1 > 65_535) {
    throw new SeveralError(`PORT must be a whole number from 0 to ${String(65_536 - instances)}`);
  }
  const fleet = await startDemoFleet(3);
  const upstreams = JSON.stringify(fleet.origins());
  const gateways = Array.from({ length: instances }, (_, i) =>
    startGateway(i, { ...process.env, PORT: String(base === 0 ? 0 : base + i), UPSTREAMS: upstreams }),
  );
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    stopping = true;
    await Promise.all(
      gateways.map(
        ({ child }) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) resolve(undefined);
            else {
              child.once('exit', resolve);
              child.kill('SIGTERM');
            }
          }),
      ),
    );
    await fleet.close();
    process.exit(code);
  };
  for (const { child } of gateways) {
    child.once('exit', (code) => {
      if (!stopping) {
        console.error(`[several] a gateway exited (${String(code)}): stopping the others`);
        void stop(1);
      }
    });
  }
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  let addresses: string[];
  try {
    addresses = await Promise.all(gateways.map((g) => g.address));
  } catch (error) {
    console.error(`[several] ${error instanceof Error ? error.message : String(error)}`);
    return stop(1);
  }
  console.log(`${String(instances)} Portcullis example gateways sharing ${process.env['REDIS_CLUSTER'] !== undefined && process.env['REDIS_CLUSTER'] !== '' ? 'a Redis Cluster' : 'Redis'} and one demo fleet:
${addresses.map((a, i) => `  gateway ${String(i + 1)}: ${a}`).join('\n')}
  quotas:     for a in ${addresses.join(' ')}; do for i in $(seq 3); do curl -s -o /dev/null -w '%{http_code} ' $a/api/products -H 'x-api-key: demo-free'; done; done
              (the free tier's burst of 5 is shared: five 200s in all, then 429s, whichever gateway answers)
  canary:     curl -s ${addresses[0] ?? ''}/demo/canary; curl -s ${addresses.at(-1) ?? ''}/demo/canary   (the same share and phase)
  stop:       Ctrl-C, or kill ${String(process.pid)}`);
}

main().catch((error: unknown) => {
  console.error(`[several] ${error instanceof SeveralError ? error.message : String(error)}`);
  process.exit(1);
});
