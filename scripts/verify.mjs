// `pnpm verify`: every check the project has (lint, typecheck, tests, docs site and its browser
// test, the packed packages end to end), with the time each took.
//
// Most checks use one core (ESLint, tsc, typedoc, the packed e2e's installs), so on a 2-core machine
// they run two at a time, in two lanes whose steps keep their order; vitest, which fills every
// core with its workers, runs alone. Each step's output is printed whole when it ends, under its
// name, so lanes never interleave lines. A failed step fails the run after its lane partner ends.
import { spawn } from 'node:child_process';

/** Phases run one after the other; the lanes of a phase run side by side. */
const PHASES = [
  [
    [
      ['eslint', 'pnpm', ['exec', 'eslint', '.']],
      ['prettier', 'pnpm', ['exec', 'prettier', '--check', '.']],
    ],
    [
      ['build', 'pnpm', ['build']],
      ['check-packages', 'node', ['scripts/check-packages.mjs']],
      ['typecheck', 'pnpm', ['typecheck']],
    ],
  ],
  [[['test', 'pnpm', ['test'], { live: true }]]],
  [
    [
      ['docs:build', 'pnpm', ['run', 'docs:build']],
      ['docs:test', 'pnpm', ['run', 'docs:test']],
    ],
    [['e2e', 'pnpm', ['run', 'e2e']]],
  ],
];

const root = new URL('..', import.meta.url).pathname;
const timings = [];

/** Runs one step; resolves to its exit code. A live step streams its output (vitest's progress). */
function runStep([name, command, args, options = {}]) {
  const started = Date.now();
  process.stdout.write(`verify: ${name} started\n`);
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: process.env['FORCE_COLOR'] ?? '0' },
      stdio: options.live ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    const chunks = [];
    child.stdout?.on('data', (chunk) => chunks.push(chunk));
    child.stderr?.on('data', (chunk) => chunks.push(chunk));
    child.on('error', (error) => chunks.push(Buffer.from(`${String(error)}\n`)));
    child.on('close', (code, signal) => {
      const seconds = (Date.now() - started) / 1000;
      const status = code === 0 ? 'passed' : `FAILED (${signal ?? `exit ${String(code)}`})`;
      const output = Buffer.concat(chunks).toString('utf8');
      if (output !== '') process.stdout.write(`\n── ${name} ──\n${output}${output.endsWith('\n') ? '' : '\n'}`);
      process.stdout.write(`verify: ${name} ${status} in ${seconds.toFixed(0)} s\n`);
      timings.push([name, seconds, code === 0]);
      resolve(code === 0 ? 0 : 1);
    });
  });
}

async function runLane(steps) {
  for (const step of steps) if ((await runStep(step)) !== 0) return 1;
  return 0;
}

const started = Date.now();
let failed = false;
for (const lanes of PHASES) {
  const codes = await Promise.all(lanes.map(runLane));
  if (codes.some((code) => code !== 0)) {
    failed = true;
    break;
  }
}
const total = ((Date.now() - started) / 1000).toFixed(0);
process.stdout.write(
  `\nverify: ${failed ? 'FAILED' : 'passed'} in ${total} s (${timings.map(([n, s]) => `${n} ${s.toFixed(0)} s`).join(', ')})\n`,
);
process.exit(failed ? 1 : 0);
