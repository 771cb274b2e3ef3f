/**
 * Runs every benchmark report in order, prints each as markdown on stdout and writes it to
 * bench/results/: the rate-limit report (memory, Redis, memory bound → ratelimit.md), the JWT
 * report (jwt.ts → jwt-cache.md), the breaker report (circuit-breaker.ts → circuit-breaker.md), the
 * DataLoader report (dataloader.ts → dataloader-guard.md), the routing report (router.ts → router.md),
 * the balancers report (balancers.ts → balancers.md), the forwarding report (forwarding.ts →
 * forwarding.md), the end-to-end gateway report (gateway-e2e.ts → gateway.md) and the health report
 * (health.ts → health.md).
 * Progress goes to stderr.
 *
 *     cd bench && pnpm bench            # node --conditions=@portcullis/source --import tsx src/run-all.ts
 *     pnpm bench -- --only jwt-cache    # one report (ratelimit | jwt-cache | circuit-breaker | dataloader-guard | router | balancers | forwarding | gateway | health)
 *
 * Each part runs in its own node process (the memory part with --expose-gc).
 *     pnpm bench -- --quick             # a fast smoke run of the harness; numbers not meant to be quoted
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environment, log, quick, runSectionChild, type Section } from './common.js';
import { runMemoryBound } from './memory-bound.js';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = environment();
const script = process.argv[1] === undefined ? '' : relative(benchDir, process.argv[1]);
const command = ['node', ...process.execArgv, script, ...process.argv.slice(2).filter((a) => a !== '--')].join(' ');

/** One report: its parts, and what its header says. */
interface Report {
  readonly name: string;
  readonly file: string;
  readonly title: string;
  readonly versions: string;
  readonly ratios: string;
  readonly parts: readonly { name: string; run: () => Promise<Section> }[];
}

const reports: readonly Report[] = [
  {
    name: 'ratelimit',
    file: 'ratelimit.md',
    title: '# @portcullis/ratelimit benchmarks',
    versions:
      '- Versions: @portcullis/ratelimit from source (`@portcullis/source` condition, compiled by tsx), ' +
      'rate-limiter-flexible 11, express-rate-limit 8, ioredis 5',
    ratios: '- Ratios are ours ÷ theirs in decisions per second: above 1 means ours is faster.',
    // Each part runs in a fresh node process: the memory part leaves ~100k-key limiters (and
    // rate-limiter-flexible's 60 s per-key timers) behind, which would otherwise slow down and time
    // out the Redis part. memory-bound spawns one process per library itself.
    parts: [
      { name: 'memory', run: () => runSectionChild('ratelimit-memory.ts', true) },
      { name: 'redis', run: () => runSectionChild('ratelimit-redis.ts') },
      { name: 'memory-bound', run: runMemoryBound },
    ],
  },
  {
    name: 'jwt-cache',
    file: 'jwt-cache.md',
    title: '# @portcullis/jwt-cache benchmarks',
    versions:
      '- Versions: @portcullis/jwt-cache from source (`@portcullis/source` condition, compiled by tsx), ' +
      'jose 6, fast-jwt 6, jsonwebtoken 9 with jwks-rsa 4',
    ratios: '- Ratios are verifications per second of the row ÷ raw `jose.jwtVerify`: above 1 means faster.',
    parts: [{ name: 'jwt', run: () => runSectionChild('jwt.ts') }],
  },
  {
    name: 'circuit-breaker',
    file: 'circuit-breaker.md',
    title: '# @portcullis/circuit-breaker benchmarks',
    versions:
      '- Versions: @portcullis/circuit-breaker from source (`@portcullis/source` condition, compiled by tsx), ' +
      'opossum 10, cockatiel 4',
    ratios: '- Ratios are theirs ÷ ours in time (or overhead) per call: above 1 means ours costs less.',
    parts: [{ name: 'breaker', run: () => runSectionChild('circuit-breaker.ts') }],
  },
  {
    name: 'dataloader-guard',
    file: 'dataloader-guard.md',
    title: '# @portcullis/dataloader-guard benchmarks',
    versions:
      '- Versions: @portcullis/dataloader-guard from source (`@portcullis/source` condition, compiled by tsx), ' +
      'dataloader 2',
    ratios: '- Ratios are ours ÷ `dataloader` in time (or instructions) per load: above 1 means ours costs more.',
    // --expose-gc: a GC before each sample, outside the timing.
    parts: [{ name: 'dataloader', run: () => runSectionChild('dataloader.ts', true) }],
  },
  {
    name: 'router',
    file: 'router.md',
    title: '# @portcullis/router benchmarks',
    versions:
      '- Versions: @portcullis/router from source (`@portcullis/source` condition, compiled by tsx), ' +
      'find-my-way 9, hono 4 (RegExpRouter)',
    ratios: '- Ratios are ours ÷ theirs in time per lookup: above 1 means ours takes longer.',
    parts: [{ name: 'router', run: () => runSectionChild('router.ts') }],
  },
  {
    name: 'balancers',
    file: 'balancers.md',
    title: '# @portcullis/router balancers benchmarks',
    versions:
      '- Versions: @portcullis/router from source (`@portcullis/source` condition, compiled by tsx), ' +
      'wrr-pool 1, load-balancers 1, skeleton-rendezvous 1, hashring 3, consistent-hash 1',
    ratios: '- Ratios are ours ÷ theirs in time per pick: above 1 means ours takes longer.',
    // --expose-gc: the part measures what a pick allocates (heap growth after a forced GC).
    parts: [{ name: 'balancers', run: () => runSectionChild('balancers.ts', true) }],
  },
  {
    name: 'forwarding',
    file: 'forwarding.md',
    title: '# @portcullis/router forwarding benchmarks',
    versions:
      '- Versions: @portcullis/router from its build (`dist/`, built by the part when missing or stale) on undici 7, ' +
      'Fastify 5, @fastify/http-proxy 11 (@fastify/reply-from 12, undici 7), nginx from Debian, autocannon 8',
    ratios: '- Ratios are ours ÷ theirs, paired by round: requests/s above 1 means ours serves more.',
    // The proxies and the upstream run in their own processes, started by the part itself.
    parts: [{ name: 'forwarding', run: () => runSectionChild('forwarding.ts') }],
  },
  {
    name: 'gateway',
    file: 'gateway.md',
    title: '# The example gateway end to end: load benchmarks',
    versions:
      '- Versions: examples/gateway compiled by tsx on @portcullis/* from their build (`dist/`, built by the part ' +
      'when missing or stale), Fastify 5, undici 7; @fastify/http-proxy 11 (@fastify/reply-from 12); nginx from Debian; autocannon 8',
    ratios: '- Ratios are gateway ÷ theirs, paired by round: requests/s above 1 means the gateway serves more.',
    // The gateway, its peers and the upstream run in their own processes, started by the part itself.
    parts: [{ name: 'gateway', run: () => runSectionChild('gateway-e2e.ts') }],
  },
  {
    name: 'health',
    file: 'health.md',
    title: '# @portcullis/health benchmarks',
    versions:
      '- Versions: @portcullis/health from source (`@portcullis/source` condition, compiled by tsx), ' +
      '@godaddy/terminus 4',
    ratios: '- Ratios are paired by round; each table says which way: above 1 means ours is faster.',
    parts: [{ name: 'health', run: () => runSectionChild('health.ts') }],
  },
];

