/**
 * What the fault suite shares: a steady load through the gateway that records every request's
 * answer, a spawned gateway process (`src/main.ts`, as users start it) with its RSS, and the
 * daily quota's usage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const gatewayDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * How long a request may take, whatever the fault: two attempts of 2 s each (the forwarder's
 * per-attempt timeout; a read is retried once) plus a margin for a loaded 2-core machine.
 */
export const ANSWER_BOUND_MS = 8_000;

/** One request of the load. */
export interface Outcome {
  /** When it was sent (ms since the load started). */
  readonly at: number;
  /** The HTTP status, or `error: …` when no answer came (a socket error or the bound passed). */
  readonly status: number | string;
  readonly ms: number;
  /** The answer carried the limiter's `RateLimit` header: the store decided (not fail-open). */
  readonly counted: boolean;
  readonly instance: string | null;
  readonly servedBy: string | null;
}

/** A running load; `stop()` waits for every request in flight and returns them all. */
export interface Load {
  readonly outcomes: readonly Outcome[];
  /** Milliseconds since the load started. */
  now(): number;
  stop(): Promise<Outcome[]>;
}

/**
 * Sends a GET to `url` every `1000 / ratePerSecond` ms, not waiting for earlier ones (a steady
 * open-loop load, as clients make it), each given {@link ANSWER_BOUND_MS} to answer.
 */
export function steadyLoad(
  url: string,
  headers: () => Record<string, string> | Promise<Record<string, string>>,
  ratePerSecond = 30,
): Load {
  const started = Date.now();
  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  const one = async (): Promise<void> => {
    const at = Date.now() - started;
    const sent = performance.now();
    try {
      const res = await fetch(url, { headers: await headers(), signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
      await res.arrayBuffer();
      outcomes.push({
        at,
        status: res.status,
        ms: performance.now() - sent,
        counted: res.headers.get('ratelimit') !== null,
        instance: res.headers.get('x-portcullis-instance'),
        servedBy: res.headers.get('x-portcullis-served-by'),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      outcomes.push({
        at,
        status: `error: ${(error as Error).name}${cause === undefined ? '' : ` ${cause}`}`,
        ms: performance.now() - sent,
        counted: false,
        instance: null,
        servedBy: null,
      });
    }
  };
  const timer = setInterval(() => {
    const request = one();
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  }, 1000 / ratePerSecond);
  return {
    outcomes,
    now: () => Date.now() - started,
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
      return outcomes.sort((a, b) => a.at - b.at);
    },
  };
}

/** Polls `condition` every 100 ms until it holds; throws after `timeoutMs` with `what`. */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A summary for the test's log and the docs: answers, statuses, worst latency. */
export function summary(outcomes: readonly Outcome[]): {
  requests: number;
  statuses: Record<string, number>;
  worstMs: number;
  uncounted: number;
} {
  const statuses: Record<string, number> = {};
  for (const o of outcomes) statuses[String(o.status)] = (statuses[String(o.status)] ?? 0) + 1;
  return {
    requests: outcomes.length,
    statuses,
    worstMs: Math.round(Math.max(0, ...outcomes.map((o) => o.ms))),
    uncounted: outcomes.filter((o) => o.status === 200 && !o.counted).length,
  };
}

/** A gateway started as users start it (`src/main.ts` under tsx), in a process of its own. */
export interface GatewayProcess {
  readonly base: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr. */
  readonly errors: () => string;
  /** Its resident set size now, in MiB (from /proc). */
  rssMiB(): number;
  /** Its largest RSS sampled (every 250 ms) since it started, in MiB. */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/** Spawns the gateway with `env` added to a clean environment; resolves when it listens. */
export async function spawnGateway(env: Record<string, string>): Promise<GatewayProcess> {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|VITEST|NODE_OPTIONS$|REDIS_URL$|REDIS_CLUSTER$|UPSTREAMS$|TEST$)/i.test(name))
      clean[name] = value;
  }
  const child = spawn(process.execPath, ['--conditions=@portcullis/source', '--import', 'tsx', 'src/main.ts'], {
    cwd: gatewayDir,
    env: { ...clean, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const rss = (): number => {
    try {
      const status = readFileSync(`/proc/${String(child.pid)}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
    } catch {
      return Number.NaN;
    }
  };
  let peak = 0;
  const sampler = setInterval(() => {
    const now = rss();
    if (now > peak) peak = now;
  }, 250);
  await until(
    'the gateway to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`the gateway exited (${String(child.exitCode)}):\n${out}${errors}`);
      return /example gateway on http:\/\/\S+/.test(out);
    },
    60_000,
  );
  const base = /example gateway on (http:\/\/\S+)/.exec(out)?.[1] as string;
  return {
    base,
    child,
    errors: () => errors,
    rssMiB: rss,
    peakRssMiB: () => Math.max(peak, rss()),
    stop: async () => {
      clearInterval(sampler);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The daily quota's remaining units for the caller of `headers`, or undefined while the store cannot say (503). */
export async function dailyRemaining(base: string, headers: Record<string, string>): Promise<number | undefined> {
  const res = await fetch(`${base}/api/quota`, { headers });
  if (res.status === 503) {
    await res.arrayBuffer();
    return undefined;
  }
  if (res.status !== 200) throw new Error(`/api/quota answered ${String(res.status)}: ${await res.text()}`);
  const usage = (await res.json()) as { dimensions: { name: string; remaining: number }[] };
  return usage.dimensions.find((d) => d.name === 'daily')?.remaining;
}

/** Polls {@link dailyRemaining} until the store answers (the usage API is limited to ~1/s: polls gently). */
export async function dailyRemainingWhenUp(base: string, headers: Record<string, string>): Promise<number> {
  let remaining: number | undefined;
  await until(
    'the usage API to read the store',
    async () => {
      remaining = await dailyRemaining(base, headers);
      if (remaining === undefined) await sleep(1_000);
      return remaining !== undefined;
    },
    30_000,
  );
  return remaining as number;
}
