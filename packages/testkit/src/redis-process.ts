import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { TestkitError } from './errors.js';
import { trackProcess } from './process-registry.js';
import { parseInfo, sleep, withProbe } from './redis-probe.js';

/**
 * Options for {@link spawnRedisProcess}.
 *
 * @example
 * ```ts
 * const options: SpawnRedisProcessOptions = { binary, port, dir, args: [], startTimeoutMs: 10_000 };
 * ```
 */
export interface SpawnRedisProcessOptions {
  /** Absolute path of `redis-server`. */
  binary: string;
  /** Port to listen on (127.0.0.1 only). */
  port: number;
  /** Scratch directory: working dir, `dir` for RDB/AOF and cluster `nodes.conf`. */
  dir: string;
  /** Extra arguments appended after the testkit's own. */
  args: readonly string[];
  /** How long to wait until the server answers PING, in ms. */
  startTimeoutMs: number;
}

/**
 * A running `redis-server` the testkit spawned.
 *
 * @example
 * ```ts
 * const redis = await spawnRedisProcess(options);
 * await redis.kill();
 * redis.exited; // true
 * ```
 */
export interface RedisProcess {
  /** The OS process id. */
  readonly pid: number;
  /** True once the process has exited (killed or crashed). */
  readonly exited: boolean;
  /** SIGKILLs the process and resolves once it has exited; a no-op when it already has. */
  kill(): Promise<void>;
  /**
   * Sends `SIGSTOP` (the process hangs: connections stay open, nothing is answered) or `SIGCONT`
   * (it carries on); a no-op once the process has exited.
   */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
}

/** Bytes of server output kept for error messages. */
const OUTPUT_TAIL_BYTES = 4_096;

/**
 * Spawns `redis-server` on `127.0.0.1:port` with persistence off, and resolves once that very
 * process answers PING (checked through `INFO server`'s `process_id`, so a different server that
 * grabbed the port cannot pass for it). On failure the process is killed and a {@link TestkitError}
 * `ERR_TESTKIT_START_FAILED` carries the server's last output lines.
 *
 * @example
 * ```ts
 * const redis = await spawnRedisProcess({ binary, port, dir, args: [], startTimeoutMs: 10_000 });
 * await redis.kill();
 * ```
 */
export async function spawnRedisProcess(options: SpawnRedisProcessOptions): Promise<RedisProcess> {
  const { binary, port, dir, args, startTimeoutMs } = options;
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  trackProcess(child);

  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // A forgotten server must not keep the test process alive; the exit hook kills it instead.
  child.unref();
  unrefPipe(child.stdout);
  unrefPipe(child.stderr);

  // An object, not `let`s: TypeScript would narrow locals assigned only in callbacks to `false`.
  const state: { exited: boolean; spawnError: Error | undefined } = { exited: false, spawnError: undefined };
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      state.exited = true;
      resolve();
    });
    child.once('error', (error) => {
      // Spawning itself failed (ENOENT, EACCES): there is no process to wait for.
      state.spawnError = error;
      state.exited = true;
      resolve();
    });
  });

  const handle: RedisProcess = {
    pid: child.pid ?? -1,
    get exited() {
      return state.exited;
    },
    kill: async function kill(): Promise<void> {
      if (!state.exited) {
        // Hold the event loop open until the exit arrives: with the child unref'd and nothing else
        // pending, node would otherwise quit mid-await (exit code 13 in a top-level-await script).
        child.ref();
        child.kill('SIGKILL');
      }
      await exit;
    },
    signal: function signal(name: 'SIGSTOP' | 'SIGCONT'): void {
      if (!state.exited) child.kill(name);
    },
  };

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (state.exited) {
      const { spawnError } = state;
      throw new TestkitError(
        'ERR_TESTKIT_START_FAILED',
        `redis-server on port ${port} exited before it was ready` +
          (spawnError ? ` (${spawnError.message})` : '') +
          `. Output:\n${output.trim()}`,
        spawnError ? { cause: spawnError } : undefined,
      );
    }
    // Race the probe against the exit: if something else holds the port and accepts connections
    // without answering, the probe would otherwise wait out its timeout after redis-server died.
    if (await Promise.race([answersAsItself(port, child.pid), exit.then(() => false)])) return handle;
    if (Date.now() > deadline) {
      await handle.kill();
      throw new TestkitError(
        'ERR_TESTKIT_START_FAILED',
        `redis-server on port ${port} did not answer PING within ${startTimeoutMs} ms. Output:\n${output.trim()}`,
      );
    }
    await sleep(25);
  }
}

/**
 * True when the error says the server could not bind its port, so the caller can retry on
 * another one.
 *
 * @example
 * ```ts
 * if (isAddressInUse(error)) port = await freePort();
 * ```
 */
export function isAddressInUse(error: unknown): boolean {
  return error instanceof TestkitError && /address already in use/i.test(error.message);
}

async function answersAsItself(port: number, pid: number | undefined): Promise<boolean> {
  try {
    return await withProbe(`redis://127.0.0.1:${port}`, async (client) => {
      await client.ping();
      const info = parseInfo(await client.info('server'));
      return info.get('process_id') === String(pid);
    });
  } catch {
    return false;
  }
}

/** Child stdio pipes are sockets with `unref()`, though typed as plain readables. */
function unrefPipe(stream: Readable): void {
  (stream as Readable & { unref?: () => void }).unref?.();
}
