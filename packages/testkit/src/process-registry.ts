import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Every server process the testkit spawned and has not yet reaped, and every scratch directory.
 * Two safety nets kill them when the test process goes away without calling `stop()`:
 *
 * - `process.on('exit')` kills them synchronously on a normal exit or `process.exit()`.
 * - A small reaper process, spawned once, watches its stdin pipe to us. Test runners end their
 *   workers with SIGTERM (Vitest does) or SIGKILL, which skip `exit` listeners; the pipe closes
 *   however we die, and the reaper then kills what we had registered.
 */
const live = new Set<ChildProcess>();
const scratchDirs = new Set<string>();
let hookInstalled = false;
let reaper: ChildProcess | undefined;

/**
 * Records a spawned process so it is SIGKILLed when this process exits, however it exits.
 * Untracks it by itself once it exits.
 *
 * @example
 * ```ts
 * const child = spawn('redis-server', ['--port', '0']);
 * trackProcess(child);
 * ```
 */
export function trackProcess(child: ChildProcess): void {
  installExitHook();
  const { pid } = child;
  if (pid === undefined) return; // spawning failed; there is nothing to kill
  live.add(child);
  tellReaper({ op: '+pid', value: pid });
  child.once('exit', function untrack() {
    live.delete(child);
    tellReaper({ op: '-pid', value: pid });
  });
}

/**
 * Records a scratch directory to delete when this process exits, in case `stop()` never runs.
 *
 * @example
 * ```ts
 * trackScratchDir(mkdtempSync(join(tmpdir(), 'portcullis-redis-')));
 * ```
 */
export function trackScratchDir(dir: string): void {
  installExitHook();
  scratchDirs.add(dir);
  tellReaper({ op: '+dir', value: dir });
}

/**
 * Deletes a scratch directory now and forgets it.
 *
 * @example
 * ```ts
 * removeScratchDir(dir);
 * ```
 */
export function removeScratchDir(dir: string): void {
  scratchDirs.delete(dir);
  tellReaper({ op: '-dir', value: dir });
  rmSync(dir, { recursive: true, force: true });
}

/**
 * How many spawned processes are still running. Tests use it to prove teardown left nothing behind.
 *
 * @example
 * ```ts
 * liveProcessCount(); // 0 after every fixture was stopped
 * ```
 */
export function liveProcessCount(): number {
  return live.size;
}

/**
 * SIGKILLs every tracked process and deletes every scratch directory, synchronously, because it
 * runs from `process.on('exit')` where asynchronous work never completes.
 *
 * @example
 * ```ts
 * killAllSync(); // what the exit hook does
 * ```
 */
export function killAllSync(): void {
  for (const child of live) {
    // kill() is a synchronous syscall; the child may already be gone, which is fine.
    child.kill('SIGKILL');
  }
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  scratchDirs.clear();
}

/**
 * The reaper's pid while it runs, for tests of the safety net itself.
 *
 * @example
 * ```ts
 * reaperPid(); // e.g. 4242, after the first server was spawned
 * ```
 */
export function reaperPid(): number | undefined {
  return reaper?.pid;
}

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', killAllSync);
}

type ReaperMessage = { op: '+pid' | '-pid'; value: number } | { op: '+dir' | '-dir'; value: string };

/**
 * Closes the pipe to the reaper, which then reaps everything registered, exactly as when this
 * process dies. The next registration starts a new reaper. Tests use it to exercise the safety net.
 *
 * @example
 * ```ts
 * detachReaper(); // every tracked server is SIGKILLed by the reaper
 * ```
 */
export function detachReaper(): void {
  reaper?.stdin?.end();
}

/** Callers update `live` / `scratchDirs` first, so a fresh reaper can be told the whole state. */
function tellReaper(message: ReaperMessage): void {
  const stdin = reaper?.stdin;
  if (stdin && !stdin.writableEnded && !stdin.destroyed && reaper?.exitCode === null && reaper.signalCode === null) {
    stdin.write(`${JSON.stringify(message)}\n`);
    return;
  }
  reaper = spawnReaper();
  const state: ReaperMessage[] = [
    ...[...live].flatMap((child) => (child.pid === undefined ? [] : [{ op: '+pid' as const, value: child.pid }])),
    ...[...scratchDirs].map((dir) => ({ op: '+dir' as const, value: dir })),
  ];
  reaper.stdin?.write(state.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
}

/** Runs in its own Node process (CommonJS, `node -e`): registers pids/dirs, reaps them on EOF. */
const REAPER_SCRIPT = `
const { rmSync } = require('node:fs');
const pids = new Set();
const dirs = new Set();
let buffer = '';
let reaped = false;
function reap() {
  if (reaped) return;
  reaped = true;
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  for (const dir of dirs) { try { rmSync(dir, { recursive: true, force: true }); } catch {} }
  process.exit(0);
}
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let newline;
  while ((newline = buffer.indexOf('\\n')) >= 0) {
    const { op, value } = JSON.parse(buffer.slice(0, newline));
    buffer = buffer.slice(newline + 1);
    if (op === '+pid') pids.add(value);
    else if (op === '-pid') pids.delete(value);
    else if (op === '+dir') dirs.add(value);
    else if (op === '-dir') dirs.delete(value);
  }
});
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
`;

function spawnReaper(): ChildProcess {
  // Detached: a Ctrl-C to our process group must not kill the reaper before it has reaped.
  const child = spawn(process.execPath, ['-e', REAPER_SCRIPT], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env: {},
  });
  // The reaper must never keep the test process alive, nor crash it if it dies first (EPIPE).
  child.unref();
  child.stdin.on('error', ignore);
  (child.stdin as typeof child.stdin & { unref?: () => void }).unref?.();
  child.on('error', ignore);
  return child;
}

function ignore(): void {
  // Deliberately empty: see the comments where it is attached.
}
