// The packages as a user gets them: packs every publishable package (`pnpm pack`, after `pnpm
// build`), installs the tarballs from the npm registry's point of view into a scratch project outside
// the workspace, type-checks the guides' quick-start examples there exactly as written (ESM, strict),
// runs each one as its own Node process and checks what it answers over HTTP; and type-checks every
// entry point under the older CommonJS setting (`moduleResolution: node10`).
//
// A quick-start example is a code block in docs/*.md whose info string is `ts quickstart=<framework>`;
// the only edit made to it is its port (3000 in the guide, a free port here).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checks } from './e2e-checks.mjs';

const root = new URL('..', import.meta.url).pathname;
const keep = process.env['E2E_KEEP'] === '1';
const work = mkdtempSync(join(tmpdir(), 'portcullis-e2e-'));
const log = (line) => console.log(`e2e: ${line}`);

function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: process.env });
}

function publishablePackages() {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => existsSync(join(path, 'package.json')))
    .map((path) => ({ path, manifest: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private);
}

function quickstarts() {
  const found = [];
  const docs = join(root, 'docs');
  for (const file of readdirSync(docs).filter((name) => name.endsWith('.md'))) {
    const text = readFileSync(join(docs, file), 'utf8');
    for (const match of text.matchAll(/^```ts quickstart=(\w+)\n([\s\S]*?)^```$/gm)) {
      found.push({ guide: file.replace(/\.md$/, ''), framework: match[1], code: match[2] });
    }
  }
  return found;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, output) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`exited with ${String(child.exitCode)} before listening:\n${output()}`);
    // A TCP connection, not a request: an HTTP probe would count against the example's limits.
    const listening = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (listening) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not listening on ${String(port)} after 20 s:\n${output()}`);
}

async function main() {
  const packages = publishablePackages();
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const deps = {};
  for (const { path, manifest } of packages) {
    const out = run('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', tarballs], path).trim().split('\n');
    const tarball = out[out.length - 1];
    deps[manifest.name] = `file:${tarball}`;
  }
  log(`packed ${Object.keys(deps).join(', ')}`);

  const project = join(work, 'app');
  mkdirSync(join(project, 'src'), { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      {
        name: 'portcullis-e2e-app',
        private: true,
        type: 'module',
        dependencies: {
          ...deps,
          '@hono/node-server': '^2.1.9',
          express: '^5.3.0',
          fastify: '^5.12.8',
          hono: '^4.13.19',
          ioredis: '^5.11.1',
          // The optional peers of @portcullis/telemetry's subpaths.
          'prom-client': '^15.1.3',
          '@opentelemetry/api': '^1.9.0',
        },
        devDependencies: { '@types/express': '^5.0.6', '@types/node': '^20.19.43', typescript: '~5.9.3' },
        // The packages depend on each other by version; here every one comes from its tarball.
        overrides: deps,
      },
      null,
      2,
    ),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], project);
  log('installed the tarballs and the frameworks from the registry');

  const examples = quickstarts();
  if (examples.length === 0) throw new Error('no quick-start examples found in docs/*.md');
  const ports = new Map();
  for (const example of examples) {
    const port = await freePort();
    const name = `${example.guide}-${example.framework}`;
    ports.set(name, port);
    const code = example.code.replaceAll(/\blisten\(3000\)|\bport: 3000\b/g, (text) =>
      text.replace('3000', String(port)),
    );
    if (!code.includes(String(port))) throw new Error(`${name}: the example does not listen on port 3000`);
    writeFileSync(join(project, 'src', `${name}.ts`), code);
  }
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        skipLibCheck: false,
        outDir: 'dist',
        rootDir: 'src',
      },
      include: ['src'],
    }),
  );
  try {
    run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], project);
  } catch (error) {
    throw new Error(`the quick-start examples do not compile as written:\n${error.stdout}${error.stderr}`);
  }
  log(`${String(examples.length)} quick-start examples compile (ESM, strict)`);

  // Every entry point under the older CommonJS resolution, types only.
  const cjs = join(project, 'cjs-check');
  mkdirSync(cjs);
  const imports = packages.flatMap(({ manifest }) =>
    Object.keys(manifest.exports)
      .filter((subpath) => subpath !== './package.json')
      .map(
        (subpath, i) =>
          `import * as m${manifest.name.replace(/\W/g, '_')}${String(i)} from '${join(manifest.name, subpath)}';`,
      ),
  );
  writeFileSync(join(cjs, 'entry-points.ts'), `${imports.join('\n')}\nexport {};\n`);
  try {
    run(
      join(project, 'node_modules', '.bin', 'tsc'),
      [
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--esModuleInterop',
        '--module',
        'commonjs',
        '--moduleResolution',
        'node10',
        '--types',
        'node',
        join(cjs, 'entry-points.ts'),
      ],
      project,
    );
  } catch (error) {
    throw new Error(`an entry point does not resolve under moduleResolution node10:\n${error.stdout}${error.stderr}`);
  }
  log(`${String(imports.length)} entry points resolve under moduleResolution node10`);

  let failures = 0;
  for (const example of examples) {
    const name = `${example.guide}-${example.framework}`;
    const check = checks[example.guide];
    if (check === undefined)
      throw new Error(`${name}: no check for guide "${example.guide}" in scripts/e2e-checks.mjs`);
    const port = ports.get(name);
    // A check is a function of the base URL, or { setup, run } when the example needs a peer (an
    // upstream it calls, given to it through the environment).
    const { setup, run: runCheck } = typeof check === 'function' ? { run: check } : check;
    const peer = setup === undefined ? { env: {}, state: undefined, close: async () => {} } : await setup();
    const child = spawn(process.execPath, [join(project, 'dist', `${name}.js`)], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...peer.env },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    try {
      await waitForPort(port, child, () => output);
      await runCheck(`http://127.0.0.1:${String(port)}`, peer.state);
      log(`ok   ${name}`);
    } catch (error) {
      failures++;
      console.error(`e2e: FAIL ${name}: ${error instanceof Error ? error.message : String(error)}\n${output}`);
    } finally {
      child.kill('SIGKILL');
      await peer.close();
    }
  }
  if (failures > 0) throw new Error(`${String(failures)} quick-start example(s) failed`);
}

try {
  await main();
  log('packed packages work as the guides say');
} catch (error) {
  console.error(`e2e: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  if (keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
