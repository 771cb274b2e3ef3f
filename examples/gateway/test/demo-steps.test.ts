import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { UpstreamPoolSnapshot } from '@portcullis/router';
import { freePort, parsePrometheusText, samplesOf, valueOf } from '@portcullis/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { demoSteps, formatDemoSteps, type DemoStep } from '../src/demo-steps.js';

const gatewayDir = fileURLToPath(new URL('..', import.meta.url));

let child: ChildProcess;
let output = '';
let address = '';

beforeAll(async () => {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
  delete env['REDIS_URL'];
  // The program the README's command starts (pnpm start runs exactly this), on in-memory defaults.
  child = spawn(process.execPath, ['--conditions=@portcullis/source', '--import', 'tsx', 'src/main.ts'], {
    cwd: gatewayDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes('  stop:')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the gateway did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  address = /example gateway on (http:\/\/[\d.:]+)/.exec(output)?.[1] ?? '';
}, 90_000);

afterAll(async () => {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
});

const MARK = '@@@ end of line @@@';

/** Runs a step's lines in one bash, as a user would paste them; the output of each line apart. */
function run(step: DemoStep): string[] {
  const script = step.run.map((line) => `${line}\necho; echo '${MARK}'`).join('\n');
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  expect(result.status).toBe(0);
  return result.stdout.split(`\n${MARK}\n`).map((part) => part.trim());
}

const json = (text: string | undefined): unknown => JSON.parse(text ?? '');
const codes = (text: string | undefined): string[] => (text ?? '').trim().split(/\s+/);

/** What each printed step must show, checked on its output. */
const checks: Record<string, (out: string[]) => void> = {
  token: ([, answer]) => {
    expect(json(answer)).toMatchObject({ upstream: 'users', user: 'alice', tier: 'pro', data: { id: 1 } });
  },
  rotate: ([answer]) => {
    expect((json(answer) as { kid: string }).kid).toEqual(expect.any(String));
  },
  'api key': ([answer]) => {
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toMatch(/^ratelimit-policy: /im);
    expect(answer).toContain('"upstream":"users"');
  },
  'a body': ([answer]) => {
    expect(json(answer)).toMatchObject({ method: 'POST', received: { json: { items: ['p1'] } } });
  },
  head: ([answer]) => {
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toMatch(/^content-length: \d+/im);
  },
  usage: ([answer]) => {
    const usage = json(answer) as { dimensions: { name: string }[] };
    expect(usage.dimensions.map((d) => d.name)).toEqual(['perSecond', 'daily', 'monthly']);
  },
  'burst it': ([answer]) => {
    const got = codes(answer);
    expect(got[0]).toBe('200');
    expect(got).toContain('429');
  },
  balance: ([answer]) => {
    // `uniq -c` lines: a count, then the header naming one instance.
    const lines = (answer ?? '').split('\n').filter((line) => /x-portcullis-instance/i.test(line));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.reduce((sum, line) => sum + Number(/^\s*(\d+)/.exec(line)?.[1] ?? 0), 0)).toBe(30);
  },
  eject: ([, reads, pools]) => {
    expect(codes(reads).every((code) => code === '200')).toBe(true);
    const users = (json(pools) as Record<string, UpstreamPoolSnapshot | undefined>)['users'];
    expect(users?.endpoints.filter((e) => e.ejected || e.breaker === 'open').length).toBe(1);
  },
  'all down': ([, , reads, unseen]) => {
    expect(codes(reads).every((code) => code === '200')).toBe(true);
    expect(unseen).toMatch(/^HTTP\/1\.1 503/);
    expect(unseen).toMatch(/^x-portcullis-served-by: unavailable/im);
    expect(unseen).toMatch(/^retry-after: \d+/im);
  },
  canary: ([answer, state]) => {
    expect(json(answer)).toMatchObject({ upstream: 'orders', version: 'v2' });
    expect(json(state)).toMatchObject({ state: { phase: 'progressing', percent: 10 } });
  },
  rollback: ([, , state, restarted]) => {
    expect(json(state)).toMatchObject({
      state: { phase: 'rolled-back', percent: 0 },
      lastDecision: { action: 'rollback', to: 0 },
    });
    expect(json(restarted)).toMatchObject({ state: { phase: 'progressing', percent: 10 } });
  },
  cors: ([answer]) => {
    expect(answer).toMatch(/^HTTP\/1\.1 204/);
    expect(answer).toMatch(/^access-control-allow-origin: /im);
  },
  health: ([answer, details]) => {
    // Earlier steps left products' breakers open for a few seconds: pass or warn (degraded, ready).
    expect(json(answer)).toEqual({ status: expect.stringMatching(/^(pass|warn)$/) as unknown });
    const checks = (json(details) as { checks: Record<string, unknown> }).checks;
    expect(Object.keys(checks)).toEqual(
      expect.arrayContaining(['upstream:users', 'upstream:orders-v2', 'canary:orders-v2']) as unknown,
    );
  },
  metrics: ([answer]) => {
    // Only the lines the step picks, each a valid sample: nothing at all if /metrics is broken.
    const samples = parsePrometheusText(answer ?? '');
    expect(new Set(samples.map((s) => s.name))).toEqual(
      new Set([
        'portcullis_ratelimit_decisions_total',
        'portcullis_canary_weight_ratio',
        'portcullis_pool_endpoint_breaker_state',
      ]),
    );
    const decisions = samplesOf(samples, 'portcullis_ratelimit_decisions_total', { limiter: 'plans' });
    const count = (result: string, labels: Record<string, string> = {}): number =>
      samplesOf(decisions, 'portcullis_ratelimit_decisions_total', { result, ...labels }).reduce(
        (n, s) => n + s.value,
        0,
      );
    expect(count('allowed')).toBeGreaterThan(0);
    // The 429s of "burst it" (at least one, as its own check requires), by the free plan's per second.
    expect(count('denied', { limited_by: 'perSecond' })).toBeGreaterThanOrEqual(1);
    // "rollback" restarted the release at 10 %.
    expect(valueOf(samples, 'portcullis_canary_weight_ratio', { canary: 'orders-v2' })).toBe(0.1);
    // One line per instance (3 per service, orders-v2 included), state="open" only, 0 or 1.
    const breakers = samplesOf(samples, 'portcullis_pool_endpoint_breaker_state');
    expect(breakers).toHaveLength(12);
    for (const breaker of breakers) {
      expect(breaker.labels['state']).toBe('open');
      expect([0, 1]).toContain(breaker.value);
    }
  },
};

describe('the commands the gateway prints at start', () => {
  test('are printed exactly as this test runs them, and every one is checked', () => {
    expect(output).toContain(formatDemoSteps(demoSteps(address)));
    expect(demoSteps(address).map((s) => s.label)).toEqual(Object.keys(checks));
  });

  test('each does what it says, in the printed order', () => {
    for (const step of demoSteps(address)) {
      const out = run(step);
      try {
        checks[step.label]?.(out);
      } catch (error) {
        throw new Error(`"${step.label}" did not do what it says; its output:\n${out.join('\n---\n')}`, {
          cause: error,
        });
      }
    }
  }, 120_000);
});
