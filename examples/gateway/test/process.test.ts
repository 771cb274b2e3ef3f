import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort, isPortFree } from '@portcullis/testkit';
import { afterEach, describe, expect, test } from 'vitest';

const gatewayDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** The environment a user's shell would give: none of the test runner's or of an enclosing pnpm's. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|VITEST|NODE_OPTIONS$|REDIS_URL$|TEST$)/i.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

interface Started {
  readonly child: ChildProcess;
  output: string;
  errors: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Started[] = [];

/** Spawns `command` in a process group of its own, so the test can see (and clean up) every descendant. */
function start(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Started = {
    child,
    output: '',
    errors: '',
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
      });
    }),
  };
  child.stdout.on('data', (chunk: Buffer) => {
    run.output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    run.errors += chunk.toString();
  });
  started.push(run);
  return run;
}

/** True while any process of the group `pgid` is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  detail?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting until ${what}${detail === undefined ? '' : `; its output:\n${detail()}`}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterEach(() => {
  // Whatever a failed test left running goes now.
  for (const run of started.splice(0)) {
    const pgid = run.child.pid;
    if (pgid !== undefined && groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  }
});

describe('the README’s run command as a process', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to the PID of `npx -y pnpm@10 start` stops the gateway and frees its port',
    async (signal) => {
      const port = await freePort();
      const run = start('npx', ['-y', 'pnpm@10', 'start'], repoRoot, userEnv({ PORT: String(port) }));
      const pid = run.child.pid as number;
      // Generous: on a fresh machine under a full test run, npx, pnpm and tsx's first compile of
      // the gateway took over 90 s once. The output comes with the failure, to tell slow from broken.
      await until(
        'the gateway listens',
        () => run.output.includes(`on http://127.0.0.1:${String(port)}`),
        150_000,
        () => [run.output, run.errors].join('\n').slice(-2_000),
      );
      expect(await isPortFree(port)).toBe(false);

      process.kill(pid, signal);
      await until('the port is free', () => isPortFree(port), 15_000);
      // Nothing of the chain (npm, pnpm, node, tsx's esbuild) is left behind.
      await until('every process of the command has exited', () => !groupAlive(pid), 15_000);
      expect(run.output).toContain(`[gateway] ${signal}: closing`);
    },
    190_000,
  );

  describe('a port that is taken', () => {
    let holder: Server | undefined;
    afterEach(async () => {
      await new Promise<void>((resolve) => {
        if (holder === undefined) resolve();
        else
          holder.close(() => {
            resolve();
          });
      });
    });

    test('gives a one-line message and a non-zero exit code, not a stack trace', async () => {
      const server = createServer();
      holder = server;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const run = start(
        process.execPath,
        ['--conditions=@portcullis/source', '--import', 'tsx', 'src/main.ts'],
        gatewayDir,
        userEnv({ PORT: String(port) }),
      );
      const { code } = await run.exited;
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      const lines = run.errors.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`127\\.0\\.0\\.1:${String(port)}.*in use`));
      expect(lines[0]).toMatch(/PORT=/);
      expect(run.errors).not.toMatch(/^\s+at /m);
      await until('every process has exited', () => !groupAlive(run.child.pid as number), 15_000);
    }, 60_000);

    test.each([
      ['PORT', 'eighty', /^\[gateway\] PORT must be a whole number/],
      ['CORS_ORIGINS', 'https://app.example.com/path', /^\[gateway\] CORS_ORIGINS must list origins/],
    ])(
      'a malformed %s is a one-line message too',
      async (name, value, message) => {
        const run = start(
          process.execPath,
          ['--conditions=@portcullis/source', '--import', 'tsx', 'src/main.ts'],
          gatewayDir,
          userEnv({ PORT: '0', [name]: value }),
        );
        const { code } = await run.exited;
        expect(code).toBe(1);
        expect(run.errors.trim().split('\n')).toEqual([expect.stringMatching(message)]);
      },
      60_000,
    );
  });
});