const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex === -1 ? undefined : process.argv[onlyIndex + 1];
if (only !== undefined && !reports.some((r) => r.name === only)) {
  throw new Error(`--only: expected one of ${reports.map((r) => r.name).join(', ')}, got ${only}`);
}

/**
 * Formats the report with the repository's Prettier (a root devDependency), so the written file
 * passes `prettier --check` and its tables line up; returned as it is when Prettier is not there.
 */
async function formatMarkdown(markdown: string, filepath: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(filepath)) ?? {};
    return await prettier.format(markdown, { ...config, filepath });
  } catch (error) {
    log(`report left unformatted (${error instanceof Error ? error.message : String(error)})`);
    return markdown;
  }
}

let failed = false;
for (const report of reports) {
  if (only !== undefined && report.name !== only) continue;
  const started = new Date();
  const sections: Section[] = [];
  for (const part of report.parts) {
    const t0 = performance.now();
    try {
      sections.push(await part.run());
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`${part.name} failed: ${message}`);
      sections.push({ title: `${part.name} (failed)`, markdown: `\`\`\`\n${message}\n\`\`\`` });
    }
    log(`${part.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  const elapsed = (Date.now() - started.getTime()) / 1000;
  const markdown = [
    report.title,
    '',
    quick ? '> **Quick mode** (`--quick`): a smoke run with small samples. Do not quote these numbers.\n' : '',
    `- Command: \`cd bench && ${command}\` (the \`bench\` script of bench/package.json)`,
    `- Node ${env.node} on ${env.platform}; CPU: ${env.cpu} × ${env.cores}; load average at start: ${env.load}`,
    `- Date: ${started.toISOString()}; whole run ${elapsed.toFixed(0)} s`,
    report.versions,
    report.ratios,
    '',
    ...sections.flatMap((s) => [`## ${s.title}`, '', s.markdown, '']),
  ]
    .filter((line, i, all) => !(line === '' && all[i - 1] === ''))
    .join('\n');

  const out = join(benchDir, 'results', report.file);
  const formatted = await formatMarkdown(markdown, out);
  process.stdout.write(formatted);
  if (quick) {
    log(`quick mode: bench/results/${report.file} left as it was`);
  } else {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, formatted);
    log(`wrote ${relative(process.cwd(), out) || out}`);
  }
}
if (failed) process.exitCode = 1;
